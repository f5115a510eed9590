"""Figures of the cohort statistics (matplotlib, drawn off-screen with the Agg canvas).

matplotlib is imported inside the functions (slow import) and :mod:`matplotlib.pyplot` is
never used, so making figures does not change the backend of a running napari/Qt session.

* :func:`plot_mean_cycles` - mean cycle +- SD across trials per view, one panel per body
  part and axis;
* :func:`plot_difference_curves` - the view-difference curves with their confidence band
  (the seed's Figure 2);
* :func:`plot_bland_altman` - Bland-Altman plots of the per-trial means;
* :func:`make_figures` / :func:`write_figures` - all of them, saved as PNG and SVG; the
  joint angles (``axis`` ``angle``, degrees) get their own set (:data:`ANGLE_FIGURE_NAMES`).
"""

from __future__ import annotations

import contextlib
import gc
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core._files import write_atomic
from ..core.agreement import (
    compute_agreement,
    compute_bland_altman_points,
    compute_difference_curves,
)
from ..core.angles import ANGLE_AXIS
from ..core.stats import _resolve_views, _units, validate_cycles_table

#: Colours per view (tab10 order); C1 first.
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_PANEL_W_IN, _PANEL_H_IN = 3.4, 2.2
# Fixed margins around and between the panels (inches): a constrained layout took about
# half of a figure's drawing time and gives the same room to these labels.
_LEFT_IN, _RIGHT_IN, _BOTTOM_IN, _TITLE_IN, _LEGEND_IN, _PANEL_TITLE_IN = 0.95, 0.2, 0.5, 0.4, 0.22, 0.25
_WSPACE_IN, _HSPACE_IN = 0.95, 0.5
#: The figures of the joint angles (degrees; written when the cycles table has angles).
ANGLE_FIGURE_NAMES: tuple[str, ...] = ("mean_angles", "difference_angles", "bland_altman_angles")
#: What the position curves are (see :mod:`napari_gaitint.core.cycles`): x relative to the
#: body reference, y the height above the floor.
DEFAULT_X_REFERENCE = "neck"
#: The sign of each joint angle (see :mod:`napari_gaitint.core.angles`).
ANGLE_SIGNS = {"hip": "flexion +", "knee": "flexion +", "ankle": "dorsiflexion +", "trunk": "forward lean +"}


def _new_figure(n_rows: int, n_cols: int, *, title: str | None = None, sharex: bool = True,
                legend_rows: int = 0):
    """A Figure on an Agg canvas with a grid of axes (always a 2-D array) laid out with fixed
    margins (room for a title and ``legend_rows`` rows of a figure legend above the panels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    top_in = (_TITLE_IN if title else 0.1) + _LEGEND_IN * legend_rows + _PANEL_TITLE_IN
    width = _LEFT_IN + _RIGHT_IN + n_cols * _PANEL_W_IN + (n_cols - 1) * _WSPACE_IN
    hspace_in = _HSPACE_IN if sharex else _HSPACE_IN + 0.3  # (every row then has its x label)
    height = _BOTTOM_IN + top_in + n_rows * _PANEL_H_IN + (n_rows - 1) * hspace_in
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=_LEFT_IN / width, right=1 - _RIGHT_IN / width, bottom=_BOTTOM_IN / height,
                        top=1 - top_in / height, wspace=_WSPACE_IN / _PANEL_W_IN, hspace=hspace_in / _PANEL_H_IN)
    axs = np.atleast_2d(fig.subplots(n_rows, n_cols, squeeze=False, sharex=sharex))
    if title:
        fig.suptitle(title, y=1 - 0.08 / height, va="top")
    fig.gaitint_legend_top = 1 - ((_TITLE_IN if title else 0.1) / height)  # where a legend goes
    return fig, axs


@contextlib.contextmanager
def figure_work():
    """Make and save figures without the cyclic garbage collector running in between.

    A figure is tens of thousands of small objects; while they are made and drawn, Python's
    collector passes over the whole heap of the process again and again (a tenth of the
    report's time). The collector is back on afterwards, as it was.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _figure_legend(fig, handles, labels, *, ncol: int | None = None) -> None:
    """One legend for the whole figure, above the panels (no search for a free corner)."""
    if handles:
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, fig.gaitint_legend_top),
                   ncol=ncol or len(handles), fontsize=7.5, frameon=False, handlelength=1.8,
                   columnspacing=1.2)


