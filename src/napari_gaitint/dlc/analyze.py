"""Drive DeepLabCut (3.x, PyTorch engine): analyse trial pairs, send corrected labels back.

Everything here needs the optional extra ``pip install 'napari-gaitint[dlc]'`` except
:func:`mirror_video`, :func:`mirror_pose_x`, :func:`find_trial_pairs` and
:func:`export_labels_to_project` (pure PyAV / pandas). ``deeplabcut`` and ``torch`` are
imported only inside the functions that call them, so importing this module is cheap and
works without DeepLabCut; a missing install raises :class:`DLCNotInstalledError` saying how
to install it.

One network serves both walking directions: the opposite camera's video is mirrored
horizontally (:func:`mirror_video`) so the subject walks the same image direction as in the
training videos, DeepLabCut analyses the mirrored copy, and its predictions are mapped back
onto the original video exactly (:func:`mirror_pose_x`). The manifest ``trials.csv`` records
which view was mirrored (column ``mirrored``); the prediction file it lists is always in the
original video's coordinates, so ``gaitint analyze`` needs to know nothing about mirroring.

Pixel convention: DeepLabCut and napari put the centre of pixel column ``i`` at ``x = i``.
A horizontal flip moves column ``i`` to column ``width - 1 - i``, so the exact inverse map of
the mirrored predictions is ``x -> (width - 1) - x`` (``y`` unchanged).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..core.errors import GaitintError, InputFileError
from ..core.io import (
    load_pose,
    read_dlc_table,
    write_dlc_metadata,
    write_dlc_table,
)
from ..core.pose import VIEW_SIDES, Pose
from ..workflow.manifest import _relative, find_trial_pairs, trial_name_from_videos, update_manifest
from .mirror import mirror_video, mirrored_video_path
from .project import _check_config, import_deeplabcut


@dataclasses.dataclass
class PairAnalysis:
    """What :func:`analyze_trial_pair` wrote.

    Attributes
    ----------
    trial
        Trial name in the manifest.
    predictions
        ``{"C1": path, "C3": path}``: DLC-layout predictions in each ORIGINAL video's
        coordinates (what the manifest lists).
    raw
        ``{"C1": path, "C3": path}``: the files DeepLabCut wrote (for the mirrored view, in
        the mirrored copy's coordinates).
    mirrored
        The view analysed through a mirrored copy, or ``None``.
    mirrored_video
        The mirrored copy, or ``None``.
    manifest
        The ``trials.csv`` written or updated.
    scorer
        DeepLabCut's scorer name (network and snapshot).
    """

    trial: str
    predictions: dict[str, Path]
    raw: dict[str, Path]
    mirrored: str | None
    mirrored_video: Path | None
    manifest: Path
    scorer: str


def _parse_snapshot(snapshot) -> int | str | None:
    if snapshot is None or isinstance(snapshot, int):
        return snapshot
    text = str(snapshot).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text.lower() in ("best", "all"):
        return text.lower()
    if text.lower() == "last":
        return -1
    return text  # a snapshot file name or path, resolved against the shuffle's snapshots


def _resolve_snapshot_index(config: Path, snapshot, *, shuffle: int, trainingsetindex: int):
    """Snapshot option -> DLC's ``snapshot_index`` (int, "best" or None)."""
    snapshot = _parse_snapshot(snapshot)
    if snapshot is None or isinstance(snapshot, int) or snapshot in ("best", "all"):
        return snapshot
    from deeplabcut.pose_estimation_pytorch.apis.utils import get_model_snapshots
    from deeplabcut.pose_estimation_pytorch.data import DLCLoader

    loader = DLCLoader(config, trainset_index=trainingsetindex, shuffle=shuffle)
    snaps = get_model_snapshots("all", loader.model_folder, loader.pose_task)
    want = Path(snapshot).name
    for i, snap in enumerate(snaps):
        if snap.path.name == want or snap.path.stem == want:
            return i
    names = [s.path.name for s in snaps]
    raise InputFileError(
        Path(snapshot), f"no such snapshot in shuffle {shuffle}; the model folder "
        f"{loader.model_folder} has {names}. Give an index (0 = first, -1 = last), 'best' or one "
        "of these names."
    )


def _dlc_output(folder: Path, video: Path, scorer: str) -> Path:
    path = folder / f"{video.stem}{scorer}.h5"
    if not path.is_file():
        found = sorted(folder.glob(f"{video.stem}DLC*.h5"))
        if len(found) == 1:
            return found[0]
        raise GaitintError(
            f"DeepLabCut did not write the expected predictions {path} for {video} "
            f"(found {[p.name for p in found]})"
        )
    return path


def analyze_trial_pair(
    config: str | Path,
    video_c1: str | Path,
    video_c3: str | Path,
    *,
    mirror: str | None = "C3",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    snapshot: int | str | None = None,
    device: str | None = "cpu",
    batch_size: int | None = None,
    out_dir: str | Path | None = None,
    manifest: str | Path | None = None,
    trial: str | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> PairAnalysis:
    """Analyse both views of a trial with a DeepLabCut network; update ``trials.csv``.

    Parameters
    ----------
    config
        The DLC project's ``config.yaml`` (with a trained shuffle).
    video_c1, video_c3
        The two views' videos (C1 sees the left side, C3 the right side). Never modified.
    mirror
        Which view is analysed through a horizontally mirrored copy: ``"C3"`` (default),
        ``"C1"``, or ``None``/``"none"``. Mirror the view whose subject walks the opposite
        image direction to the network's training videos.
    shuffle, trainingsetindex
        Which trained DLC model.
    snapshot
        Snapshot to use: index (0 first, -1 last), ``"best"``, ``"last"``, or a snapshot
        file name (``snapshot-050.pt``); default: the project config's ``snapshotindex``.
    device
        Torch device (``"cpu"``, ``"cuda"``...); ``None`` lets DLC choose.
    batch_size
        Inference batch size (default: the project config's).
    out_dir
        Folder for predictions and the mirrored copy (default: C1 video's folder).
    manifest
        The ``trials.csv`` to write or update (default: ``out_dir/trials.csv``). Its rows for
        this trial are replaced; other rows are kept.
    trial
        Trial name (default: from the video names, ``T01_C1.mp4`` -> ``T01``).
    overwrite
        Replace existing mirrored copies and predictions (and make DLC re-analyse);
        otherwise an existing prediction file of the same scorer raises
        :class:`~.errors.OutputExistsError` (an existing mirrored copy is reused, and
        DeepLabCut itself skips videos it has analysed already).
    progress
        Optional ``progress(message)`` callback, called at each step (for GUIs).

    Returns
    -------
    PairAnalysis
        Paths written. ``predictions[view]`` is always in the original video's coordinates.

    Examples
    --------
    >>> res = analyze_trial_pair("proj/config.yaml", "T01_C1.mp4", "T01_C3.mp4")  # doctest: +SKIP
    >>> res.manifest  # then: gaitint analyze res.manifest results/
    """
    config = _check_config(config)
    videos = {"C1": Path(video_c1), "C3": Path(video_c3)}
    from ..core.video import probe_video

    infos = {v: probe_video(p) for v, p in videos.items()}
    mirror_view = _parse_mirror(mirror)
    out = Path(out_dir) if out_dir is not None else videos["C1"].parent
    manifest = Path(manifest) if manifest is not None else out / "trials.csv"
    trial = trial or trial_name_from_videos(videos["C1"], videos["C3"])

    def step(message: str) -> None:
        if progress is not None:
            progress(message)

    step("importing DeepLabCut")
    dlc = import_deeplabcut()
    snapshot_index = _resolve_snapshot_index(config, snapshot, shuffle=shuffle,
                                             trainingsetindex=trainingsetindex)
    out.mkdir(parents=True, exist_ok=True)
    mirrored_video = None
    analysed = dict(videos)
    if mirror_view is not None:
        mirrored_video = mirrored_video_path(videos[mirror_view], out)
        if not mirrored_video.exists() or overwrite:
            step(f"mirroring {videos[mirror_view].name}")
            mirror_video(videos[mirror_view], mirrored_video, overwrite=overwrite)
        else:
            have, want = probe_video(mirrored_video), infos[mirror_view]
            if (have.width, have.height, have.n_frames) != (want.width, want.height, want.n_frames):
                raise InputFileError(
                    mirrored_video, f"existing mirrored copy does not match {videos[mirror_view].name} "
                    "(size or frame count differ); delete it or pass overwrite=True (--overwrite)"
                )
        analysed[mirror_view] = mirrored_video

    raw_dir = out / "dlc-raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    step(f"DeepLabCut: analysing {analysed['C1'].name} and {analysed['C3'].name}")
    scorer = dlc.analyze_videos(
        str(config),
        [str(analysed["C1"]), str(analysed["C3"])],
        shuffle=shuffle,
        trainingsetindex=trainingsetindex,
        snapshot_index=snapshot_index,
        device=device,
        destfolder=str(raw_dir),
        batch_size=batch_size,
        overwrite=overwrite,
    )
    raw = {v: _dlc_output(raw_dir, analysed[v], scorer) for v in videos}
    predictions: dict[str, Path] = {}
    rows = []
    for view, video in videos.items():
        info = infos[view]
        dest = out / f"{video.stem}{scorer}.h5"
        df = read_dlc_table(raw[view])
        if view == mirror_view:
            df = _mirror_table_x(df, info.width)
        if len(df) != info.n_frames:
            warnings.warn(
                f"DeepLabCut returned {len(df)} frames for {analysed[view]}; the video shows "
                f"{info.n_frames}", stacklevel=2,
            )
        # DLC's predictions, as DLC writes them (PyTables' index on the frame column included)
        write_dlc_table(df, dest, overwrite=overwrite, pytables_index=True)
        # and DLC's metadata beside them: its create_labeled_video needs it
        write_dlc_metadata(dest, source=raw[view], overwrite=overwrite)
        predictions[view] = dest
        rows.append({
            "trial": trial, "view": view, "side": VIEW_SIDES[view],
            "predictions": _relative(dest, manifest.parent), "video": _relative(video, manifest.parent),
            "fps": info.fps, "width": info.width, "height": info.height,
            "mirrored": view == mirror_view,
        })
    update_manifest(manifest, rows)
    step(f"wrote {manifest}")
    return PairAnalysis(trial=trial, predictions=predictions, raw=raw, mirrored=mirror_view,
                        mirrored_video=mirrored_video, manifest=manifest, scorer=str(scorer))


def _parse_mirror(mirror: str | None) -> str | None:
    if mirror is None or str(mirror).strip().lower() in ("", "none", "no", "false"):
        return None
    view = str(mirror).strip().upper()
    if view not in VIEW_SIDES:
        raise GaitintError(f"mirror must be C1, C3 or none, not {mirror!r}")
    return view


def _mirror_table_x(df: pd.DataFrame, width_px: int) -> pd.DataFrame:
    """A DLC table with every ``x`` column mapped by ``x -> (width - 1) - x``.

    The table becomes float64 (DeepLabCut writes float32), so the map is exact and its own
    inverse: ``(w - 1) - x`` of a float32 ``x`` is representable in float64.
    """
    out = df.astype("float64")
    xcols = [c for c in out.columns if c[-1] == "x"]
    out[xcols] = (float(width_px) - 1.0) - out[xcols].to_numpy(dtype=float)
    return out


def analyze_folder(
    config: str | Path,
    folder: str | Path,
    *,
    out_dir: str | Path | None = None,
    manifest: str | Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    **kwargs,
) -> list[PairAnalysis]:
    """:func:`analyze_trial_pair` on every trial pair in a folder (see :func:`find_trial_pairs`).

    All pairs go into one manifest (default ``out_dir/trials.csv``, ``out_dir`` defaulting to
    ``folder``). ``kwargs`` are passed on (mirror, shuffle, snapshot, device...).
    """
    pairs = find_trial_pairs(folder)
    out = Path(out_dir) if out_dir is not None else Path(folder)
    manifest = Path(manifest) if manifest is not None else out / "trials.csv"
    results = []
    for i, (trial, c1, c3) in enumerate(pairs):
        if progress is not None:
            progress(i, len(pairs), trial)
        results.append(analyze_trial_pair(config, c1, c3, out_dir=out, manifest=manifest,
                                          trial=trial, **kwargs))
    if progress is not None:
        progress(len(pairs), len(pairs), "")
    return results


def load_trial_predictions(result: PairAnalysis, view: str) -> Pose:
    """The predictions of one view of a :class:`PairAnalysis` as a :class:`Pose`."""
    return load_pose(result.predictions[view])
