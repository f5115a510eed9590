"""Gait statistics dock: cycles and RM-ANOVA (time x perspective) on a manifest or the loaded trials.

Runs :func:`~napari_gaitint.workflow.cohort.analyze_cohort` and
:func:`~napari_gaitint.core.stats.rm_anova` in a ``thread_worker``; shows the table (significant
rows marked), the mean cycle per view and the view difference, and exports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from magicgui.widgets import (
    ComboBox,
    Container,
    FileEdit,
    Label,
    ProgressBar,
    PushButton,
    Select,
    Table,
)

from ..core.angles import ANGLE_AXIS, JOINTS
from ..core.config import ROLES
from ..core.errors import AnalysisError, GaitintError
from ..workflow.manifest import MANIFEST_FILE_FILTER
from ._meta import keypoint_layers, layer_info
from ._qt import compact_file_edits, notify_error, progress_steps, start_worker, wrap_label

if TYPE_CHECKING:  # `import napari.layers` binds `napari` too
    import napari.layers
    import napari.types
    import napari.viewer


class StatsWidget(Container):
    """Cycles + RM-ANOVA on a manifest (or the trials loaded), in a background thread."""

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self.manifest = FileEdit(label="trials.csv", filter=MANIFEST_FILE_FILTER, mode="r", value="")
        # body parts and joints (the angle's "body part"); x, y positions and joint angles
        parts = list(dict.fromkeys([*ROLES, *JOINTS]))
        self.bodyparts = Select(label="body parts / joints", choices=parts, value=parts)
        self.axes = Select(label="axes", choices=["x", "y", ANGLE_AXIS], value=["x", "y", ANGLE_AXIS])
        self.run = PushButton(text="Run statistics")
        self.progress = ProgressBar(label="progress", min=0, max=1, value=0)
        self.status = Label(value="")
        self.table = Table(value={"bodypart": [], "axis": [], "effect": [], "F": [], "p": [], "sig": []})
        self.plot_part = ComboBox(label="plot", choices=[])
        self.export_dir = FileEdit(label="export to", mode="d", value="")
        self.export = PushButton(text="Export CSV / PNG / HTML")
        self.extend([self.manifest, self.bodyparts, self.axes, self.run, self.progress, self.status,
                     self.table, self.plot_part, self.export_dir, self.export])
        compact_file_edits(self.manifest, self.export_dir)
        wrap_label(self.status)
        self.result = None
        self.anova: pd.DataFrame | None = None
        self.worker = None
        self._figure = None
        self._canvas = None
        self.run.changed.connect(self.start)
        self.export.changed.connect(self._on_export)
        self.plot_part.changed.connect(self._draw)
        self._add_canvas()

    def _add_canvas(self):
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self._figure = Figure(figsize=(5, 4), tight_layout=True)
        self._canvas = FigureCanvasQTAgg(self._figure)
        self._canvas.setMinimumHeight(200)
        self._canvas.setVisible(False)  # shown with the results: the empty dock fits a laptop screen
        self.native.layout().addWidget(self._canvas)
        for select in (self.bodyparts, self.axes):  # short lists scroll instead of growing the dock
            select.native.setMaximumHeight(22 * min(len(select.choices), 3) + 6)
        self.table.native.setMinimumHeight(60)

    def _manifest_source(self):
        path = Path(str(self.manifest.value))
        if path.is_file() or (path.is_dir() and (path / "trials.csv").is_file() and str(self.manifest.value) not in ("", ".")):
            return path
        rows = [layer_info(lay).manifest_row for lay in keypoint_layers(self._viewer)]
        rows = [r for r in rows if r]
        if not rows:
            raise GaitintError("choose a trials.csv (or load trials in the viewer)")
        return pd.DataFrame(rows).drop_duplicates(["trial", "view"])

    def start(self, *_):
        """Run the analysis in a thread_worker; progress, table and plots update when done."""
        from napari.qt.threading import thread_worker

        try:
            source = self._manifest_source()
        except GaitintError as err:
            self.status.value = str(err)
            return None
        bodyparts = list(self.bodyparts.value)
        axes = list(self.axes.value)
        self.run.enabled = False
        self.status.value = "running..."
        self.progress.value = 0

        @thread_worker
        def work():
            return (yield from _analysis_steps(source, bodyparts, axes))

        self.worker = start_worker(work, yielded=self._on_progress, returned=self._on_done,
                                   errored=self._on_error, button=self.run)
        return self.worker

    def _on_progress(self, step):
        done, total = step
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.status.value = f"trial {done} of {total}"

    def _on_error(self, err):
        self.status.value = f"error: {err}"
        notify_error(err)

    def _on_done(self, out):
        self.result, self.anova = out
        self.show_table(self.anova)
        pairs = self.result.cycles[["bodypart", "axis"]].drop_duplicates()
        pairs = pairs[pairs["bodypart"].isin(self.bodyparts.value) & pairs["axis"].isin(self.axes.value)]
        self.plot_part.choices = [f"{b} {a}" for b, a in pairs.itertuples(index=False)]
        n_sig = int(self.anova["significant"].sum()) if len(self.anova) else 0
        n_trials = self.result.cycles["trial"].nunique()
        self.status.value = f"{n_trials} trials; {n_sig} significant effect(s) (p_gg < 0.05, marked *)"
        self._canvas.setVisible(True)
        self._draw()

    def show_table(self, anova: pd.DataFrame) -> None:
        """Fill the table: one row per body part/axis/effect, significant rows marked ``*``."""
        self.table.value = anova_table_rows(anova)
        try:
            from qtpy.QtGui import QColor

            native = self.table.native
            sig_col = list(self.table.column_headers).index("sig")
            for r in range(native.rowCount()):
                item = native.item(r, sig_col)
                if item is not None and item.text() == "*":
                    for c in range(native.columnCount()):
                        native.item(r, c).setBackground(QColor(255, 210, 120))
                        native.item(r, c).setForeground(QColor(0, 0, 0))
        except Exception:  # pragma: no cover - cosmetic only
            pass

    def _draw(self, *_):
        from ..core.agreement import compute_difference_curves
        from ..report.figures import value_label

        if self.result is None or not self.plot_part.value:
            return
        bodypart, axis = str(self.plot_part.value).split(" ")
        cyc = self.result.cycles
        sub = cyc[(cyc["bodypart"] == bodypart) & (cyc["axis"] == axis)]
        fig = self._figure
        fig.clear()
        ax1, ax2 = fig.add_subplot(211), fig.add_subplot(212)
        for view, g in sub.groupby("view", observed=True):
            m = g.groupby("pct", observed=True)["value"].agg(["mean", "std"])
            ax1.plot(m.index, m["mean"], label=str(view))
            ax1.fill_between(m.index, m["mean"] - m["std"], m["mean"] + m["std"], alpha=0.2)
        ax1.set_title(f"mean cycle: {bodypart} {axis}", fontsize=9)
        unit = str(sub["unit"].iloc[0]) if "unit" in sub.columns and len(sub) else "px"
        ax1.set_ylabel(value_label(axis, unit, bodypart=bodypart), fontsize=8)
        ax1.legend(fontsize=7)
        try:
            diff = compute_difference_curves(sub)
        except GaitintError:
            diff = None
        if diff is not None and len(diff):
            a, b = diff.attrs.get("views", ("a", "b"))
            ax2.plot(diff["pct"], diff["mean_diff"], color="k", label=f"{a} - {b}")
            ax2.fill_between(diff["pct"], diff["ci_low"], diff["ci_high"], color="0.5", alpha=0.3,
                             label="95% CI")
            ax2.legend(fontsize=7)
        ax2.axhline(0, color="0.6", lw=0.8)
        ax2.set_title("view difference", fontsize=9)
        ax2.set_ylabel(f"difference ({unit})", fontsize=8)
        ax2.set_xlabel("% gait cycle")
        self._canvas.draw_idle()

    def _on_export(self, *_):
        folder = Path(str(self.export_dir.value))
        if str(self.export_dir.value) in ("", "."):
            self.status.value = "choose an export folder"
            return
        try:
            files = self.export_to(folder)
        except GaitintError as err:
            self.status.value = str(err)
            return
        self.status.value = f"wrote {len(files)} files to {folder}"

    def export_to(self, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write cycles.csv, the current plot (PNG) and the statistics folder of
        :func:`~napari_gaitint.report.outputs.write_stats_outputs` (anova.csv, agreement,
        figures, report.html)."""
        from ..core._csv import write_csv
        from ..core._files import write_atomic
        from ..report.outputs import write_stats_outputs

        if self.result is None:
            raise GaitintError("run the statistics first")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = [
            write_csv(folder / "cycles.csv", self.result.cycles, overwrite=overwrite),
            write_atomic(folder / "stats_plot.png", lambda t: self._figure.savefig(t, format="png", dpi=120), overwrite=overwrite),
        ]
        out = write_stats_outputs(folder, self.result.cycles, parameters=self.result.parameters,
                                  overwrite=overwrite)
        return files + list(out.files.values())


