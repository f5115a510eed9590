"""Sample data: the embedded synthetic trial pair (two videos + DLC-style predictions).

The trial is generated once by :func:`napari_gaitint.synthetic.files.write_synthetic_cohort`
into a cache folder (``$NAPARI_GAITINT_CACHE`` or ``~/.cache/napari-gaitint``) and reused;
it is regenerated when the generator version changes (the folder name holds it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

#: Seed and size of the sample (changing them makes a new cache folder).
SAMPLE_SEED = 2026
SAMPLE_TRIALS = 1
SAMPLE_VERSION = "v2"  # v2: the walker with feet calibrated on real walking


def cache_root() -> Path:
    """Folder for generated sample data."""
    env = os.environ.get("NAPARI_GAITINT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "napari-gaitint"


def ensure_sample(folder: str | Path | None = None, *, n_trials: int = SAMPLE_TRIALS, video: bool = True) -> Path:
    """Generate the sample trial pair if needed; returns its ``trials.csv``.

    Generated into a temporary sibling folder and renamed into place, so an interrupted run
    or two viewers starting at once never leave a half-written sample.
    """
    from ..synthetic.files import write_synthetic_cohort

    folder = Path(folder) if folder is not None else cache_root() / (
        f"sample-{SAMPLE_VERSION}-seed{SAMPLE_SEED}-n{n_trials}{'' if video else '-novideo'}"
    )
    manifest = folder / "trials.csv"
    if manifest.is_file():
        return manifest
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write_synthetic_cohort(
            tmp / "data", n_trials=n_trials, seed=SAMPLE_SEED, fps=25.0, video=video,
            bias_px=0.0, overwrite=False, progress=False,
        )
        try:
            os.replace(tmp / "data", folder)
        except OSError:
            if not manifest.is_file():  # lost a race only if the other one finished
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def sample_trial_pair() -> list[tuple]:
    """npe2 sample data: both views of the synthetic trial, side by side (C3 mirrored)."""
    from ..workflow.manifest import load_manifest
    from ._layers import trial_pair_layers

    rows = load_manifest(ensure_sample())
    first = rows[rows["trial"] == rows["trial"].iloc[0]]
    return trial_pair_layers(first)