#: Ticks of the gait-cycle axis (%).
_CYCLE_TICKS = (0, 20, 40, 60, 80, 100)


def _label_panel(ax, title: str, ylabel: str, xlabel: str | None, *, cycle: bool = False) -> None:
    """A panel's title and x label at fixed places (matplotlib otherwise measures every tick
    label of the panel and of the panels sharing its x axis to place them: most of a
    figure's drawing time), small tick labels, and the cycle's ticks when x is the cycle."""
    ax.set_title(title, fontsize=9, y=1.0, pad=4)
    ax.set_ylabel(ylabel, fontsize=7.5)  # (placed by its own tick labels: the y axes are not shared)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8)
        ax.xaxis.set_label_coords(0.5, -0.13)
    if cycle:
        ax.set_xticks(_CYCLE_TICKS)
        ax.set_xlim(0, 100)
    else:
        ax.xaxis.set_major_locator(_locator())
    ax.yaxis.set_major_locator(_locator())  # (fewer ticks: each one is objects to draw)
    ax.tick_params(labelsize=7)


def _locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10])


def _grid_keys(df: pd.DataFrame) -> tuple[list, list]:
    return list(pd.unique(df["bodypart"])), list(pd.unique(df["axis"]))


def view_labels(cycles: pd.DataFrame) -> dict:
    """``{view: "C1 (left leg)"}``: each view with the leg it sees (the ``side`` column of a
    cycles table; the view alone without it)."""
    views = sorted(pd.unique(cycles["view"]), key=str)
    if "side" not in cycles.columns:
        return {v: str(v) for v in views}
    sides = cycles.groupby("view", observed=True, sort=False)["side"].unique()
    out = {}
    for v in views:
        legs = sorted(str(x) for x in sides.get(v, []) if pd.notna(x))
        out[v] = f"{v} ({' and '.join(legs)} leg{'s' if len(legs) > 1 else ''})" if legs else str(v)
    return out


def value_label(axis: str, unit: str, *, x_reference: str = DEFAULT_X_REFERENCE,
                bodypart: str | None = None) -> str:
    """What a curve's values are, with the unit: ``"x relative to neck (px)"``,
    ``"y: height above floor (px)"``, ``"angle (deg)"``; the reference's own x is its
    progression less the cycle's mean speed (``"x minus mean progression (px)"``)."""
    if axis == "x" and bodypart == x_reference:
        return f"x minus mean progression ({unit})"
    if axis == "x":
        return f"x relative to {x_reference} ({unit})"
    if axis == "y":
        return f"y: height above floor ({unit})"
    if axis == ANGLE_AXIS and bodypart in ANGLE_SIGNS:
        return f"angle ({unit}, {ANGLE_SIGNS[bodypart]})"
    return f"{axis} ({unit})"


def _units_of(df: pd.DataFrame, default: str) -> dict:
    """``{axis: unit}`` from the table's ``unit`` column (``default`` without one)."""
    if "unit" not in df.columns:
        return {a: default for a in pd.unique(df["axis"])}
    return dict(df.drop_duplicates("axis")[["axis", "unit"]].astype(str).itertuples(index=False, name=None))


