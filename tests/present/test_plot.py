"""Charts (simcc.plot): rendered, then their content checked against the result they draw."""
import io

import numpy as np
import pytest

import simcc

pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

from simcc import plot  # noqa: E402
from simcc.plan import staff  # noqa: E402
from simcc.plan.shifts import cover, templates  # noqa: E402

QZ = "scenarios/quanzhou-10000.yaml"


@pytest.fixture(scope="module")
def qz():
    return simcc.simulate(simcc.load(QZ), seed=4, replications=4)


@pytest.fixture(scope="module")
def small_plan():
    s = simcc.textbook.erlang(arrival_rate=100 / 1800, mean_talk_s=180, agents=12, mean_patience_s=300,
                              hours=4, warmup_hours=1, sl_threshold_s=20)
    return staff(s, target_sl=0.8, within_s=20, abandon_max=None, replications=10, verify=False)


def line(ax, label):
    found = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert found, f"no line labelled {label!r}: {[ln.get_label() for ln in ax.get_lines()]}"
    return found[0]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def pixels(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


def nan_equal(a, b):
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)


def test_service_level_figure_draws_the_result(qz):
    fig = plot.service_level_figure(qz)
    ax1, ax2 = fig.axes
    iv = qz.by_interval()
    sl = line(ax1, "service level (15 s)")
    assert nan_equal(sl.get_ydata(), 100 * iv["service_level"])
    assert nan_equal(sl.get_xdata(), (np.arange(48) + 0.5) / 2)          # interval middles, hours
    target = line(ax1, "target 90%")
    assert list(target.get_ydata()) == [90, 90]
    assert ax1.get_ylabel() == "service level (%)" and ax2.get_ylabel() == "abandonment (%)"
    assert ax2.get_xlabel() == "time of day (h)"
    assert {"95% CI", "target band", "target 90%", "service level (15 s)"} <= set(legend_texts(ax1))
    ab = line(ax2, "abandonment")
    assert nan_equal(ab.get_ydata(), 100 * iv["abandon_rate"])
    assert list(line(ax2, "max 5%").get_ydata()) == [5, 5]
    # the CI band spans exactly the result's interval CI
    band = ax1.collections[0].get_paths()[0].vertices[:, 1]
    assert np.nanmin(band) == pytest.approx(np.nanmin(100 * iv["service_level_ci_low"]))
    assert np.nanmax(band) == pytest.approx(np.nanmax(100 * iv["service_level_ci_high"]))


def test_service_level_figure_marks_the_warm_up():
    r = simcc.simulate(simcc.load("scenarios/textbook-erlang-a.yaml"), seed=1, replications=3)
    fig = plot.service_level_figure(r)
    assert "warm-up (not measured)" in legend_texts(fig.axes[0])
    assert list(line(fig.axes[0], "target 80%").get_ydata()) == [80, 80]


def test_agents_figure_for_a_plan_and_roster(small_plan):
    roster = cover(small_plan.total, templates(8, 30, length_hours=2), 30)
    fig = plot.agents_figure_for_plan(small_plan, roster)
    ax = fig.axes[0]
    req = line(ax, "required (simulation)")
    assert nan_equal(req.get_ydata(), np.r_[small_plan.total, small_plan.total[-1]])
    assert req.get_drawstyle() == "steps-post"
    assert nan_equal(req.get_xdata(), np.arange(9) / 2)
    sched = line(ax, f"scheduled (roster: {roster.agents} agents on shifts)")
    assert nan_equal(sched.get_ydata(), np.r_[roster.coverage, roster.coverage[-1]])
    assert nan_equal(line(ax, "Erlang A").get_ydata(), np.r_[small_plan.erlang_a, small_plan.erlang_a[-1]])
    assert ax.get_ylabel() == "agents"
    assert "surplus" in legend_texts(ax)


def test_queue_lines_figure(qz):
    fig = plot.queue_lines_figure(qz)
    ax1, ax2 = fig.axes
    iv = qz.by_interval()
    assert nan_equal(line(ax1, "calls waiting (mean)").get_ydata(), iv["queue_mean"])
    assert nan_equal(line(ax1, "calls waiting (peak)").get_ydata(), iv["queue_peak"])
    assert nan_equal(line(ax2, "busy lines (mean)").get_ydata(), iv["lines_mean"])
    assert nan_equal(line(ax2, "busy lines (peak)").get_ydata(), iv["lines_peak"])
    assert list(line(ax2, "trunk lines (750)").get_ydata()) == [750, 750]
    assert ax2.get_ylabel() == "trunk lines"


def test_comparison_figure(qz):
    low = simcc.simulate(simcc.load(QZ).with_changes(trunks=150), seed=4, replications=4)
    fig = plot.comparison_figure({"750 lines": qz, "150 lines": low}, target=0.9)
    ax1, ax2 = fig.axes
    assert nan_equal(line(ax1, "150 lines").get_ydata(), 100 * low.by_interval()["service_level"])
    heights = [b.get_height() for b in ax2.patches]
    assert heights == pytest.approx([100 * qz.summary()["service_level"]["mean"],
                                     100 * low.summary()["service_level"]["mean"]])
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["750 lines", "150 lines"]
    assert list(line(ax1, "target 90%").get_ydata()) == [90, 90]
    with pytest.raises(ValueError):
        plot.comparison_figure({})


def test_saved_pngs_are_real_pictures(qz, small_plan, tmp_path):
    paths = plot.save_all(qz, tmp_path, variants={"a": qz})
    assert set(paths) == {"service_level", "agents", "queue_lines", "comparison"}
    for name, path in paths.items():
        data = open(path, "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, name
        img = pixels(data)
        assert img.shape[0] > 300 and img.shape[1] > 800
        gray = img[..., :3].mean(axis=2)
        assert gray.std() > 0.05, name                           # not blank
    # the service-level line is drawn in its blue (#1f77b4), the target line in green
    img = pixels(open(paths["service_level"], "rb").read())[..., :3]
    blue = np.all(np.abs(img - np.array([0x1f, 0x77, 0xb4]) / 255) < 0.03, axis=2).sum()
    green = np.all(np.abs(img - np.array([0x2c, 0xa0, 0x2c]) / 255) < 0.03, axis=2).sum()
    assert blue > 500 and green > 200
    # and the check above can fail: an empty figure is blank
    fig, _ = plot._figure(1)
    fig.axes[0].set_axis_off()
    assert pixels(plot.figure_png(fig))[..., :3].mean(axis=2).std() < 0.01


def test_agents_figure_shows_shortfall_only_when_there_is_one():
    fig = plot.agents_figure([3, 5, 4], 1800, scheduled=[3, 4, 6], erlang=[3, 4, 4])
    ax = fig.axes[0]
    assert {"surplus", "shortfall", "scheduled", "Erlang A", "required (simulation)"} <= set(legend_texts(ax))
    assert nan_equal(line(ax, "scheduled").get_ydata(), [3, 4, 6, 6])
    fig = plot.agents_figure([3, 5, 4], 1800, scheduled=[3, 5, 6])
    assert "shortfall" not in legend_texts(fig.axes[0])
