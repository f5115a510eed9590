"""What several benchmark scripts share (not a benchmark: ``run_quick.sh`` skips ``_*.py``).

* :func:`run_script`: run a script's body with temporary folders removed afterwards and a
  user's bad file reported in one line (no traceback);
* :func:`synthetic_cohort`: the benchmarks' synthetic cohort (no video), written once;
* :func:`draw_now`: process a napari viewer's pending events and draw its canvas at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable


def run_script(name: str, body: Callable[[list[str] | None, list], None], argv=None) -> None:
    """``body(argv, tmp_dirs)``; folders ``body`` appends to ``tmp_dirs`` (data it wrote, never
    the user's) are removed at the end, and a :class:`GaitintError` (a file of the user's that
    cannot be read) exits with ``name: message``."""
    from napari_gaitint.core.errors import GaitintError

    tmp_dirs: list = []
    try:
        body(argv, tmp_dirs)
    except GaitintError as err:
        raise SystemExit(f"{name}: {err}") from None
    finally:
        for d in tmp_dirs:
            shutil.rmtree(d, ignore_errors=True)


def synthetic_cohort(folder, n_pairs: int, tmp_dirs: list, *, prefix: str = "gaitint-bench-", **options):
    """The manifest of a synthetic cohort of ``n_pairs`` trial pairs (no video, seed 61) in
    ``folder``, written unless it is there already; in a new temporary folder (removed at
    the end, see :func:`run_script`) when ``folder`` is None. ``options`` go to
    :func:`~napari_gaitint.synthetic.files.write_synthetic_cohort`."""
    import tempfile
    from pathlib import Path

    from napari_gaitint.synthetic.files import write_synthetic_cohort

    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        tmp_dirs.append(folder)
    manifest = Path(folder) / "trials.csv"
    if not manifest.exists():
        manifest = write_synthetic_cohort(folder, n_trials=n_pairs, seed=61, video=False, n_jobs=0, **options)
    return manifest


def draw_now(viewer) -> None:
    """Process the viewer's pending events and draw its canvas now (not at the next turn of
    the event loop), so that a timing includes the drawing."""
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()
    native = getattr(getattr(viewer.window._qt_viewer, "canvas", None), "native", None)
    if native is not None and hasattr(native, "repaint"):
        native.repaint()
    QApplication.processEvents()