def plot_mean_cycles(
    cycles: pd.DataFrame,
    *,
    views: Sequence[str] | None = None,
    value_unit: str = "px",
    title: str | None = None,
    labels: Mapping | None = None,
    toe_off_pct: Mapping | None = None,
    x_reference: str = DEFAULT_X_REFERENCE,
):
    """Mean cycle +- SD (across trials, or subjects) of every view, one panel per body part
    (row) and axis (column).

    Each trial first contributes its mean curve per view (several cycles are averaged); with
    a ``subject`` column the trials of a subject are averaged per view and the mean and SD
    are across subjects.

    Parameters
    ----------
    labels
        ``{view: label}`` for the legend (default :func:`view_labels`: the view and its leg).
    toe_off_pct
        ``{view: mean toe off in % of the cycle}``: a dashed line in the view's colour.
    x_reference
        The body part x is relative to (the axis labels say it).

    Returns
    -------
    matplotlib.figure.Figure
    """
    labels = dict(labels or view_labels(cycles))
    df = validate_cycles_table(cycles)
    views = _resolve_views(df, views, min_views=1)
    units = _units_of(df, value_unit)
    df, trials = _units(df)
    who = "trials" if trials is None else "subjects"
    bparts, axes = _grid_keys(df)
    marks = [v for v in views if toe_off_pct is not None and np.isfinite(toe_off_pct.get(v, np.nan))]
    ncol = _legend_columns(len(axes), len(views))
    fig, axs = _new_figure(len(bparts), len(axes), title=title or f"Mean cycle \u00b1 SD across {who}",
                           legend_rows=-(-(len(views) + len(marks)) // ncol))
    n_view = df.groupby("view", observed=True)["trial"].nunique()
    curves = _mean_sd_curves(df)
    handles = {}
    for i, bp in enumerate(bparts):
        for j, axis in enumerate(axes):
            ax = axs[i, j]
            for k, view in enumerate(views):
                if (bp, axis, view) not in curves:
                    continue
                mean, sd = curves[bp, axis, view]
                color = _COLORS[k % len(_COLORS)]
                line, = ax.plot(mean.index, mean.to_numpy(), color=color, lw=1.5)
                handles.setdefault(f"{labels.get(view, view)}, n = {int(n_view.get(view, 0))} {who}", line)
                ax.fill_between(mean.index, (mean - sd).to_numpy(), (mean + sd).to_numpy(),
                                color=color, alpha=0.2, lw=0)
                if toe_off_pct is not None and np.isfinite(toe_off_pct.get(view, np.nan)):
                    mark = ax.axvline(toe_off_pct[view], color=color, lw=0.9, ls="--")
                    handles.setdefault(f"{view} mean toe off ({toe_off_pct[view]:.0f} %)", mark)
            _label_panel(ax, f"{bp} {axis}",
                         value_label(str(axis), units.get(axis, value_unit), x_reference=x_reference,
                                     bodypart=str(bp)),
                         "gait cycle (%)" if i == len(bparts) - 1 else None, cycle=True)
    _figure_legend(fig, list(handles.values()), list(handles), ncol=ncol)
    return fig


def _mean_sd_curves(df: pd.DataFrame) -> dict:
    """``{(bodypart, axis, view): (mean, sd)}``: the mean and SD (ddof 1) of ``value`` at
    each ``pct`` (Series indexed by pct, ascending), all curves grouped at once."""
    g = df.groupby(["bodypart", "axis", "view", "pct"], observed=True)["value"]
    stats = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1)}).reset_index(level="pct")
    out = {}
    for key, block in stats.groupby(level=[0, 1, 2], observed=True, sort=False):
        pct = pd.Index(block["pct"].to_numpy(), name="pct")
        out[key] = (pd.Series(block["mean"].to_numpy(), index=pct), pd.Series(block["sd"].to_numpy(), index=pct))
    return out


def _legend_columns(n_cols: int, n_views: int) -> int:
    """Legend columns for a figure of ``n_cols`` panels: one per view (its line above its
    toe off) when they fit (about 2.4 inches each), else one."""
    width = n_cols * _PANEL_W_IN + (n_cols - 1) * _WSPACE_IN
    return n_views if width >= 2.4 * n_views else 1


