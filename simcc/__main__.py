"""``python -m simcc``: the same as the ``simcc`` command."""
from simcc.cli import main

main()
