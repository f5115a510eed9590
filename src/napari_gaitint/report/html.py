"""One self-contained HTML report of a cohort analysis (tables, figures, config, versions).

The file embeds its figures as base64 PNG, so it can be e-mailed or archived on its own. It
is written atomically and never replaces an existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from ..core._files import write_text_atomic
from ..core.config import StatsConfig
from ..core.stats import validate_cycles_table

#: Packages whose versions the report lists.
VERSION_PACKAGES: tuple[str, ...] = (
    "napari-gaitint", "numpy", "pandas", "scipy", "pingouin", "matplotlib", "statsmodels", "spm1d",
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
.tw{max-width:100%;overflow-x:auto;margin:.6em 0}
table{border-collapse:collapse;font-size:.82em}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right;white-space:nowrap}
th{background:#f3f3f3;white-space:normal;vertical-align:bottom;min-width:3em}
td.l,th.l{text-align:left}td.w{white-space:normal;min-width:16em;max-width:40em}
tr.sig td{background:#fff3cd}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em}
.note{font-size:.9em;color:#444}.warn{color:#8a4b00}
"""


def package_versions(packages: tuple[str, ...] = VERSION_PACKAGES) -> dict[str, str]:
    """``{package: version}`` (``"not installed"`` when absent), plus ``python``."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _fmt(x) -> str:
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "\u2013"
        ax = abs(x)
        if ax != 0 and (ax < 1e-3 or ax >= 1e5):
            return f"{x:.3g}"
        return f"{x:.4g}"
    return str(x)


#: Smallest p value printed as a number: a p value below it (0 when it is below the
#: floating-point range) is printed ``< 1e-300``.
P_FLOOR = 1e-300
#: Text columns whose cells may be long (wrapped instead of widening the table).
_WRAPPED = ("why", "reason", "problem", "clusters")


def _fmt_p(x) -> str:
    """A p value: ``< 1e-300`` below :data:`P_FLOOR` (0 included), else as :func:`_fmt`."""
    if isinstance(x, (float, np.floating)) and np.isfinite(x) and x < P_FLOOR:
        return f"< {P_FLOOR:g}"
    return _fmt(x)


def _table(df: pd.DataFrame, *, highlight: pd.Series | None = None, left: tuple = ()) -> str:
    """An HTML table with escaped content, in a box that scrolls sideways when the table is
    wider than the page; ``highlight`` marks rows (e.g. significant). Columns named ``p_*``
    print p values below the floating-point range as ``< 1e-300``; long text columns wrap;
    headers break after their underscores."""
    cols = list(df.columns)

    def cls(c) -> str:
        return " ".join(k for k, on in (("l", c in left), ("w", c in _WRAPPED)) if on)

    head = "".join(
        f'<th class="{cls(c)}">{html.escape(str(c)).replace("_", "_<wbr>")}</th>' for c in cols
    )
    fmts = [_fmt_p if str(c).startswith("p_") else _fmt for c in cols]
    body = []
    for k, row in enumerate(df.itertuples(index=False, name=None)):
        tr = ' class="sig"' if highlight is not None and bool(highlight.iloc[k]) else ""
        cells = "".join(f'<td class="{cls(c)}">{html.escape(f(v))}</td>'
                        for c, f, v in zip(cols, fmts, row, strict=True))
        body.append(f"<tr{tr}>{cells}</tr>")
    return f"<div class='tw'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _figure_html(fig, caption: str, *, dpi: int = 110) -> str:
    """``<figure>`` with the PNG embedded; ``fig`` is a Figure or PNG bytes already rendered."""
    from .figures import figure_png_bytes

    png = fig if isinstance(fig, (bytes, bytearray)) else figure_png_bytes(fig, dpi=dpi)
    b64 = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}"/>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _captions(who: str, labels: Mapping, views: list) -> dict[str, str]:
    """Figure captions; ``who`` is ``trials`` or ``subjects`` (the statistics' unit)."""
    one = who[:-1]
    pair = (f"{labels.get(views[0], views[0])} \u2212 {labels.get(views[1], views[1])}"
            if len(views) >= 2 else "between the views")
    return {
        "mean_cycles": f"Mean cycle \u00b1 SD across {who} for each view (each trial contributes its mean "
        "curve per view" + (", each subject the mean of its trials" if who == "subjects" else "")
        + "); x relative to the body reference, y the height above the floor; dashed: the view's "
        "mean toe off.",
        "difference_curves": f"Mean difference {pair} over the gait cycle with its t-based 95 % "
        f"confidence interval across {who}.",
        "bland_altman": f"Bland\u2013Altman plots of the per-{one} means over the cycle ({pair}): "
        "difference vs average, bias (solid) and 95 % limits of agreement (dashed).",
        "mean_angles": "Sagittal joint angles (degrees; flexion, dorsiflexion and forward trunk lean "
        f"positive): mean cycle \u00b1 SD across {who} for each view; dashed: the view's mean toe off.",
        "difference_angles": f"Mean difference of the joint angles {pair} over the gait cycle with "
        f"its t-based 95 % confidence interval across {who} (degrees).",
        "bland_altman_angles": f"Bland\u2013Altman plots of the per-{one} mean joint angles "
        f"(degrees; {pair}): difference vs average, bias (solid) and 95 % limits of agreement (dashed).",
    }


def _p(text: str) -> str:
    return f"<p>{text}</p>"


def methods_html(config: Mapping, anova: pd.DataFrame | None, cycles: pd.DataFrame,
                 versions: Mapping[str, str]) -> str:
    """The Methods section, from what ran: the settings of the run (``config``: those of
    :class:`~napari_gaitint.workflow.config.AnalysisConfig` as ``config.toml`` has them, and
    ``engine``, ``correction``), the ANOVA's attributes (engine, correction, unit) and the
    package versions."""
    e = html.escape
    parts = []
    clean = config.get("clean")
    if clean:
        c = dict(clean)
        method = {"twoview": "with the other camera's view of the far leg (two-view check;",
                  "baseline": "from the single view's own jumps (", "none": "not searched for ("}.get(
                      str(c.get("method")), f"with the {e(str(c.get('method')))} method (")
        if c.get("filter") == "butterworth":
            filt = (f"a zero-lag Butterworth low-pass filter (order {e(str(c.get('filter_order')))}, "
                    f"cut-off {_fmt(c.get('cutoff_hz'))} Hz)")
        elif c.get("filter") == "savgol":
            filt = (f"a Savitzky&ndash;Golay filter ({_fmt(c.get('savgol_window_s'))} s window, order "
                    f"{e(str(c.get('savgol_polyorder')))})")
        else:
            filt = "no low-pass filter"
        parts.append(_p(
            f"<b>Cleaning.</b> DeepLabCut points with a likelihood below {_fmt(c.get('likelihood_threshold'))} "
            f"were removed; wrong-limb (left/right) labels were found {method} margin "
            f"{_fmt(c.get('margin_leg'))} &times; leg length) and repaired or removed; gaps up to "
            f"{_fmt(c.get('max_gap_s'))} s were filled ({e(str(c.get('gap_method')))}); then {filt}. "
            + ("Each view's floor was levelled (camera roll removed) before events and cycles. "
               if config.get("level_floor", True) else "The floor was not levelled. ")
            + "Every value changed carries a flag (cleaned/*_flags.csv)."))
        units = config.get("cycles_units", "px")
        scale = ("divided by each view's <code>px_per_m</code> (metres)" if units == "m"
                 else "in image pixels (each camera's own scale)")
        parts.append(_p(
            f"<b>Events and cycles.</b> Heel strikes and toe offs were detected with the "
            f"<code>{e(str(config.get('events_method')))}</code> detector"
            + (f" (reference {e(str(config['events_reference']))})" if config.get("events_reference") else "")
            + " unless edited by hand; a gait cycle runs from a heel strike to the next of the same "
            f"leg, resampled to {e(str(config.get('n_points', 101)))} points (0&ndash;100 %). Curves: "
            f"x relative to the {e(str(config.get('cycles_reference') or 'neck'))} (the reference itself: "
            "its progression less the cycle's mean speed), y the height above the floor (the 5th "
            "percentile of the lower of heel and toe over the cycle), "
            f"{scale}; sagittal joint angles in degrees (docs/methods/angles.md)."))
    elif config.get("cycles"):
        parts.append(_p(f"The cycles table <code>{e(str(config['cycles']))}</code> was given as it is "
                        "(<code>gaitint stats</code>): how it was cleaned and cut is not part of this run."))
    if anova is not None:
        engine = anova.attrs.get("engine") or config.get("engine") or config.get("stats_engine") or StatsConfig().engine
        how = (f"with pingouin {e(versions.get('pingouin', ''))} (<code>pingouin.rm_anova</code>)"
               if engine == "pingouin" else
               "with numpy: the sums of squares and Greenhouse&ndash;Geisser epsilon of "
               "<code>pingouin.rm_anova</code>, vectorised over the body parts (equal to pingouin "
               "and to statsmodels' <code>AnovaRM</code> to 1e-9 in the tests)")
        if anova.attrs.get("unit") == "subject":
            n_sub = int(anova["n_subjects"].max()) if "n_subjects" in anova else 0
            n_tr = int(anova["n_trials"].max()) if "n_trials" in anova else 0
            unit = (f"The repeated-measures unit is the <b>subject</b> (the manifest's <code>subject</code> "
                    f"column): the {n_tr} trials of the {n_sub} subjects were averaged per view (each "
                    "trial with its mean curve over its cycles), so each subject enters once per view; "
                    "<code>n</code> (= <code>n_subjects</code>) counts subjects and <code>n_trials</code> "
                    "their trials.")
        else:
            unit = ("The repeated-measures unit is the <b>trial</b>: the manifest names no subjects, so "
                    "each trial counts as an independent subject and <code>n</code> counts trials. When "
                    "several trials come from one person, give trials.csv a <code>subject</code> column: "
                    "taking them as independent inflates the significance (pseudo-replication).")
        corr = anova.attrs.get("correction")
        corr_text = ({"holm": "Holm's", "fdr_bh": "Benjamini&ndash;Hochberg's (false discovery rate)",
                      "bonf": "Bonferroni's"}.get(corr, e(str(corr))) + " correction of <code>p_gg</code> "
                     "across the body part/axis tests of each effect gives <code>p_corr</code>."
                     if corr else "No correction for multiple tests was applied (each body part/axis "
                     "test has its own <code>p_gg</code>).")
        views = anova.attrs.get("views") or []
        parts.append(_p(
            "<b>Statistics.</b> For each body part and axis, a two-way repeated-measures ANOVA with "
            f"the within-subject factors <b>time</b> ({cycles['pct'].nunique()} points of the gait "
            f"cycle) and <b>perspective</b> (views {e(', '.join(map(str, views)))}) was computed {how}. "
            f"{unit} Units without complete data in all views were dropped for that body part/axis "
            "(listed below). <code>F</code>, <code>ddof1</code>/<code>ddof2</code> and <code>p_unc</code> "
            "are the uncorrected test; <code>eps</code> is the Greenhouse&ndash;Geisser epsilon (1 for "
            "two views) and <code>p_gg</code> the corrected p-value; <code>np2</code> is the partial eta "
            f"squared SS<sub>effect</sub>/(SS<sub>effect</sub>+SS<sub>error</sub>). {corr_text} Rows with "
            f"p_gg &lt; 0.05 are highlighted; p values below {P_FLOOR:g} (the floating-point range ends "
            f"near 1e-308) are printed as &lt; {P_FLOOR:g}."))
    units = sorted(set(map(str, pd.unique(cycles["unit"])))) if "unit" in cycles.columns else []
    parts.append(_p(
        "<b>Agreement</b> between the two views: Bland&ndash;Altman bias and 95 % limits of agreement "
        "(bias &plusmn; 1.96 SD) of the per-unit mean differences (one independent pair per trial, "
        "or subject); RMSE and MAE of the differences over all curve points; ICC(A,1) (two-way random "
        "effects, absolute agreement, single measurement; as pingouin's <code>intraclass_corr</code>) "
        "over all curve points, which mostly reflects the shared waveform. Values are in the unit of "
        "each curve (the <code>unit</code> column"
        + (f": {e(', '.join(units))}" if units else "; pixels for positions, degrees for angles")
        + "). C1 sees the left leg and C3 the right one: a difference between the views is that of "
        "the camera and of the leg together."))
    used = ["numpy", "scipy", "pandas", "matplotlib"]
    if anova is not None and ((anova.attrs.get("engine") == "pingouin") or anova.attrs.get("correction")):
        used.append("pingouin")
    parts.append(_p("<b>Software.</b> napari-gaitint " + e(versions.get("napari-gaitint", "")) + " with "
                    + ", ".join(f"{n} {e(versions.get(n, ''))}" for n in used)
                    + f" on Python {e(versions.get('python', ''))} (all versions: Software, below)."))
    return "\n".join(parts)


_MAX_LOW_EVENTS = 30


def _event_confidence_line(events: pd.DataFrame) -> tuple[str, pd.DataFrame | None]:
    """"N events, M with confidence below LOW_CONFIDENCE (reasons)", and those events."""
    from ..core.config import LOW_CONFIDENCE
    from ..core.events import sort_events_by_confidence

    n = len(events)
    if "confidence" not in events.columns:
        return f"{n} (no confidence recorded)", None
    low = sort_events_by_confidence(events, below=LOW_CONFIDENCE)
    reasons = (low["why"].fillna("").astype(str).str.split("; ").explode()
               .str.replace(r" \(.*\)$", "", regex=True))
    counts = reasons[reasons != ""].value_counts()
    why = f" ({', '.join(f'{r}: {k}' for r, k in counts.items())})" if len(counts) else ""
    cols = [c for c in ("trial", "view", "side", "event", "frame", "confidence", "why") if c in low]
    return (f"{n}, of which {len(low)} with confidence below {LOW_CONFIDENCE:g}{why}",
            low[cols].reset_index(drop=True))


def build_report(
    out_dir: str | Path,
    cycles: pd.DataFrame,
    anova: pd.DataFrame | None,
    agreement: pd.DataFrame | None,
    config: Mapping | None = None,
    parameters: pd.DataFrame | None = None,
    *,
    difference_curves: pd.DataFrame | None = None,
    figures: Mapping[str, object] | None = None,
    spm: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    title: str = "napari-gaitint cohort report",
    filename: str = "report.html",
    overwrite: bool = False,
) -> Path:
    """Write one self-contained HTML report and return its path (``out_dir/report.html``).

    Parameters
    ----------
    out_dir
        Output folder (created).
    cycles
        The long cycles table the statistics were computed from.
    anova
        Output of :func:`~napari_gaitint.core.stats.rm_anova` (or None).
    agreement
        Output of :func:`~napari_gaitint.core.stats.compute_agreement` (or None).
    config
        The settings used (any JSON-serialisable mapping), shown verbatim.
    parameters
        Optional table of gait parameters (e.g. from ``compute_parameters``).
    difference_curves, figures
        Reuse already computed difference curves / figures (``{name: Figure or PNG
        bytes}``, see :func:`~napari_gaitint.report.figures.make_figures`); computed when
        omitted, ``{}`` for a report without figures.
    spm
        Optional whole-curve SPM table (:func:`~napari_gaitint.core.stats.spm_rm_anova`).
    events
        Optional events table (``events.csv``): the report says how many events have a low
        ``confidence`` and lists them, least confident first.
    overwrite
        Replace an existing report.

    Returns
    -------
    Path
        The report file.
    """
    from ..core.stats import _units
    from .figures import make_figures, mean_toe_off_pct, view_labels

    config = dict(config or {})
    labels = view_labels(cycles)
    df = validate_cycles_table(cycles)
    if figures is None:
        figures = make_figures(df, difference_curves=difference_curves, agreement=agreement,
                               views=(agreement.attrs.get("views") if agreement is not None else None),
                               toe_off_pct=mean_toe_off_pct(parameters),
                               x_reference=config.get("cycles_reference") or "neck")
    versions = package_versions()
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'/>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Generated {html.escape(_dt.datetime.now().isoformat(timespec='seconds'))}"
        f" by napari-gaitint {html.escape(versions['napari-gaitint'])}.</p>",
    ]

    # data summary
    views = sorted(pd.unique(df["view"]), key=str)
    units_df, trials = _units(df)
    who = "trials" if trials is None else "subjects"
    summary = pd.DataFrame({
        "item": ["trials", "subjects", "views", "body parts", "axes", "time points (pct)"],
        "value": [
            str(df["trial"].nunique()),
            (f"{units_df['trial'].nunique()} (the manifest's subject column; their trials averaged per view: "
             "the unit of the statistics)") if trials is not None else
            "not named: each trial is its own subject (the unit of the statistics is the trial)",
            ", ".join(str(labels.get(v, v)) for v in views),
            ", ".join(map(str, pd.unique(df["bodypart"]))), ", ".join(map(str, pd.unique(df["axis"]))),
            f"{df['pct'].nunique()} ({_fmt(float(df['pct'].min()))}\u2013{_fmt(float(df['pct'].max()))})",
        ],
    })
    per_view = df.groupby("view", observed=True)["trial"].nunique()
    summary.loc[len(summary)] = ["trials per view", ", ".join(f"{v}: {per_view[v]}" for v in views)]
    if trials is not None:
        per_view = units_df.groupby("view", observed=True)["trial"].nunique()
        summary.loc[len(summary)] = ["subjects per view", ", ".join(f"{v}: {per_view[v]}" for v in views)]
    if "unit" in df.columns:
        pairs = df.drop_duplicates("axis")[["axis", "unit"]].astype(str).itertuples(index=False, name=None)
        summary.loc[len(summary)] = ["units", ", ".join(f"{a}: {u}" for a, u in pairs)]
    low_events = None
    if events is not None:
        line, low_events = _event_confidence_line(events)
        summary.loc[len(summary)] = ["gait events", line]
    parts += ["<h2>Data</h2>", _table(summary, left=("item", "value"))]
    if low_events is not None and len(low_events):
        shown = low_events.head(_MAX_LOW_EVENTS)
        more = len(low_events) - len(shown)
        parts += ["<p class='warn'>Events to check first (lowest confidence first"
                  + (f"; {more} more in events.csv" if more > 0 else "") + "):</p>",
                  _table(shown, left=tuple(c for c in shown.columns
                                           if not pd.api.types.is_numeric_dtype(shown[c])))]

    parts += ["<h2>Methods</h2>", methods_html(config, anova, df, versions)]

    if anova is not None:
        parts.append("<h2>Repeated-measures ANOVA (time \u00d7 perspective)</h2>")
        corr = anova.attrs.get("correction")
        if corr:
            parts.append(f"<p class='note'>Multiple-comparison correction: {html.escape(str(corr))}.</p>")
        sig = anova["p_gg"].fillna(1.0) < 0.05
        parts.append(_table(anova, highlight=sig, left=("bodypart", "axis", "effect")))
        dropped = anova.attrs.get("dropped") or []
        one = who[:-1]
        if dropped:
            dd = pd.DataFrame(dropped)[["trial", "bodypart", "axis", "reason"]].rename(columns={"trial": one})
            parts += [
                f"<p class='warn'>{dd[one].nunique()} {one}(s) were dropped for at least one "
                "body part/axis because they lack complete data in all views:</p>",
                _table(dd, left=tuple(dd.columns)),
            ]
        else:
            parts.append(f"<p class='note'>No {one} was dropped: every {one} has complete data in all views.</p>")

    if agreement is not None:
        v = agreement.attrs.get("views")
        label = f" ({html.escape(str(v[0]))} \u2212 {html.escape(str(v[1]))})" if v else ""
        parts += [f"<h2>Agreement between views{label}</h2>",
                  _table(agreement, left=("bodypart", "axis", "view_a", "view_b", "icc_type"))]

    if spm is not None and len(spm):
        parts += [
            "<h2>Whole-curve perspective effect (SPM, spm1d)</h2>",
            "<p class='note'>One-way repeated-measures SPM ANOVA over the cycle (factor "
            f"perspective, subject = {who[:-1]}, alpha 0.05, random field theory threshold "
            "<code>F_crit</code>); <code>clusters</code> are the supra-threshold ranges in % of the "
            "cycle.</p>",
            _table(spm, highlight=spm["significant"].astype(bool), left=("bodypart", "axis", "clusters")),
        ]

    if parameters is not None and len(parameters):
        parts += ["<h2>Gait parameters</h2>",
                  _table(parameters.reset_index(drop=True),
                         left=tuple(c for c in parameters.columns if parameters[c].dtype == object))]

    if figures:
        parts.append("<h2>Figures</h2>")
        captions = _captions(who, labels, list((agreement.attrs.get("views") if agreement is not None else None)
                                               or views))
        for name, fig in figures.items():
            parts.append(_figure_html(fig, captions.get(name, name)))

    parts += ["<h2>Configuration</h2>",
              "<p class='note'>Every setting of this run (<code>config.toml</code> in the results "
              "repeats it: <code>gaitint analyze ... --config config.toml</code>).</p>"]
    cfg = json.dumps(config, indent=2, sort_keys=True, default=str)
    parts.append(f"<pre>{html.escape(cfg)}</pre>")
    parts += ["<h2>Software</h2>",
              _table(pd.DataFrame({"package": list(versions), "version": list(versions.values())}),
                     left=("package", "version")),
              "</body></html>"]
    path = Path(out_dir) / filename
    return write_text_atomic(path, "\n".join(parts), overwrite=overwrite)
