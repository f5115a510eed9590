"""Write the whole statistics output folder: tables, figures and the HTML report."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..core._csv import write_csv
from ..core.agreement import compute_agreement, compute_difference_curves
from ..core.angles import ANGLE_AXIS
from ..core.config import StatsConfig
from ..core.errors import OutputExistsError
from ..core.stats import format_dropped, rm_anova, spm_rm_anova, validate_cycles_table
from .figures import ANGLE_FIGURE_NAMES

#: Figure names written to ``figures/`` (PNG and SVG each).
FIGURE_NAMES: tuple[str, ...] = ("mean_cycles", "difference_curves", "bland_altman")
FIGURE_FORMATS: tuple[str, ...] = ("png", "svg")



@dataclasses.dataclass
class StatsOutputs:
    """What :func:`write_stats_outputs` computed and wrote."""

    out_dir: Path
    anova: pd.DataFrame
    agreement: pd.DataFrame
    difference_curves: pd.DataFrame
    files: dict[str, Path]
    dropped_trials: list
    spm: pd.DataFrame | None = None

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [f"wrote {len(self.files)} file(s) to {self.out_dir}"]
        for key in ("anova", "agreement", "difference_curves", "report"):
            if key in self.files:
                lines.append(f"  {key}: {self.files[key]}")
        persp = self.anova[self.anova["effect"] == "perspective"]
        sig = persp[persp["p_gg"] < 0.05]
        if self.anova.attrs.get("unit") == "subject":
            units = (f"{int(self.anova['n_subjects'].max())} subjects "
                     f"({int(self.anova['n_trials'].max())} trials, averaged per subject and view)")
        else:
            units = f"{int(self.anova['n'].max())} trials (no subject column: each trial is a subject)"
        lines.append(f"RM-ANOVA on {units}")
        lines.append(
            f"perspective effect p_gg < 0.05 in {len(sig)} of {persp['F'].notna().sum()} body part/axis tests"
            + (": " + ", ".join(f"{b}/{a}" for b, a in zip(sig["bodypart"], sig["axis"], strict=True)) if len(sig) else "")
        )
        text = format_dropped(self.anova)
        if text:
            lines.append(text)
        return "\n".join(lines)


def planned_outputs(out_dir: str | Path, *, report: bool = True, figures: bool = True,
                    spm: bool = False, angles: bool = False) -> dict[str, Path]:
    """The files :func:`write_stats_outputs` writes (used to refuse overwriting up front);
    ``angles``: the cycles table has joint angles (their figures are planned too)."""
    out_dir = Path(out_dir)
    files = {
        "anova": out_dir / "anova.csv",
        "agreement": out_dir / "agreement.csv",
        "difference_curves": out_dir / "difference_curves.csv",
    }
    for name in (FIGURE_NAMES + (ANGLE_FIGURE_NAMES if angles else ())) if figures else ():
        for fmt in FIGURE_FORMATS:
            files[f"figure_{name}_{fmt}"] = out_dir / "figures" / f"{name}.{fmt}"
    if spm:
        files["spm"] = out_dir / "spm.csv"
    if report:
        files["report"] = out_dir / "report.html"
    return files


def write_stats_outputs(
    out_dir: str | Path,
    cycles: pd.DataFrame,
    *,
    correction: str | None = None,
    views: Sequence[str] | None = None,
    engine: str = StatsConfig.engine,
    report: bool = True,
    figures: bool = True,
    spm: bool = False,
    config: Mapping | None = None,
    parameters: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    overwrite: bool = False,
) -> StatsOutputs:
    """Compute the ANOVA and agreement and write ``anova.csv``, ``agreement.csv``,
    ``difference_curves.csv``, ``figures/*.png|svg`` and ``report.html`` in ``out_dir``.

    ``figures=False`` skips the figures (also in the report), which is much faster.
    ``spm=True`` adds the whole-curve SPM test (``spm.csv``; needs the ``[spm]`` extra).
    ``events`` (an events table) lets the report count and list low-confidence events;
    ``parameters`` (the gait parameters) fill the report's table and mark the mean toe off
    of each view on the mean cycles; ``config`` (the run's settings, as ``config.toml``
    has them) is shown in the report and written into its Methods.
    Nothing is written if any output exists already and ``overwrite`` is False
    (:class:`~napari_gaitint.core.errors.OutputExistsError`), or if the statistics fail.
    The agreement compares the first two views (sorted) unless ``views`` gives them.
    """
    from .figures import (
        DEFAULT_X_REFERENCE,
        figure_work,
        make_figures,
        mean_toe_off_pct,
        save_figure_bytes,
    )
    from .html import build_report

    out_dir = Path(out_dir)
    df = validate_cycles_table(cycles)
    planned = planned_outputs(out_dir, report=report, figures=figures, spm=spm,
                              angles=bool((df["axis"] == ANGLE_AXIS).any()))
    if not overwrite:
        for path in planned.values():
            if path.exists():
                raise OutputExistsError(path)
    anova = rm_anova(df, correction=correction, views=views, engine=engine)
    pair = tuple(views[:2]) if views is not None else None
    agreement = compute_agreement(df, views=pair)
    diff = compute_difference_curves(df, views=pair)
    spm_table = spm_rm_anova(df, views=views) if spm else None
    cfg = {"correction": correction, "views": list(views) if views else None, "engine": engine}
    cfg.update(dict(config or {}))
    with figure_work() if figures else contextlib.nullcontext():
        # the figures made before anything is written (a failure leaves no partial outputs)
        # (the cycles as given: their side column names the leg of each view)
        figs = make_figures(cycles, views=pair, difference_curves=diff, agreement=agreement,
                            toe_off_pct=mean_toe_off_pct(parameters),
                            x_reference=cfg.get("cycles_reference") or DEFAULT_X_REFERENCE) if figures else {}
        files: dict[str, Path] = {}
        files["anova"] = write_csv(planned["anova"], anova, overwrite=overwrite)
        files["agreement"] = write_csv(planned["agreement"], agreement, overwrite=overwrite)
        files["difference_curves"] = write_csv(planned["difference_curves"], diff, overwrite=overwrite)
        if spm_table is not None:
            files["spm"] = write_csv(planned["spm"], spm_table, overwrite=overwrite)
        pngs: dict[str, bytes] = {}
        for name, fig in figs.items():
            written = save_figure_bytes(fig, out_dir / "figures" / name, formats=FIGURE_FORMATS,
                                        overwrite=overwrite)
            for path, data in written.items():
                files[f"figure_{name}_{path.suffix[1:]}"] = path
                if path.suffix == ".png":
                    pngs[name] = data  # embedded in the report as is (no second rendering)
    if report:
        files["report"] = build_report(out_dir, cycles, anova, agreement, cfg, parameters,
                                       difference_curves=diff, figures=pngs, spm=spm_table,
                                       events=events, overwrite=overwrite)
    return StatsOutputs(out_dir=out_dir, anova=anova, agreement=agreement, difference_curves=diff,
                        files=files, dropped_trials=list(anova.attrs.get("dropped_trials", [])),
                        spm=spm_table)