def _analysis_steps(source, bodyparts, axes):
    """Generator: yields ``(done, total)`` while the core runs; returns ``(result, anova)``."""
    from ..core.stats import rm_anova
    from ..workflow.cohort import analyze_cohort

    result = yield from progress_steps(lambda report: analyze_cohort(
        source, None, stats=False, report=False, on_progress=lambda i, n: report((i, n))))
    cycles = result.cycles
    # only the pairs the table has: a joint's angle has no x/y, a body part no angle
    chosen = cycles[cycles["bodypart"].isin(bodyparts) & cycles["axis"].isin(axes)]
    if chosen.empty:
        raise AnalysisError(f"the cycles have no {' or '.join(bodyparts)} with axis {' or '.join(axes)} (joints have "
                            "an angle, body parts x and y): choose other body parts or axes")
    anova = rm_anova(chosen)
    anova = anova.copy()
    anova["significant"] = anova["p_gg"].fillna(anova["p_unc"]) < 0.05
    return result, anova


def anova_table_rows(anova: pd.DataFrame) -> dict:
    """Columns of the stats table (strings), ``sig`` = ``*`` for p_gg < 0.05."""
    p = anova["p_gg"].fillna(anova["p_unc"]) if len(anova) else pd.Series(dtype=float)
    return {
        "bodypart": anova["bodypart"].astype(str).tolist(),
        "axis": anova["axis"].astype(str).tolist(),
        "effect": anova["effect"].astype(str).tolist(),
        "F": [f"{v:.3f}" for v in anova["F"]],
        "p": [f"{v:.3g}" for v in p],
        "np2": [f"{v:.2f}" for v in anova["np2"]],
        "sig": ["*" if s else "" for s in anova.get("significant", p < 0.05)],
    }

