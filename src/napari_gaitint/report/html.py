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
from ..core.stats import validate_cycles_table

#: Packages whose versions the report lists.
VERSION_PACKAGES: tuple[str, ...] = (
    "napari-gaitint", "numpy", "pandas", "scipy", "pingouin", "matplotlib", "statsmodels", "spm1d",
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
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


def _table(df: pd.DataFrame, *, highlight: pd.Series | None = None, left: tuple = ()) -> str:
    """A small HTML table with escaped content; ``highlight`` marks rows (e.g. significant)."""
    cols = list(df.columns)
    head = "".join(
        f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in cols
    )
    body = []
    for k, (_, row) in enumerate(df.iterrows()):
        cls = ' class="sig"' if highlight is not None and bool(highlight.iloc[k]) else ""
        cells = "".join(
            f'<td class="{"l" if c in left else ""}">{html.escape(_fmt(row[c]))}</td>' for c in cols
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure_html(fig, caption: str, *, dpi: int = 110) -> str:
    """``<figure>`` with the PNG embedded; ``fig`` is a Figure or PNG bytes already rendered."""
    from .figures import figure_png_bytes

    png = fig if isinstance(fig, (bytes, bytearray)) else figure_png_bytes(fig, dpi=dpi)
    b64 = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}"/>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


_FIGURE_CAPTIONS = {
    "mean_cycles": "Mean cycle \u00b1 SD across trials for each view (each trial contributes its mean "
    "curve per view).",
    "difference_curves": "Mean difference between the views over the gait cycle with its t-based "
    "95 % confidence interval across trials.",
    "bland_altman": "Bland\u2013Altman plots of the per-trial means over the cycle: difference vs "
    "average, bias (solid) and 95 % limits of agreement (dashed).",
    "mean_angles": "Sagittal joint angles (degrees; flexion, dorsiflexion and forward trunk lean "
    "positive): mean cycle \u00b1 SD across trials for each view.",
    "difference_angles": "Mean difference of the joint angles between the views over the gait "
    "cycle with its t-based 95 % confidence interval across trials (degrees).",
    "bland_altman_angles": "Bland\u2013Altman plots of the per-trial mean joint angles (degrees): "
    "difference vs average, bias (solid) and 95 % limits of agreement (dashed).",
}

_METHODS = """
<p>For each body part and axis, a two-way repeated-measures ANOVA with the within-subject factors
<b>time</b> (the normalised points of the gait cycle) and <b>perspective</b> (the camera views)
was computed with pingouin (<code>pingouin.rm_anova</code>), subject = trial. Each trial enters
with its mean curve per view; trials without complete data in all views were dropped for that
body part/axis (listed below). <code>F</code>, <code>ddof1</code>/<code>ddof2</code> and
<code>p_unc</code> are the uncorrected test; <code>eps</code> is the Greenhouse&ndash;Geisser
epsilon (1 for two views) and <code>p_gg</code> the corrected p-value; <code>np2</code> is the
partial eta squared SS<sub>effect</sub>/(SS<sub>effect</sub>+SS<sub>error</sub>); <code>n</code>
the number of trials. <code>p_corr</code> (if present) corrects <code>p_gg</code> across the
body part/axis tests of each effect. Rows with p_gg &lt; 0.05 are highlighted.</p>
<p>Agreement: Bland&ndash;Altman bias and 95 % limits of agreement (bias &plusmn; 1.96 SD) of
the per-trial mean differences (one independent pair per trial); RMSE and MAE of the
differences over all curve points; ICC(A,1) (two-way random effects, absolute agreement,
single measurement; as pingouin's <code>intraclass_corr</code>) over all curve points, which mostly
reflects the shared waveform. Values are in the units of the cycles table: pixels for the
positions (axes x, y), degrees for the sagittal joint angles (axis angle: hip, knee, ankle,
trunk; definitions in docs/methods/angles.md).</p>
"""


_MAX_LOW_EVENTS = 30


def _event_confidence_line(events: pd.DataFrame) -> tuple[str, pd.DataFrame | None]:
    """"N events, M with confidence below LOW_CONFIDENCE (reasons)", and those events."""
    from ..core.events import LOW_CONFIDENCE, sort_events_by_confidence

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
    from .figures import make_figures

    df = validate_cycles_table(cycles)
    if figures is None:
        figures = make_figures(df, difference_curves=difference_curves, agreement=agreement,
                               views=(agreement.attrs.get("views") if agreement is not None else None))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'/>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Generated {html.escape(_dt.datetime.now().isoformat(timespec='seconds'))}"
        f" by napari-gaitint {html.escape(package_versions(('napari-gaitint',))['napari-gaitint'])}.</p>",
    ]

    # data summary
    views = sorted(pd.unique(df["view"]), key=str)
    summary = pd.DataFrame({
        "item": ["trials", "views", "body parts", "axes", "time points (pct)"],
        "value": [
            str(df["trial"].nunique()), ", ".join(map(str, views)),
            ", ".join(map(str, pd.unique(df["bodypart"]))), ", ".join(map(str, pd.unique(df["axis"]))),
            f"{df['pct'].nunique()} ({_fmt(float(df['pct'].min()))}\u2013{_fmt(float(df['pct'].max()))})",
        ],
    })
    per_view = df.groupby("view", observed=True)["trial"].nunique()
    summary.loc[len(summary)] = ["trials per view", ", ".join(f"{v}: {per_view[v]}" for v in views)]
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

    parts += ["<h2>Methods</h2>", _METHODS]

    if anova is not None:
        parts.append("<h2>Repeated-measures ANOVA (time \u00d7 perspective)</h2>")
        corr = anova.attrs.get("correction")
        if corr:
            parts.append(f"<p class='note'>Multiple-comparison correction: {html.escape(str(corr))}.</p>")
        sig = anova["p_gg"].fillna(1.0) < 0.05
        parts.append(_table(anova, highlight=sig, left=("bodypart", "axis", "effect")))
        dropped = anova.attrs.get("dropped") or []
        if dropped:
            dd = pd.DataFrame(dropped)[["trial", "bodypart", "axis", "reason"]]
            parts += [
                f"<p class='warn'>{dd['trial'].nunique()} trial(s) were dropped for at least one "
                "body part/axis because they lack complete data in all views:</p>",
                _table(dd, left=tuple(dd.columns)),
            ]
        else:
            parts.append("<p class='note'>No trial was dropped: every trial has complete data in all views.</p>")

    if agreement is not None:
        v = agreement.attrs.get("views")
        label = f" ({html.escape(str(v[0]))} \u2212 {html.escape(str(v[1]))})" if v else ""
        parts += [f"<h2>Agreement between views{label}</h2>",
                  _table(agreement, left=("bodypart", "axis", "view_a", "view_b", "icc_type"))]

    if spm is not None and len(spm):
        parts += [
            "<h2>Whole-curve perspective effect (SPM, spm1d)</h2>",
            "<p class='note'>One-way repeated-measures SPM ANOVA over the cycle (factor "
            "perspective, subject = trial, alpha 0.05, random field theory threshold "
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
        for name, fig in figures.items():
            parts.append(_figure_html(fig, _FIGURE_CAPTIONS.get(name, name)))

    parts.append("<h2>Configuration</h2>")
    cfg = json.dumps(dict(config) if config else {}, indent=2, sort_keys=True, default=str)
    parts.append(f"<pre>{html.escape(cfg)}</pre>")
    versions = package_versions()
    parts += ["<h2>Software</h2>",
              _table(pd.DataFrame({"package": list(versions), "version": list(versions.values())}),
                     left=("package", "version")),
              "</body></html>"]
    path = Path(out_dir) / filename
    return write_text_atomic(path, "\n".join(parts), overwrite=overwrite)
