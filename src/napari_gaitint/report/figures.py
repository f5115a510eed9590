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

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core._files import write_atomic
from ..core.angles import ANGLE_AXIS
from ..core.stats import (
    _resolve_views,
    compute_agreement,
    compute_bland_altman_points,
    compute_difference_curves,
    validate_cycles_table,
)

#: Colours per view (tab10 order); C1 first.
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_PANEL_W_IN, _PANEL_H_IN = 3.4, 2.2
#: The figures of the joint angles (degrees; written when the cycles table has angles).
ANGLE_FIGURE_NAMES: tuple[str, ...] = ("mean_angles", "difference_angles", "bland_altman_angles")


def _new_figure(n_rows: int, n_cols: int, *, title: str | None = None, sharex: bool = True):
    """A Figure on an Agg canvas with a grid of axes (always a 2-D array)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(_PANEL_W_IN * n_cols + 0.6, _PANEL_H_IN * n_rows + 0.9), layout="constrained")
    FigureCanvasAgg(fig)
    axs = np.atleast_2d(fig.subplots(n_rows, n_cols, squeeze=False, sharex=sharex))
    if title:
        fig.suptitle(title)
    return fig, axs


def _grid_keys(df: pd.DataFrame) -> tuple[list, list]:
    return list(pd.unique(df["bodypart"])), list(pd.unique(df["axis"]))


def plot_mean_cycles(
    cycles: pd.DataFrame,
    *,
    views: Sequence[str] | None = None,
    value_unit: str = "px",
    title: str | None = "Mean cycle \u00b1 SD across trials",
):
    """Mean cycle +- SD (across trials) of every view, one panel per body part (row) and axis (column).

    Each trial first contributes its mean curve per view (several cycles are averaged).

    Returns
    -------
    matplotlib.figure.Figure
    """
    df = validate_cycles_table(cycles)
    views = _resolve_views(df, views, min_views=1)
    bparts, axes = _grid_keys(df)
    fig, axs = _new_figure(len(bparts), len(axes), title=title)
    for i, bp in enumerate(bparts):
        for j, axis in enumerate(axes):
            ax = axs[i, j]
            sub = df[(df["bodypart"] == bp) & (df["axis"] == axis)]
            for k, view in enumerate(views):
                v = sub[sub["view"] == view]
                if v.empty:
                    continue
                g = v.groupby("pct", observed=True)["value"]
                mean, sd, n = g.mean(), g.std(ddof=1), g.count()
                color = _COLORS[k % len(_COLORS)]
                ax.plot(mean.index, mean.to_numpy(), color=color, lw=1.5,
                        label=f"{view} (n={int(n.max())})")
                ax.fill_between(mean.index, (mean - sd).to_numpy(), (mean + sd).to_numpy(),
                                color=color, alpha=0.2, lw=0)
            ax.set_title(f"{bp} {axis}", fontsize=9)
            if j == 0:
                ax.set_ylabel(value_unit)
            if i == len(bparts) - 1:
                ax.set_xlabel("gait cycle (%)")
            ax.tick_params(labelsize=7)
    handles, labels = axs[0, 0].get_legend_handles_labels()
    if handles:
        axs[0, -1].legend(handles, labels, fontsize=7, loc="best")
    return fig


def plot_difference_curves(
    difference_curves: pd.DataFrame,
    *,
    value_unit: str = "px",
    title: str | None = None,
):
    """Mean view difference over the cycle with its confidence band, per body part and axis.

    Parameters
    ----------
    difference_curves
        Output of :func:`~napari_gaitint.core.stats.compute_difference_curves`.
    """
    d = difference_curves
    views = d.attrs.get("views")
    conf = d.attrs.get("confidence", 0.95)
    if title is None:
        label = f"{views[0]} \u2212 {views[1]}" if views else "view difference"
        title = f"Mean difference {label} with {conf:.0%} CI"
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
            ax.set_title(f"{bp} {axis} (n={n})", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"difference ({value_unit})")
            if i == len(bparts) - 1:
                ax.set_xlabel("gait cycle (%)")
            ax.tick_params(labelsize=7)
    return fig


def plot_bland_altman(
    points: pd.DataFrame,
    agreement: pd.DataFrame | None = None,
    *,
    value_unit: str = "px",
    title: str | None = None,
):
    """Bland-Altman plots of the per-trial means: difference vs average, bias and 95 % limits.

    Parameters
    ----------
    points
        Output of :func:`~napari_gaitint.core.stats.compute_bland_altman_points`.
    agreement
        Output of :func:`~napari_gaitint.core.stats.compute_agreement` for the lines
        (computed from ``points`` when omitted).
    """
    views = points.attrs.get("views")
    if title is None:
        label = f"{views[0]} \u2212 {views[1]}" if views else "views"
        title = f"Bland\u2013Altman, per-trial means ({label})"
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
            ax.set_title(f"{bp} {axis} (n={len(sub)})", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"difference ({value_unit})")
            if i == len(bparts) - 1:
                ax.set_xlabel(f"average ({value_unit})")
            ax.tick_params(labelsize=7)
    return fig


def make_figures(
    cycles: pd.DataFrame,
    *,
    views: Sequence[str] | None = None,
    difference_curves: pd.DataFrame | None = None,
    agreement: pd.DataFrame | None = None,
    value_unit: str = "px",
) -> dict:
    """All report figures: ``{"mean_cycles", "difference_curves", "bland_altman"}`` -> Figure
    for the positions (``value_unit``) and ``{"mean_angles", "difference_angles",
    "bland_altman_angles"}`` for the joint angles (degrees), each set when the table has
    such rows.

    The agreement figures compare ``views`` (default the first two views, sorted) and are
    omitted when the table has a single view.
    """
    df = validate_cycles_table(cycles)
    is_angle = (df["axis"] == ANGLE_AXIS).to_numpy()
    figs = {}
    # positions (px) and joint angles (degrees) in their own figures: one unit per axis
    for rows, names, unit, title in (
        (~is_angle, ("mean_cycles", "difference_curves", "bland_altman"), value_unit,
         "Mean cycle \u00b1 SD across trials"),
        (is_angle, ANGLE_FIGURE_NAMES, "deg", "Joint angles: mean cycle \u00b1 SD across trials"),
    ):
        if rows.any():
            figs.update(_figure_set(df[rows], names, views=views, difference_curves=difference_curves,
                                    agreement=agreement, value_unit=unit, title=title))
    return figs


def _figure_set(df: pd.DataFrame, names: Sequence[str], *, views, difference_curves, agreement,
                value_unit: str, title: str) -> dict:
    """The mean-cycle, difference-curve and Bland-Altman figures of the rows of ``df``."""
    def same_rows(table: pd.DataFrame | None) -> pd.DataFrame | None:
        if table is None:
            return None
        keep = table[table["axis"].isin(df["axis"].unique())]
        keep.attrs.update(table.attrs)
        return keep

    figs = {names[0]: plot_mean_cycles(df, value_unit=value_unit, title=title)}
    if df["view"].nunique() < 2:
        return figs
    pair = tuple(views) if views is not None else None
    difference_curves = same_rows(difference_curves)
    if difference_curves is None:
        difference_curves = compute_difference_curves(df, views=pair)
    pair = tuple(difference_curves.attrs.get("views") or pair or ())
    figs[names[1]] = plot_difference_curves(difference_curves, value_unit=value_unit)
    points = compute_bland_altman_points(df, views=pair or None)
    agreement = same_rows(agreement)
    if agreement is None:
        agreement = compute_agreement(df, views=pair or None)
    figs[names[2]] = plot_bland_altman(points, agreement, value_unit=value_unit)
    return figs


def figure_png_bytes(fig, *, dpi: int = 120) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def figure_svg_text(fig) -> str:
    """The figure as an SVG document (text)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


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
            fig.savefig(buf, format=fmt, dpi=dpi)
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
