"""simcc report: the HTML page and its charts, written atomically, opened in a real headless browser."""
import io
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

import simcc

pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from simcc.cli import app  # noqa: E402
from simcc.plan import study  # noqa: E402
from simcc.present import report as report_mod  # noqa: E402
from simcc.present.report import ReportError  # noqa: E402


def write_report(scenario, out, **options):
    """A planning study of ``scenario``, rendered into ``out``."""
    return report_mod.write_report(study(scenario, **options), out)

QZ = "scenarios/quanzhou-10000.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def rep(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "quanzhou"
    return write_report(simcc.load(QZ), out, seed=2, replications=4)


class Tables(HTMLParser):
    """Collects every table's class and rows (cell texts) from a page."""

    def __init__(self):
        super().__init__()
        self.tables, self.imgs, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"class": a.get("class", ""), "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "img":
            self.imgs.append(a["src"])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(self._cell.strip())
            self._cell = None

    def table(self, cls):
        return next(t["rows"] for t in self.tables if t["class"] == cls)


def parse(path):
    p = Tables()
    p.feed(open(path, encoding="utf-8").read())
    return p


def test_report_folder_and_page(rep):
    assert sorted(os.listdir(rep.out_dir)) == sorted(
        ["index.html", "service_level.png", "agents.png", "queue_lines.png", "comparison.png",
         "staffing.csv", "intervals.csv"])
    page = parse(rep.index)
    # every chart is linked relatively and exists beside the page
    assert page.imgs == ["service_level.png", "agents.png", "queue_lines.png", "comparison.png"]
    for src in page.imgs:
        assert not src.startswith(("/", "http")) and os.path.getsize(os.path.join(rep.out_dir, src)) > 20_000
    # SLA table: each line of the scenario with its measured value and a verdict
    sla = page.table("sla")
    assert sla[0] == ["SLA line", "target", "measured (mean)", "95% CI", "result"]
    lines = {row[0]: row for row in sla[1:]}
    assert set(lines) == {"answered within 15 s", "abandonment", "after-call work per call", "HOLD per held call",
                          "first-call resolution"}
    for want in rep.result.sla_report():
        assert lines[want["sla"]][-1] == ("PASS" if want["passed"] else "FAIL")
    html = open(rep.index, encoding="utf-8").read()
    assert rep.result.meta["sl_definition"]["text"] in html
    assert "answered within 15 s / queued" in html
    # per-interval KPIs with CI: one row per interval plus the header
    iv = page.table("intervals")
    assert len(iv) == 49 and iv[0][:2] == ["interval", "offered"] and iv[22][0] == "10:30"
    assert iv[22][6].count("%") == 2                        # "a% – b%"
    # staffing table beside Erlang, totals, roster, trunks, day summary
    st = page.table("staffing")
    assert {"required", "Erlang A", "Erlang C", "general", "fault", "complaint"} <= set(st[0])
    assert len(st) == 49
    assert [r[1] for r in st[1:]] == [str(v) for v in rep.plan.total]
    assert page.table("totals")[1][0] == "required (simulation)"
    assert "E1" in " ".join(" ".join(r) for r in page.table("trunks"))
    assert {r[0] for r in page.table("summary")[1:]} >= {"service_level", "abandon_rate", "occupancy"}
    assert rep.rosters["all"].agents > 0 and "roster" in [t["class"] for t in page.tables]


def test_report_replaces_an_earlier_report_atomically(rep, tmp_path):
    out = tmp_path / "r"
    scn = simcc.textbook.erlang(arrival_rate=0.2, mean_talk_s=180, agents=45, mean_patience_s=120, hours=2)
    first = write_report(scn, out, replications=3, staff=False, trunks=False, shifts=False, sweep=())
    assert "agents.png" in first.files and "staffing.csv" not in first.files
    second = write_report(scn, out, replications=3, seed=5, staff=False, trunks=False, shifts=False, sweep=())
    assert 'seed 5' in open(second.index).read()
    assert sorted(os.listdir(tmp_path)) == ["r"]                 # no staging or old folders left behind