def plot_difference_curves(
    difference_curves: pd.DataFrame,
    *,
    value_unit: str = "px",
    title: str | None = None,
    labels: Mapping | None = None,
    x_reference: str = DEFAULT_X_REFERENCE,
):
    """Mean view difference over the cycle with its confidence band, per body part and axis.

    Parameters
    ----------
    difference_curves
        Output of :func:`~napari_gaitint.core.stats.compute_difference_curves`.
    labels
        ``{view: label}`` for the title (e.g. ``"C1 (left leg)"``).
    """
    d = difference_curves
    views = d.attrs.get("views")
    conf = d.attrs.get("confidence", 0.95)
    labels = dict(labels or {})
    if title is None:
        label = (f"{labels.get(views[0], views[0])} \u2212 {labels.get(views[1], views[1])}" if views
                 else "view difference")
        title = f"Mean difference {label} with {conf:.0%} CI"
    units = _units_of(d, value_unit)
    who = "subjects" if d.attrs.get("unit") == "subject" else "trials"
    bparts, axes = _grid_keys(d)
    fig, axs = _new_figure(len(bparts), len(axes), title=title)
    for i, bp in enumerate(bparts):
        for j, axis in enumerate(axes):
            ax = axs[i, j]
            sub = d[(d["bodypart"] == bp) & (d["axis"] == axis)].sort_values("pct")
            ax.axhline(0.0, color="0.5", lw=0.8, ls="--")
            ax.fill_between(sub["pct"], sub["ci_low"], sub["ci_high"], color="#1f77b4", alpha=0.25, lw=0)
            ax.plot(sub["pct"], sub["mean_diff"], color="#1f77b4", lw=1.5)
            n = int(sub["n"].max()) if len(sub) else 0
            _label_panel(ax, f"{bp} {axis} (n = {n} {who})",
                         "difference in " + value_label(str(axis), units.get(axis, value_unit),
                                                        x_reference=x_reference, bodypart=str(bp)),
                         "gait cycle (%)" if i == len(bparts) - 1 else None, cycle=True)
    return fig


def plot_bland_altman(
    points: pd.DataFrame,
    agreement: pd.DataFrame | None = None,
    *,
    value_unit: str = "px",
    title: str | None = None,
    labels: Mapping | None = None,
    x_reference: str = DEFAULT_X_REFERENCE,
):
    """Bland-Altman plots of the per-trial (per-subject) means: difference vs average, bias
    and 95 % limits.

    Parameters
    ----------
    points
        Output of :func:`~napari_gaitint.core.stats.compute_bland_altman_points`.
    agreement
        Output of :func:`~napari_gaitint.core.stats.compute_agreement` for the lines
        (computed from ``points`` when omitted); its ``unit`` column labels the axes.
    labels
        ``{view: label}`` for the title (e.g. ``"C1 (left leg)"``).
    """
    views = points.attrs.get("views")
    labels = dict(labels or {})
    who = "subject" if points.attrs.get("unit") == "subject" else "trial"
    if title is None:
        label = (f"{labels.get(views[0], views[0])} \u2212 {labels.get(views[1], views[1])}" if views
                 else "views")
        title = f"Bland\u2013Altman, per-{who} means over the cycle ({label})"
    units = _units_of(agreement, value_unit) if agreement is not None else {}
    bparts, axes = _grid_keys(points)
    # each body part/axis has its own range of averages
    fig, axs = _new_figure(len(bparts), len(axes), title=title, sharex=False)
    for i, bp in enumerate(bparts):
        for j, axis in enumerate(axes):
            ax = axs[i, j]
            sub = points[(points["bodypart"] == bp) & (points["axis"] == axis)]
            ax.scatter(sub["average"], sub["diff"], s=14, color="#1f77b4", zorder=3)
            if agreement is not None:
                row = agreement[(agreement["bodypart"] == bp) & (agreement["axis"] == axis)]
                bias, lo, hi = (row[c].iloc[0] if len(row) else np.nan for c in ("bias", "loa_low", "loa_high"))
            else:
                dd = sub["diff"].to_numpy(float)
                bias = dd.mean() if dd.size else np.nan
                sd = dd.std(ddof=1) if dd.size > 1 else np.nan
                lo, hi = bias - 1.96 * sd, bias + 1.96 * sd
            if np.isfinite(bias):
                ax.axhline(bias, color="k", lw=1.2)
            for lim in (lo, hi):
                if np.isfinite(lim):
                    ax.axhline(lim, color="#d62728", lw=1, ls="--")
            ax.axhline(0.0, color="0.6", lw=0.6, ls=":")
            what = value_label(str(axis), units.get(axis, value_unit), x_reference=x_reference, bodypart=str(bp))
            _label_panel(ax, f"{bp} {axis} (n = {len(sub)} {who}s)", f"difference in {what}",
                         f"average of the views ({units.get(axis, value_unit)})")
    return fig


