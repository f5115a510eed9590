"""A synthetic cohort on disk: DLC-like predictions, videos, ``trials.csv`` and ``truth/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core._csv import write_csv
from ..core._files import write_text_atomic
from ..core._frames import EXACT_FLOATS
from ..core._threads import available_cpus
from ..core.errors import InputFileError, OutputExistsError
from ..core.io import load_pose, pose_to_dlc_table, write_dlc_table
from ..core.pose import Pose
from .trial import SCORER, VIEWS, SyntheticTrial, generate_trial, trial_names


def prediction_filename(trial: str, view: str) -> str:
    """DLC-like prediction file name, e.g. ``T01_C1DLC_resnet50_gaitintSyntheticshuffle1_100000.h5``."""
    return f"{trial}_{view}{SCORER}.h5"


def _outputs(out_dir: Path, names: Sequence[str], video: bool) -> list[Path]:
    paths = [out_dir / "trials.csv", out_dir / "truth" / "events.csv",
             out_dir / "truth" / "wrong_limb.csv", out_dir / "truth" / "dropouts.csv",
             out_dir / "truth" / "parameters.csv"]
    for t in names:
        for v in VIEWS:
            paths.append(out_dir / prediction_filename(t, v))
            paths.append(out_dir / "truth" / f"{t}_{v}_true.h5")
            paths.append(out_dir / "truth" / f"{t}_{v}_true_far.h5")
            if video:
                paths.append(out_dir / f"{t}_{v}.mp4")
    return paths


def write_trial_files(trial: SyntheticTrial, out_dir: str | Path, *, video: bool = True,
                      overwrite: bool = False) -> list[dict]:
    """Write one trial's predictions, true keypoints and (optionally) videos.

    Returns the manifest rows (paths relative to ``out_dir``).
    """
    out_dir = Path(out_dir)
    rows = []
    for v, sv in trial.views.items():
        pred = prediction_filename(trial.trial, v)
        # predictions as DeepLabCut writes them, with PyTables' index on the frame column
        write_dlc_table(pose_to_dlc_table(sv.pose), out_dir / pred, overwrite=overwrite,
                        pytables_index=True)
        write_dlc_table(pose_to_dlc_table(sv.true_pose), out_dir / "truth" / f"{trial.trial}_{v}_true.h5",
                        overwrite=overwrite)
        write_dlc_table(pose_to_dlc_table(sv.true_far_pose),
                        out_dir / "truth" / f"{trial.trial}_{v}_true_far.h5", overwrite=overwrite)
        vid = ""
        if video:
            from .render import render_video

            vid = f"{trial.trial}_{v}.mp4"
            render_video(sv, out_dir / vid, overwrite=overwrite)
        rows.append({"trial": trial.trial, "view": v, "side": sv.side, "predictions": pred,
                     "video": vid, "fps": trial.fps, "width": trial.frame_size[0],
                     "height": trial.frame_size[1]})
    return rows


def _write_trial_job(job) -> dict:
    """Generate and write one trial of a cohort; its manifest rows and truth tables (a
    module-level function taking one argument, so that process pools can run it)."""
    child, name, out_dir, fps, bias_px, video, overwrite, kwargs = job
    trial = generate_trial(np.random.default_rng(child), trial=name, fps=fps, bias_px=bias_px,
                           **kwargs)
    views = trial.views.items()
    return {
        "rows": write_trial_files(trial, out_dir, video=video, overwrite=overwrite),
        "events": [sv.events.assign(trial=name, view=v) for v, sv in views],
        "wrong": [sv.wrong_limb.assign(trial=name, view=v) for v, sv in views],
        "drops": [sv.dropouts.assign(trial=name, view=v) for v, sv in views],
        "params": trial.parameters().assign(trial=name),
    }


def write_synthetic_cohort(
    out_dir: str | Path,
    *,
    n_trials: int = 3,
    seed: int = 0,
    fps: float = 25.0,
    video: bool = True,
    bias_px: float = 0.0,
    overwrite: bool = False,
    progress: bool = False,
    n_jobs: int = 1,
    **kwargs,
) -> Path:
    """Write a synthetic cohort: predictions, videos, ``trials.csv`` and ``truth/``.

    Layout of ``out_dir``::

        trials.csv                    trial, view, side, predictions, video, fps, width, height
        T01_C1DLC_resnet50_gaitintSyntheticshuffle1_100000.h5   (DLC predictions, per view)
        T01_C1.mp4                    (rendered video, if ``video``)
        truth/events.csv              trial, view, side, event, frame, time_s, in_view
        truth/wrong_limb.csv          trial, view, frame, bodypart, separation_px
        truth/dropouts.csv            trial, view, frame, bodypart, reason
        truth/parameters.csv          trial, side, stride_time_s, stride_length_m, stance_pct, ...
        truth/T01_C1_true.h5          true near-side keypoints (DLC layout); *_true_far.h5 far side

    Paths in ``trials.csv`` are relative to its folder.

    Parameters
    ----------
    out_dir
        Output folder (created).
    n_trials, seed, fps, bias_px
        See :func:`generate_cohort` / :func:`generate_trial`.
    video
        Render an H.264 video per view (PyAV).
    overwrite
        Replace existing outputs; otherwise any existing output raises
        :class:`~.errors.OutputExistsError` before anything is written.
    progress
        Show a tqdm progress bar.
    n_jobs
        Processes writing trials at once (1: in this process; 0 or less: all cores). The
        predictions and the truth are the same whatever the number (each trial has its own
        random stream); the H.264 encoder may round a few pixels differently between runs.
    **kwargs
        More :func:`generate_trial` options.

    Returns
    -------
    Path
        The ``trials.csv`` manifest.
    """
    out_dir = Path(out_dir)
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputFileError(out_dir, "exists and is not a folder; choose an output folder")
    names = trial_names(n_trials)
    if not overwrite:
        for path in _outputs(out_dir, names, video):
            if path.exists():
                raise OutputExistsError(path)
    from tqdm.auto import tqdm

    children = np.random.SeedSequence(seed).spawn(n_trials)
    jobs = [(child, name, out_dir, fps, bias_px, video, overwrite, kwargs)
            for child, name in zip(children, names, strict=True)]
    n_jobs = n_jobs if n_jobs > 0 else available_cpus()
    rows, events, wrong, drops, params = [], [], [], [], []
    with contextlib.ExitStack() as stack:
        if n_jobs > 1 and n_trials > 1:
            from concurrent.futures import ProcessPoolExecutor

            pool = stack.enter_context(ProcessPoolExecutor(max_workers=min(n_jobs, n_trials)))
            done = pool.map(_write_trial_job, jobs)
        else:
            done = map(_write_trial_job, jobs)
        for out in tqdm(done, total=n_trials, desc="synthetic trials", unit="trial", disable=not progress):
            rows += out["rows"]
            events += out["events"]
            wrong += out["wrong"]
            drops += out["drops"]
            params.append(out["params"])

    def cat(frames, cols):
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        return df[cols]

    ev = cat(events, ["trial", "view", "side", "event", "frame", "time_s", "in_view"])
    wl = cat(wrong, ["trial", "view", "frame", "bodypart", "separation_px"])
    dr = cat(drops, ["trial", "view", "frame", "bodypart", "reason"])
    pr = pd.concat(params, ignore_index=True)
    pr = pr[["trial"] + [c for c in pr.columns if c != "trial"]]
    truth = out_dir / "truth"
    write_text_atomic(truth / "events.csv", ev.to_csv(index=False, float_format="%.6f"), overwrite=overwrite)
    write_text_atomic(truth / "wrong_limb.csv", wl.to_csv(index=False, float_format="%.3f"), overwrite=overwrite)
    write_csv(truth / "dropouts.csv", dr, overwrite=overwrite)
    write_text_atomic(truth / "parameters.csv", pr.to_csv(index=False, float_format="%.6f"), overwrite=overwrite)
    manifest = out_dir / "trials.csv"
    write_csv(manifest, pd.DataFrame(rows), overwrite=overwrite)
    return manifest


@dataclasses.dataclass(eq=False)
class SyntheticTruth:
    """Ground truth of a written synthetic cohort (see :func:`load_truth`)."""

    folder: Path
    manifest: pd.DataFrame
    events: pd.DataFrame
    wrong_limb: pd.DataFrame
    dropouts: pd.DataFrame
    parameters: pd.DataFrame

    def true_pose(self, trial: str, view: str, *, far: bool = False) -> Pose:
        """True keypoints (image coordinates) of one trial/view."""
        name = f"{trial}_{view}_true{'_far' if far else ''}.h5"
        row = self.manifest[(self.manifest.trial == trial) & (self.manifest.view == view)]
        fps = float(row.fps.iloc[0]) if len(row) else None
        pose = load_pose(self.folder / "truth" / name, fps=fps)
        if len(row):
            pose.frame_size = (int(row.width.iloc[0]), int(row.height.iloc[0]))
        return pose


def load_truth(manifest_dir: str | Path) -> SyntheticTruth:
    """Read the truth tables of a cohort written by :func:`write_synthetic_cohort`.

    ``manifest_dir`` is the cohort folder or its ``trials.csv``.
    """
    path = Path(manifest_dir)
    folder = path.parent if path.suffix.lower() == ".csv" else path
    manifest_path = folder / "trials.csv"
    if not manifest_path.is_file():
        raise InputFileError(manifest_path, "no trials.csv manifest here; write one with `gaitint synth`")
    truth = folder / "truth"
    tables = {}
    for name in ("events", "wrong_limb", "dropouts", "parameters"):
        p = truth / f"{name}.csv"
        if not p.is_file():
            raise InputFileError(p, "missing truth table; regenerate the cohort with `gaitint synth`")
        tables[name] = pd.read_csv(p, dtype={"trial": str, "view": str}, **EXACT_FLOATS)
    from ..workflow.manifest import read_manifest

    manifest = read_manifest(manifest_path)
    return SyntheticTruth(folder=folder, manifest=manifest, **tables)
