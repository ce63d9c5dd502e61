"""The present layer: finished results rendered for people (charts, the HTML report). It runs nothing.

``plot`` (matplotlib figures, no pyplot), ``rosterplot`` (the per-agent roster
picture and the ``simcc roster`` output folder), ``report`` (the offline HTML
report of a planning study), ``html`` (small HTML tables for notebooks).
"""