def make_figures(
    cycles: pd.DataFrame,
    *,
    views: Sequence[str] | None = None,
    difference_curves: pd.DataFrame | None = None,
    agreement: pd.DataFrame | None = None,
    value_unit: str = "px",
    toe_off_pct: Mapping | None = None,
    x_reference: str = DEFAULT_X_REFERENCE,
) -> dict:
    """All report figures: ``{"mean_cycles", "difference_curves", "bland_altman"}`` -> Figure
    for the positions (``value_unit``, or the table's ``unit`` column) and ``{"mean_angles",
    "difference_angles", "bland_altman_angles"}`` for the joint angles (degrees), each set
    when the table has such rows.

    The agreement figures compare ``views`` (default the first two views, sorted) and are
    omitted when the table has a single view. Views are named with the leg they see
    (:func:`view_labels`); ``toe_off_pct`` (``{view: %}``, e.g. from
    :func:`mean_toe_off_pct`) marks the mean toe off on the mean cycles; ``x_reference`` is
    the body part x is relative to.
    """
    labels = view_labels(cycles)
    df = validate_cycles_table(cycles)
    is_angle = (df["axis"] == ANGLE_AXIS).to_numpy()
    figs = {}
    # positions (px) and joint angles (degrees) in their own figures: one unit per axis
    for rows, names, unit, title in (
        (~is_angle, ("mean_cycles", "difference_curves", "bland_altman"), value_unit, None),
        (is_angle, ANGLE_FIGURE_NAMES, "deg", "Joint angles: mean cycle \u00b1 SD across {who}"),
    ):
        if rows.any():
            figs.update(_figure_set(df[rows], names, views=views, difference_curves=difference_curves,
                                    agreement=agreement, value_unit=unit, title=title, labels=labels,
                                    toe_off_pct=toe_off_pct, x_reference=x_reference))
    return figs


def mean_toe_off_pct(parameters: pd.DataFrame | None) -> dict | None:
    """``{view: mean stance_pct}`` (the mean toe off in % of the cycle) of a parameters table
    (``parameters.csv``: one row per trial and view), or None without one."""
    if parameters is None or not len(parameters) or not {"view", "stance_pct"} <= set(parameters.columns):
        return None
    means = parameters.groupby("view", observed=True)["stance_pct"].mean()
    return {v: float(x) for v, x in means.items() if np.isfinite(x)}


