"""CLI commands for planners' answers: staffing, trunks, report (registered on simcc.cli.app)."""
