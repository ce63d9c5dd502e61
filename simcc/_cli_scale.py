"""CLI commands for replications at scale and sweeps (registered on simcc.cli.app)."""
