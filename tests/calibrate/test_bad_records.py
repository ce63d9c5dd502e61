"""The malformed call-record corpus: every file in ``bad_records/`` and the error ``read_records`` must give.

Each ``bad_records/*.csv`` is a few rows of valid records (``good.csv``) with one kind of fault,
except ``several_faults.csv`` and ``many_bad_rows.csv``. The tables below say, per file, which
column the reader must blame, on which file line (the header is line 1; ``None`` for a problem
with the whole file or a whole column) and a piece of the message. Line numbers are the file's
own, also after blank lines and quoted cells that span lines.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simcc.calibrate import OUTCOMES, read_records
from simcc.cli import app
from simcc.errors import RecordsError

BAD = Path(__file__).parent / "bad_records"
runner = CliRunner()


#: (file, column blamed, file line or None, substring of the problem's message or hint; None = any message).
#: Each file has one fault and must give exactly one problem.
ONE_FAULT = [
    ("missing_arrival.csv", "arrival", None, "column missing (the file has: call_id, caller_id, entry"),
    ("missing_arrival.csv", "arrival", None, "map it with --column arrival=NAME"),
    ("missing_talk_s.csv", "talk_s", None, "column missing"),
    ("bad_timestamp.csv", "arrival", 5, "'2026-03-02 8h18' is not a timestamp (ISO 8601"),
    ("negative_wait.csv", "wait_s", 6, "negative duration -22.1"),
    ("nan_talk.csv", "talk_s", 2, "'nan' (not a number) is not a duration"),
    ("non_numeric_hold.csv", "hold_s", 5, "'abc' is not a number of seconds"),
    ("absurd_duration.csv", "talk_s", 6, "999999 s is longer than a day"),
    ("infinite_acw.csv", "acw_s", 6, "inf s is longer than a day"),
    ("unknown_outcome.csv", "outcome", 5, "'ANSWERD' is not an outcome; choose from blocked"),
    ("answered_no_group.csv", "group", 6, "empty, but the call was answered"),
    ("answered_no_call_type.csv", "call_type", 2, "empty, but the call reached an agent queue (answered)"),
    ("duplicate_call_id.csv", "call_id", 8, "'c3' repeats the call id of line 4"),
    ("empty_call_id.csv", "call_id", 7, "empty"),
    ("empty_entry.csv", "entry", 3, "empty (ivr, or the call type dialled directly)"),
    ("abandoned_no_wait.csv", "wait_s", 3, "empty, but an abandoned call needs it"),
    ("callback_no_wait.csv", "wait_s", 8, "empty, but a callback call needs it"),
    ("answered_no_talk.csv", "talk_s", 5, "empty, but an answered call needs it"),
    ("header_only.csv", "file", None, "no records (only a header row)"),
    ("empty_file.csv", "file", None, "not a readable CSV file"),
    ("latin1.csv", "file", None, "not UTF-8 text"),
    ("latin1.csv", "file", None, "save the export as UTF-8"),
    ("utf16.csv", "file", None, "not UTF-8 text"),
    ("binary_garbage.csv", "file", None, "not UTF-8 text"),
    ("ragged_row.csv", "file", 6, "Expected 13 fields in line 6, saw 14"),
    ("blank_line_inside.csv", "wait_s", 8, "negative duration -4"),
    ("quoted_newline.csv", "wait_s", 8, "negative duration -4"),
    ("mixed_offsets_bad_first.csv", "arrival", 2, "'2026-13-02T08:15:30+01:00' is not a timestamp"),
    ("duplicate_header.csv", "wait_s", 1, "appears more than once in the header"),
    ("quoted_blank_call_id.csv", "call_id", 4, "empty"),
]


@pytest.mark.parametrize(("name", "column", "line", "text"), ONE_FAULT)
def test_one_fault_one_clear_problem(name, column, line, text):
    path = BAD / name
    with pytest.raises(RecordsError) as info:
        read_records(path)
    err = info.value
    problems = [(p.path, p.line, p.message) for p in err.problems]
    assert err.total == 1 and len(err.problems) == 1, problems
    p = err.problems[0]
    assert (p.path, p.line) == (column, line), problems
    if text is not None:
        assert text in str(p), problems
    rendered = str(err)
    assert rendered.startswith(f"unreadable call records {path}: 1 problem")
    assert (f"{column} (line {line}): " if line is not None else f"{column}: ") in rendered


def test_every_corpus_file_is_in_a_table():
    tabled = {c.values[0] if hasattr(c, "values") else c[0] for c in ONE_FAULT}
    tabled |= {"several_faults.csv", "many_bad_rows.csv", "good.csv", "good_bom.csv", "start_time.csv",
               "outcome_codes.csv", "start_time_and_arrival.csv"}
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == tabled
    assert len(on_disk) >= 18


# ----------------------------------------------------------------------
# several faults at once, and many
# ----------------------------------------------------------------------
#: (column, line, substring) of each fault in several_faults.csv.
SEVERAL = [
    ("arrival", 3, "'yesterday' is not a timestamp"),
    ("talk_s", 5, "negative duration -240"),
    ("outcome", 7, "'BLOKED' is not an outcome"),
    ("call_id", 9, "'c2' repeats the call id of line 3"),
    ("group", 10, "empty, but the call was answered"),
]


def test_several_faults_are_reported_together():
    with pytest.raises(RecordsError) as info:
        read_records(BAD / "several_faults.csv")
    err = info.value
    assert err.total == len(SEVERAL) == len(err.problems)
    got = sorted((p.path, p.line, p.message) for p in err.problems)
    for (column, line, text), (g_col, g_line, g_msg) in zip(sorted(SEVERAL), got):
        assert (g_col, g_line) == (column, line) and text in g_msg, got
        assert f"{column} (line {line}): " in str(err)
    assert str(err).startswith(f"unreadable call records {BAD / 'several_faults.csv'}: 5 problems")
    assert err.counts == {"arrival": 1, "talk_s": 1, "outcome": 1, "call_id": 1, "group": 1}


def test_many_bad_rows_are_counted_but_the_message_is_capped():
    with pytest.raises(RecordsError) as info:
        read_records(BAD / "many_bad_rows.csv")
    err = info.value
    assert err.total == 60 and err.counts == {"talk_s": 60}
    shown = [p for p in err.problems if "more problems" not in p.message]
    assert len(shown) == RecordsError.MAX_PER_FIELD
    assert [p.line for p in shown] == [3, 4, 5, 6, 7]          # line 2 is one of the five good rows
    assert all(p.path == "talk_s" and p.message == "negative duration -1" for p in shown)
    text = str(err)
    assert text.splitlines()[0].endswith(": 60 problems")
    assert "... and 55 more problems here (not shown)" in text
    assert len(text.splitlines()) == 1 + RecordsError.MAX_PER_FIELD + 1


# ----------------------------------------------------------------------
# exports with their own names, skipping bad rows, a good file
# ----------------------------------------------------------------------
def test_good_file_reads_every_row():
    rec = read_records(BAD / "good.csv")
    assert len(rec) == 8
    assert list(rec.line) == list(range(2, 10))
    assert list(rec.call_id) == [f"c{i}" for i in range(1, 9)]
    assert rec.days == ["2026-03-02"] and rec.arrival_s[0] == 8 * 3600 + 15 * 60 + 30
    assert [OUTCOMES[o] for o in rec.outcome] == ["answered", "abandoned", "contained", "answered", "answered",
                                                  "blocked", "callback", "ivr_abandoned"]
    assert rec.skipped == {}


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column():
    rec = read_records(BAD / "good_bom.csv")
    assert len(rec) == 8 and list(rec.call_id) == [f"c{i}" for i in range(1, 9)]


def test_column_mapping_reads_an_export_with_its_own_name():
    rec = read_records(BAD / "start_time.csv", columns={"arrival": "StartTime"})
    good = read_records(BAD / "good.csv")
    assert len(rec) == 8
    np.testing.assert_array_equal(rec.arrival_s, good.arrival_s)


def test_unmapped_export_name_is_a_missing_column_with_a_hint():
    with pytest.raises(RecordsError) as info:
        read_records(BAD / "start_time.csv")
    (p,) = info.value.problems
    assert p.path == "arrival" and p.line is None
    assert "StartTime" in p.message and p.hint == "map it with --column arrival=NAME"


def test_unknown_canonical_name_in_columns_is_named():
    with pytest.raises(RecordsError) as info:
        read_records(BAD / "start_time.csv", columns={"arrivl": "StartTime"})
    (p,) = info.value.problems
    assert p.path == "columns.arrivl"
    assert "unknown canonical column; choose from call_id" in p.message
    assert "columns.arrivl: unknown canonical column" in str(info.value)


def test_mapping_onto_a_column_the_file_also_has():
    try:
        rec = read_records(BAD / "start_time_and_arrival.csv", columns={"arrival": "StartTime"})
    except RecordsError as err:
        assert any(p.path == "arrival" for p in err.problems), str(err)
    else:
        assert rec.arrival_s[0] == 9 * 3600 + 15 * 60 + 30       # StartTime, not the file's own arrival


def test_mapped_name_absent_from_the_file_is_named():
    with pytest.raises(RecordsError) as info:
        read_records(BAD / "good.csv", columns={"arrival": "StartTime"})
    (p,) = info.value.problems
    assert p.path == "arrival" and "StartTime" in str(p)


CODES = {"ANS": "answered", "ABN": "abandoned", "SS": "contained", "BSY": "blocked", "CB": "callback",
         "HUP": "ivr_abandoned"}


def test_outcome_values_map_an_exports_codes():
    rec = read_records(BAD / "outcome_codes.csv", outcome_values=CODES)
    good = read_records(BAD / "good.csv")
    assert len(rec) == 8
    np.testing.assert_array_equal(rec.outcome, good.outcome)


def test_outcome_codes_left_unmapped_are_each_reported():
    with pytest.raises(RecordsError) as info:
        read_records(BAD / "outcome_codes.csv", outcome_values={"ANS": "answered"})
    err = info.value
    # ANS (lines 2, 5, 6) is mapped; ABN, SS, BSY, CB, HUP are not
    assert err.total == 5 and {p.path for p in err.problems} == {"outcome"}
    assert [p.line for p in err.problems] == [3, 4, 7, 8, 9]
    assert "'ABN' is not an outcome" in err.problems[0].message


def test_skip_bad_drops_the_bad_rows_and_counts_them_by_reason():
    rec = read_records(BAD / "several_faults.csv", skip_bad=True)
    assert len(rec) == 10 - len(SEVERAL)
    assert list(rec.line) == [2, 4, 6, 8, 11]
    assert rec.skipped == {"bad timestamp": 1, "talk_s negative": 1, "unknown outcome": 1,
                           "duplicated call_id": 1, "group missing": 1}


def test_skip_bad_keeps_the_message_for_a_file_with_no_good_row():
    with pytest.raises(RecordsError, match="no records"):
        read_records(BAD / "header_only.csv", skip_bad=True)


# ----------------------------------------------------------------------
# the command line: exit code 2, the column and line named, no traceback
# ----------------------------------------------------------------------
def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


#: (file, extra arguments, column, line or None, substring of the output)
CLI = [
    ("negative_wait.csv", (), "wait_s", 6, "negative duration -22.1"),
    ("unknown_outcome.csv", (), "outcome", 5, "'ANSWERD' is not an outcome"),
    ("missing_arrival.csv", (), "arrival", None, "map it with --column arrival=NAME"),
    ("latin1.csv", (), "file", None, "not UTF-8 text"),
    ("outcome_codes.csv", ("--outcome", "ANS=answered"), "outcome", 3, "'ABN' is not an outcome"),
    ("mixed_offsets_bad_first.csv", (), "arrival", 2, "is not a timestamp"),
]


@pytest.mark.parametrize(("name", "extra", "column", "line", "text"), CLI)
def test_fit_on_bad_records_exits_2_naming_column_and_line(name, extra, column, line, text):
    r = invoke("fit", BAD / name, *extra)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert text in r.output
    assert name in "".join(r.output.split())                  # the file is named (the title may wrap)
    if line is None:
        assert re.search(rf"(^|\W){re.escape(column)}\W", r.output), r.output
    else:     # a table row: line, then column
        assert re.search(rf"(^|\W){line}\W+{re.escape(column)}\W", r.output), r.output