def _figure_set(df: pd.DataFrame, names: Sequence[str], *, views, difference_curves, agreement,
                value_unit: str, title: str | None, labels: Mapping, toe_off_pct, x_reference: str) -> dict:
    """The mean-cycle, difference-curve and Bland-Altman figures of the rows of ``df``."""
    def same_rows(table: pd.DataFrame | None) -> pd.DataFrame | None:
        if table is None:
            return None
        keep = table[table["axis"].isin(df["axis"].unique())]
        keep.attrs.update(table.attrs)
        return keep

    who = "subjects" if "subject" in df.columns else "trials"
    figs = {names[0]: plot_mean_cycles(df, value_unit=value_unit, title=title and title.format(who=who),
                                       labels=labels, toe_off_pct=toe_off_pct, x_reference=x_reference)}
    if df["view"].nunique() < 2:
        return figs
    pair = tuple(views) if views is not None else None
    difference_curves = same_rows(difference_curves)
    if difference_curves is None:
        difference_curves = compute_difference_curves(df, views=pair)
    pair = tuple(difference_curves.attrs.get("views") or pair or ())
    figs[names[1]] = plot_difference_curves(difference_curves, value_unit=value_unit, labels=labels,
                                            x_reference=x_reference)
    points = compute_bland_altman_points(df, views=pair or None)
    agreement = same_rows(agreement)
    if agreement is None:
        agreement = compute_agreement(df, views=pair or None)
    figs[names[2]] = plot_bland_altman(points, agreement, value_unit=value_unit, labels=labels,
                                       x_reference=x_reference)
    return figs


def figure_png_bytes(fig, *, dpi: int = 120) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    _savefig(fig, buf, "png", dpi)
    return buf.getvalue()


def figure_svg_text(fig) -> str:
    """The figure as an SVG document (text)."""
    buf = io.StringIO()
    _savefig(fig, buf, "svg", 72)
    return buf.getvalue()


def _savefig(fig, buf, fmt: str, dpi: int) -> None:
    """``fig.savefig``; an SVG keeps its text as text (editable, and drawing every glyph as
    a path took a third of the SVG's time); a PNG is compressed at zlib's fastest level
    (a third of its time at level 6, for files about 12 % larger)."""
    from matplotlib import rc_context

    kw = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
    with rc_context({"svg.fonttype": "none"} if fmt == "svg" else {}):
        fig.savefig(buf, format=fmt, dpi=dpi, **kw)


def save_figure(
    fig,
    path_stem: str | Path,
    *,
    formats: Iterable[str] = ("png", "svg"),
    dpi: int = 120,
    overwrite: bool = False,
) -> list[Path]:
    """Save ``fig`` as ``<path_stem>.png``/``.svg`` (atomic writes; refuses to overwrite by default)."""
    return list(save_figure_bytes(fig, path_stem, formats=formats, dpi=dpi, overwrite=overwrite))


def save_figure_bytes(
    fig,
    path_stem: str | Path,
    *,
    formats: Iterable[str] = ("png", "svg"),
    dpi: int = 120,
    overwrite: bool = False,
) -> dict[Path, bytes]:
    """Like :func:`save_figure` but returns ``{path: bytes written}`` (to reuse the PNG in a report).

    The figure is laid out once, by the first format's drawing, and every format is drawn
    with that layout (the figure keeps its layout engine afterwards).
    """
    stem = Path(path_stem)
    out = {}
    engine = fig.get_layout_engine()
    try:
        for i, fmt in enumerate(formats):
            if i == 1 and engine is not None:
                # The first format's drawing laid the figure out (constrained layout: most of
                # a save's time); the other formats reuse that layout instead of redoing it.
                fig.set_layout_engine("none")
            path = stem.with_name(f"{stem.name}.{fmt}")
            buf = io.BytesIO()
            _savefig(fig, buf, fmt, dpi)
            data = buf.getvalue()
            write_atomic(path, lambda tmp, data=data: tmp.write_bytes(data), overwrite=overwrite)
            out[path] = data
    finally:
        if engine is not None and fig.get_layout_engine() is not engine:
            fig.set_layout_engine(engine)
    return out


def write_figures(
    out_dir: str | Path,
    figures: Mapping[str, object],
    *,
    formats: Iterable[str] = ("png", "svg"),
    dpi: int = 120,
    overwrite: bool = False,
) -> dict:
    """Save every figure of :func:`make_figures` in ``out_dir`` -> ``{name: [paths]}``."""
    out_dir = Path(out_dir)
    return {name: save_figure(fig, out_dir / name, formats=tuple(formats), dpi=dpi, overwrite=overwrite)
            for name, fig in figures.items()}
