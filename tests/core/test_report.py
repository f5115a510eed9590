"""Tests of the statistics figures, the HTML report and ``gaitint stats``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.core import stats
from napari_gaitint.core.agreement import (
    compute_agreement,
    compute_difference_curves,
)
from napari_gaitint.core.errors import OutputExistsError
from napari_gaitint.report import build_report, make_figures, save_figure
from napari_gaitint.report.outputs import write_stats_outputs
from report_checks import PNG_MAGIC, assert_self_contained, small_cohort  # tests/report_checks.py


@pytest.fixture(scope="module")
def cohort():
    return small_cohort()


@pytest.fixture(scope="module")
def results(cohort):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        anova = stats.rm_anova(cohort, correction="holm")
    agreement = compute_agreement(cohort)
    diff = compute_difference_curves(cohort)
    figs = make_figures(cohort, difference_curves=diff, agreement=agreement)
    return anova, agreement, diff, figs


def test_figures_show_the_computed_curves(cohort, results):
    _, agreement, diff, figs = results
    assert set(figs) == {"mean_cycles", "difference_curves", "bland_altman"}
    for fig in figs.values():
        assert len(fig.axes) == 4  # 2 body parts x 2 axes
    # mean-cycle panel hip/x: the C1 line is the mean over trials
    ax = figs["mean_cycles"].axes[0]
    c1 = cohort[(cohort.bodypart == "hip") & (cohort.axis == "x") & (cohort.view == "C1")]
    assert_allclose(ax.lines[0].get_ydata(), c1.groupby("pct")["value"].mean().to_numpy(), rtol=1e-12)
    # difference panel: the line is mean_diff
    line = [ln for ln in figs["difference_curves"].axes[0].lines if len(ln.get_ydata()) > 2][0]
    sel = diff[(diff.bodypart == "hip") & (diff.axis == "x")]
    assert_allclose(line.get_ydata(), sel["mean_diff"].to_numpy(), rtol=1e-12)
    # Bland-Altman panel: one point per trial, bias line at the agreement bias
    ba_ax = figs["bland_altman"].axes[0]
    assert ba_ax.collections[0].get_offsets().shape == (6, 2)
    bias = agreement[(agreement.bodypart == "hip") & (agreement.axis == "x")]["bias"].iloc[0]
    assert any(np.allclose(ln.get_ydata(), bias) for ln in ba_ax.lines)


def _tiny_figure():
    from napari_gaitint.report.figures import _new_figure

    fig, axs = _new_figure(1, 1, title="tiny")
    axs[0, 0].plot([0, 1], [0, 1])
    return fig


def test_save_figure_png_svg_and_no_overwrite(tmp_path):
    fig = _tiny_figure()
    png, svg = save_figure(fig, tmp_path / "mean")
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert "<svg" in svg.read_text()[:2000]
    with pytest.raises(OutputExistsError):
        save_figure(fig, tmp_path / "mean")
    assert not list(tmp_path.glob(".*part*"))


def test_save_figure_lays_out_once_for_all_formats(tmp_path):
    import io

    from napari_gaitint.report.figures import save_figure_bytes

    fig, ref = _tiny_figure(), _tiny_figure()
    for f in (fig, ref):  # (ours have fixed margins; a caller's figure may have a layout engine)
        f.set_layout_engine("constrained")
    engine = fig.get_layout_engine()
    written = save_figure_bytes(fig, tmp_path / "tiny", formats=("png", "svg"))
    buf = io.BytesIO()
    ref.savefig(buf, format="png", dpi=120, pil_kwargs={"compress_level": 1})  # (our PNG compression)
    # the PNG is drawn as a plain savefig draws it (with its constrained layout) ...
    assert written[tmp_path / "tiny.png"] == buf.getvalue()
    # ... the SVG reuses that layout, and the figure keeps its layout engine afterwards
    assert fig.get_layout_engine() is engine
    assert_allclose(fig.axes[0].get_position().bounds, ref.axes[0].get_position().bounds)
    assert b"<svg" in written[tmp_path / "tiny.svg"][:2000]


def test_report_is_self_contained(tmp_path, cohort, results):
    anova, agreement, diff, _ = results
    params = pd.DataFrame({"trial": ["T0", "T1"], "cadence_steps_per_min": [110.5, 112.25]})
    figs = {"mean_cycles": _tiny_figure(), "bland_altman": b"\x89PNG\r\n\x1a\n-already-rendered"}
    path = build_report(tmp_path, cohort, anova, agreement, {"fps": 25.0, "method": "baseline"},
                        params, difference_curves=diff, figures=figs)
    assert path == tmp_path / "report.html"
    text = path.read_text(encoding="utf-8")
    assert_self_contained(text, 2)
    assert "&quot;method&quot;: &quot;baseline&quot;" in text  # the config, escaped
    assert "pingouin" in text and "matplotlib" in text
    assert "112.2" in text  # gait parameters table
    f_perspective = anova[(anova.bodypart == "ankle") & (anova.axis == "y") & (anova.effect == "perspective")]["F"].iloc[0]
    assert f"{f_perspective:.4g}" in text
    assert "holm" in text
    with pytest.raises(OutputExistsError):
        build_report(tmp_path, cohort, anova, agreement, {}, figures=figs)


def test_report_counts_and_lists_low_confidence_events(tmp_path, cohort, results):
    anova, agreement, diff, _ = results
    events = pd.DataFrame({
        "trial": ["T0", "T0", "T1", "T1"], "view": ["C1", "C1", "C3", "C3"],
        "side": ["left", "left", "right", "right"],
        "event": ["heel_strike", "toe_off", "heel_strike", "toe_off"],
        "frame": [12.3, 28.9, 13.1, 30.4], "time_s": [0.49, 1.16, 0.52, 1.22],
        "confidence": [1.0, 0.35, 0.45, 0.9], "why": ["", "gap (4 of 7 frames)",
                                                      "weak extremum; phase conflict", "edge of the data"],
    })
    path = build_report(tmp_path, cohort, anova, agreement, {}, difference_curves=diff, figures={},
                        events=events)
    text = path.read_text(encoding="utf-8")
    assert ("4, of which 2 with confidence below 0.5 (gap: 1, weak extremum: 1, phase conflict: 1)"
            in text)
    listed = text[text.index("Events to check first"):]
    assert listed.index("gap (4 of 7 frames)") < listed.index("weak extremum; phase conflict")
    assert "edge of the data" not in text  # 0.9: not low
    no_conf = build_report(tmp_path / "b", cohort, anova, agreement, {}, difference_curves=diff,
                           figures={}, events=events.drop(columns=["confidence", "why"]))
    assert "4 (no confidence recorded)" in no_conf.read_text(encoding="utf-8")


def test_report_lists_dropped_trials(tmp_path):
    df = small_cohort(seed=1, n=5, t=11, drop_view_of="T2")
    with pytest.warns(UserWarning, match="dropped 1 trial"):
        anova = stats.rm_anova(df)
    path = build_report(tmp_path, df, anova, compute_agreement(df), {}, figures={})
    text = path.read_text(encoding="utf-8")
    assert "no data in view(s) C3" in text and "<td class=\"l\">T2</td>" in text


def test_write_stats_outputs_refuses_before_writing_anything(tmp_path, cohort):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "bland_altman.svg").write_text("mine")
    with pytest.raises(OutputExistsError):
        write_stats_outputs(tmp_path, cohort)
    assert not (tmp_path / "anova.csv").exists()
    assert (tmp_path / "figures" / "bland_altman.svg").read_text() == "mine"



def test_write_stats_outputs_writes_nothing_when_the_figures_fail(tmp_path, cohort, monkeypatch):
    """The figures are made before any table is written: a failure there leaves no partial
    results, and the garbage collector is on again afterwards."""
    import gc

    from napari_gaitint.report import figures

    def broken(*args, **kwargs):
        raise RuntimeError("no figure")

    monkeypatch.setattr(figures, "make_figures", broken)
    with pytest.raises(RuntimeError, match="no figure"):
        write_stats_outputs(tmp_path, cohort)
    assert not any(tmp_path.iterdir())
    assert gc.isenabled()

def test_spm_option_needs_spm1d_and_writes_nothing_without_it(tmp_path, cohort):
    from napari_gaitint.core.errors import AnalysisError

    if stats.spm_available():
        res = write_stats_outputs(tmp_path, cohort, spm=True, figures=False)
        assert (tmp_path / "spm.csv").is_file() and len(res.spm) == 4
        assert "Whole-curve perspective effect" in (tmp_path / "report.html").read_text(encoding="utf-8")
    else:
        with pytest.raises(AnalysisError, match="spm1d"):
            write_stats_outputs(tmp_path, cohort, spm=True, figures=False)
        assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------
# a truthful, readable report
# ---------------------------------------------------------------------------------------
def _text(path) -> str:
    return path.read_text(encoding="utf-8")


def test_methods_name_the_engine_that_ran_and_the_correction(tmp_path, cohort):
    numpy_run = write_stats_outputs(tmp_path / "n", cohort, figures=False, engine="numpy")
    text = _text(numpy_run.files["report"])
    methods = text[text.index("<h2>Methods</h2>"):text.index("<h2>Repeated")]
    assert "computed with numpy" in methods and "pingouin.rm_anova</code>, vectorised" in methods
    assert "No correction for multiple tests was applied" in methods
    assert "unit is the <b>trial</b>" in methods and "pseudo-replication" in methods
    ping = write_stats_outputs(tmp_path / "p", cohort, figures=False, engine="pingouin", correction="holm")
    methods = _text(ping.files["report"])
    import pingouin

    assert f"with pingouin {pingouin.__version__} (<code>pingouin.rm_anova</code>)" in methods
    assert "Holm's correction of <code>p_gg</code>" in methods and "computed with numpy" not in methods


def test_p_values_below_the_float_range_are_printed_as_such(tmp_path, cohort, results):
    anova, agreement, diff, _ = results
    anova = anova.copy()
    anova.loc[0, "p_unc"] = 0.0  # as the F distribution gives for a huge F
    anova.loc[1, "p_gg"] = 3e-320
    anova.loc[2, "p_unc"] = 2.5e-12
    text = _text(build_report(tmp_path, cohort, anova, agreement, {}, figures={}))
    table = text[text.index("<h2>Repeated"):text.index("<h2>Agreement")]
    assert table.count("&lt; 1e-300") == 2 and "2.5e-12" in table
    assert ">0<" not in table


def test_tables_scroll_inside_the_page_and_long_text_wraps(tmp_path, cohort, results):
    anova, agreement, diff, _ = results
    params = pd.DataFrame({f"column_{i}_with_a_long_name_s": [1.5, 2.5] for i in range(30)})
    params.insert(0, "trial", ["T0", "T1"])
    text = _text(build_report(tmp_path, cohort, anova, agreement, {}, params, figures={}))
    assert ".tw{max-width:100%;overflow-x:auto" in text
    assert text.count("<div class='tw'><table>") == text.count("<table>")
    assert "column_<wbr>0_<wbr>with" in text  # headers break after underscores


def test_analyze_report_holds_every_setting_and_names_views_legs_units(tmp_path):
    """The report of gaitint analyze: the Configuration has the cleaning settings config.toml
    has (not an empty clean), the Methods say what ran, views are named with their leg."""
    from napari_gaitint.synthetic.files import write_synthetic_cohort
    from napari_gaitint.workflow.cohort import analyze_cohort
    from napari_gaitint.workflow.config import load_config

    manifest = write_synthetic_cohort(tmp_path / "s", n_trials=3, seed=2, video=False)
    res = analyze_cohort(manifest, tmp_path / "out")
    text = _text(res.files["report"])
    config = load_config(tmp_path / "out" / "config.toml")
    cfg = text[text.index("<h2>Configuration</h2>"):text.index("<h2>Software</h2>")]
    assert '&quot;clean&quot;: {}' not in cfg
    for key, value in config.clean.items():
        if isinstance(value, float):
            assert f"&quot;{key}&quot;: {value!r}" in cfg, key
    assert f"&quot;events_method&quot;: &quot;{config.events_method}&quot;" in cfg
    methods = text[text.index("<h2>Methods</h2>"):text.index("<h2>Repeated")]
    assert f"likelihood below {config.clean['likelihood_threshold']:g}" in methods
    assert f"<code>{config.events_method}</code> detector" in methods
    assert "x relative to the neck" in methods and "in image pixels" in methods
    assert "C1 (left leg), C3 (right leg)" in text
    assert "Mean difference C1 (left leg) \u2212 C3 (right leg)" in text
    assert "x: px, y: px, angle: deg" in text


def test_mean_cycle_figure_marks_toe_off_and_counts_each_view(cohort):
    from napari_gaitint.report.figures import mean_toe_off_pct, plot_mean_cycles

    params = pd.DataFrame({"trial": ["T0", "T0", "T1", "T1"], "view": ["C1", "C3", "C1", "C3"],
                           "stance_pct": [60.0, 62.0, 64.0, 66.0]})
    toe_off = mean_toe_off_pct(params)
    assert toe_off == {"C1": 62.0, "C3": 64.0}
    fig = plot_mean_cycles(cohort, toe_off_pct=toe_off)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["C1 (left leg), n = 6 trials", "C1 mean toe off (62 %)",
                      "C3 (left leg), n = 6 trials", "C3 mean toe off (64 %)"]
    marks = [ln.get_xdata()[0] for ln in fig.axes[0].lines if len(ln.get_xdata()) == 2]
    assert sorted(marks) == [62.0, 64.0]


def test_report_of_subjects_says_so(tmp_path):
    rng = np.random.default_rng(4)
    parts = []
    for s in range(4):
        base = small_cohort(seed=s, n=1, t=11)
        for k in range(2):
            parts.append(base.assign(trial=f"S{s}T{k}", subject=f"S{s}", value=base["value"] + rng.normal(0, 1)))
    df = pd.concat(parts, ignore_index=True)
    out = write_stats_outputs(tmp_path, df)
    text = _text(out.files["report"])
    assert "4 (the manifest&#x27;s subject column" in text or "4 (the manifest's subject column" in text
    assert "the 8 trials of the 4 subjects were averaged per view" in text
    assert "Mean cycle \u00b1 SD across subjects" in text
    anova = pd.read_csv(tmp_path / "anova.csv")
    assert (anova["n_subjects"] == 4).all() and (anova["n_trials"] == 8).all()
    assert "RM-ANOVA on 4 subjects (8 trials, averaged per subject and view)" in out.summary()
