"""Calibration: call records in, a fitted scenario out, and a backtest against the recorded days.

``read_records`` reads and checks the record format (docs/records.md);
``fit`` estimates every scenario parameter with its uncertainty and builds a
scenario; ``backtest`` simulates the recorded days and judges each recorded
value against the simulated prediction band. This layer uses the scenario
model and the public run API only.
"""
from __future__ import annotations

from .backtest import Backtest, backtest, recorded_kpis
from .estimators import Estimate, fit_duration, fit_patience, fit_return, kaplan_meier
from .fit import Fit, FitReport, fit, histories, read_headcount
from .records import COLUMNS, OUTCOMES, Records, read_records, records_from_logs, write_records

__all__ = [
    "COLUMNS", "OUTCOMES", "Backtest", "Estimate", "Fit", "FitReport", "Records", "backtest", "fit",
    "fit_duration", "fit_patience", "fit_return", "histories", "kaplan_meier", "read_headcount", "read_records",
    "recorded_kpis", "records_from_logs", "write_records",
]