def test_report_refuses_a_folder_that_is_not_a_report(tmp_path):
    scn = simcc.textbook.erlang(arrival_rate=0.2, mean_talk_s=180, agents=45, hours=1)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ReportError, match="not a simcc report"):
        write_report(scn, other, replications=2, staff=False, trunks=False, sweep=())
    assert os.listdir(other) == ["notes.txt"]
    file_target = tmp_path / "file"
    file_target.write_text("x")
    with pytest.raises(ReportError, match="not a folder"):
        write_report(scn, file_target, replications=2, staff=False, trunks=False, sweep=())


def test_a_failed_report_leaves_the_previous_one(tmp_path, monkeypatch):
    scn = simcc.textbook.erlang(arrival_rate=0.2, mean_talk_s=180, agents=45, hours=1)
    out = tmp_path / "r"
    write_report(scn, out, replications=2, staff=False, trunks=False, sweep=())
    before = {n: open(out / n, "rb").read() for n in os.listdir(out)}

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(report_mod, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_report(scn, out, replications=2, seed=9, staff=False, trunks=False, sweep=())
    assert {n: open(out / n, "rb").read() for n in os.listdir(out)} == before
    assert sorted(os.listdir(tmp_path)) == ["r"]


def test_cli_report(tmp_path):
    out = tmp_path / "rep"
    r = runner.invoke(app, ["report", "scenarios/textbook-erlang-a.yaml", "--out", str(out), "-r", "3",
                            "--no-trunks"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "index.html" in r.output and "SLA:" in r.output
    assert (out / "index.html").exists() and (out / "staffing.csv").exists()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    r = runner.invoke(app, ["report", "scenarios/textbook-erlang-a.yaml", "--out", str(tmp_path / "busy"), "-r", "2"])
    assert r.exit_code == 2 and "not a simcc report" in r.output and "Traceback" not in r.output


# --------------------------------------------------------------------------
# a real browser (Debian's chromium; CI installs it, a bare machine skips)
# --------------------------------------------------------------------------
def chromium():
    for path in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if path and os.access(path, os.X_OK):
            return path
    return None


def browse(page, tmp_path, *extra):
    exe = chromium()
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); the browser test needs it")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", *extra, f"file://{os.path.abspath(page)}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_report_in_a_headless_browser(rep, tmp_path):
    dom = browse(rep.index, tmp_path, "--dump-dom")
    # the page's own script ran after load and found every chart decoded
    assert 'data-images-loaded="all"' in dom and 'data-image-count="4"' in dom
    assert re.search(r'<table class="sla">.*?answered within 15 s.*?(PASS|FAIL)', dom, re.S)
    assert 'id="sl-definition">answered within 15 s / queued<' in dom
    shot = tmp_path / "shot.png"
    browse(rep.index, tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars")
    img = imread(io.BytesIO(shot.read_bytes()), format="png")[..., :3]
    assert img.shape[:2] == (2400, 1280)
    assert img.mean(axis=2).std() > 0.05                     # text, tables and charts, not a blank page
    # charts are on screen: the service-level blue appears in the screenshot
    blue = np.all(np.abs(img - np.array([0x1f, 0x77, 0xb4]) / 255) < 0.04, axis=2).sum()
    assert blue > 200


def test_browser_notices_a_missing_chart(rep, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(rep.out_dir, broken)
    os.remove(broken / "queue_lines.png")
    dom = browse(broken / "index.html", tmp_path, "--dump-dom")
    assert 'data-images-loaded="missing:queue_lines.png"' in dom


def test_the_old_report_module_path_still_runs_the_study(tmp_path):
    """``from simcc import report; report.write_report(scenario, out)`` as documented before 0.2."""
    from simcc import report as old
    scn = simcc.textbook.erlang(arrival_rate=0.2, mean_talk_s=180, agents=45, hours=1)
    rep = old.write_report(scn, tmp_path / "r", replications=2, staff=False, trunks=False, shifts=False, sweep=())
    assert os.path.exists(rep.index) and old.ReportError is ReportError
