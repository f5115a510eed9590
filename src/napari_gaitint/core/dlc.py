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
import os
import re
import shutil
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from ._csv import write_csv
from ._files import atomic_path, write_atomic, write_text_atomic
from .errors import GaitintError, InputFileError
from .io import (
    VIEW_SIDES,
    Pose,
    load_pose,
    pose_from_dlc_table,
    read_dlc_table,
    write_dlc_metadata,
    write_dlc_table,
)
from .video import VIDEO_SUFFIXES, display_rotation_deg, upright

#: How to get DeepLabCut, quoted in every "not installed" message.
INSTALL_HINT = "pip install 'napari-gaitint[dlc]'"
#: Suffix added to the stem of a mirrored video copy.
MIRROR_SUFFIX = "_mirrored"
#: Columns of ``trials.csv`` written here (the pipeline's columns plus ``mirrored``).
MANIFEST_COLUMNS = ("trial", "view", "side", "predictions", "video", "fps", "width", "height",
                    "mirrored")


class DLCNotInstalledError(GaitintError, ImportError):
    """DeepLabCut (the ``[dlc]`` extra) is not installed in this Python environment."""

    def __init__(self, detail: str = ""):
        self.detail = detail
        why = f" ({detail})" if detail else ""
        super().__init__(
            f"DeepLabCut is not installed in this Python environment{why}. Install the optional "
            f"extra with: {INSTALL_HINT}  (large: it brings PyTorch; DeepLabCut needs pandas<3, "
            "so a separate virtual environment is best)."
        )

    def __reduce__(self):  # pickled as its argument (raised in a worker process)
        return type(self), (self.detail,)


def dlc_available() -> bool:
    """Whether ``deeplabcut`` can be imported here (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("deeplabcut") is not None


def import_deeplabcut():
    """Import and return the ``deeplabcut`` module, or raise :class:`DLCNotInstalledError`.

    Importing DeepLabCut takes several seconds. On machines without internet, set
    ``HF_HUB_OFFLINE=1`` so that model-hub downloads fail at once.
    """
    try:
        import deeplabcut
    except ImportError as err:
        raise DLCNotInstalledError(f"{type(err).__name__}: {err}") from err
    return deeplabcut


# ---------------------------------------------------------------------------------------
# Mirroring
# ---------------------------------------------------------------------------------------
def mirrored_video_path(video: str | Path, out_dir: str | Path | None = None) -> Path:
    """Where :func:`analyze_trial_pair` writes the mirrored copy of ``video``.

    ``<out_dir or video's folder>/<stem>_mirrored<suffix>``.
    """
    video = Path(video)
    folder = Path(out_dir) if out_dir is not None else video.parent
    return folder / f"{video.stem}{MIRROR_SUFFIX}{video.suffix}"


def mirror_video(
    src: str | Path,
    dst: str | Path,
    *,
    overwrite: bool = False,
    crf: int | None = 17,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a horizontally mirrored copy of a video (PyAV).

    The copy keeps the codec, pixel format, frame size, frame rate and frame count of the
    source; frames are flipped with FFmpeg's ``hflip`` filter in the source pixel format (no
    colour conversion). For H.264/H.265 the encoder runs at constant quality ``crf`` (17:
    visually lossless; the source's quantiser cannot be read back), for other codecs at the
    source's bit rate.

    Parameters
    ----------
    src
        The video to mirror (never modified).
    dst
        The mirrored copy (written atomically; its suffix chooses the container).
    overwrite
        Replace an existing ``dst``.
    crf
        Constant-rate factor for x264/x265 (``None``: the encoder's default).
    progress
        Optional ``progress(done_frames, total_frames)`` callback.

    Returns
    -------
    Path
        ``dst``.

    Examples
    --------
    >>> mirror_video("T01_C3.mp4", "T01_C3_mirrored.mp4")  # doctest: +SKIP
    """
    import av

    from .video import probe_video

    src, dst = Path(src), Path(dst)
    info = probe_video(src)  # clear errors for missing / undecodable files
    if src.resolve() == dst.resolve():
        raise InputFileError(dst, "the mirrored copy must not replace its source video")

    def _write(tmp: Path) -> None:
        with av.open(str(src)) as inp:
            ist = inp.streams.video[0]
            ctx = ist.codec_context
            rate = ist.average_rate or ist.base_rate or ist.guessed_rate or Fraction(25)
            rate = Fraction(rate).limit_denominator(100000)
            codec = ctx.name
            with av.open(str(tmp), "w", format=_container_format(dst)) as out:
                try:
                    ost = out.add_stream(codec, rate=rate)
                except Exception:  # decoder-only codec name: fall back to H.264
                    codec = "libx264"
                    ost = out.add_stream(codec, rate=rate)
                ost.width, ost.height = info.width, info.height  # upright size
                ost.pix_fmt = ctx.pix_fmt or "yuv420p"
                if codec in ("h264", "libx264", "hevc", "libx265"):
                    if crf is not None:
                        ost.options = {"crf": str(int(crf))}
                elif ist.bit_rate:
                    ost.bit_rate = ist.bit_rate
                ost.codec_context.time_base = 1 / rate
                # turned upright first (a phone's display rotation, as DLC/OpenCV show the
                # source), then flipped; the copy is stored upright, without a rotation
                turn = {90: [("transpose", "cclock")], 180: [("hflip", None), ("vflip", None)],
                        270: [("transpose", "clock")]}.get(info.rotation_deg, [])
                graph = av.filter.Graph()
                nodes = [graph.add_buffer(template=ist)]
                nodes += [graph.add(name, args) for name, args in [*turn, ("hflip", None)]]
                nodes.append(graph.add("buffersink"))
                for a, b in zip(nodes[:-1], nodes[1:], strict=True):
                    a.link_to(b)
                graph.configure()
                buf, sink = nodes[0], nodes[-1]
                i = 0
                for frame in inp.decode(ist):
                    buf.push(frame)
                    flipped = sink.pull()
                    flipped.pts = i
                    flipped.time_base = 1 / rate
                    for packet in ost.encode(flipped):
                        out.mux(packet)
                    i += 1
                    if progress is not None:
                        progress(i, info.n_frames)
                for packet in ost.encode():
                    out.mux(packet)

    write_atomic(dst, _write, overwrite=overwrite)
    return dst


def _container_format(path: Path) -> str | None:
    return {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}.get(
        path.suffix.lower()
    )


def mirror_pose_x(pose: Pose, width_px: int) -> Pose:
    """Map keypoints between a video and its horizontally mirrored copy.

    ``x -> (width_px - 1) - x``, ``y`` and likelihood unchanged; NaN stays NaN. The map is
    its own inverse, so it takes predictions made on the mirrored copy back onto the original
    video (pixel centres at integer coordinates, as in DeepLabCut and napari).

    Examples
    --------
    >>> p = Pose(np.array([[[0.0, 5.0, 0.9], [959.0, 1.0, 0.8]]]), ("neck", "hip"))
    >>> mirror_pose_x(p, 960).values[0, :, 0]
    array([959.,   0.])
    """
    values = pose.values.copy()
    values[..., 0] = (float(width_px) - 1.0) - values[..., 0]
    meta = dict(pose.meta)
    meta["mirrored_x"] = not meta.get("mirrored_x", False)
    return pose.replace(values=values, meta=meta)


# ---------------------------------------------------------------------------------------
# Trial pairs and the manifest
# ---------------------------------------------------------------------------------------
def trial_name_from_videos(video_c1: str | Path, video_c3: str | Path) -> str:
    """The trial name two view videos share: their stems without the view names.

    ``T01_C1.mp4`` + ``T01_C3.mp4`` -> ``T01``; ``rat5-C1-run2.avi`` + ``rat5-C3-run2.avi`` ->
    ``rat5-run2``. Falls back to the C1 stem when the names have nothing in common.
    """
    a, b = Path(video_c1).stem, Path(video_c3).stem
    cleaned = []
    for stem, view in ((a, "C1"), (b, "C3")):
        s = re.sub(rf"[_\-. ]?{view}(?=$|[_\-. ])", "", stem, count=1, flags=re.IGNORECASE)
        cleaned.append(s.strip("_-. "))
    if cleaned[0] and cleaned[0] == cleaned[1]:
        return cleaned[0]
    prefix = os.path.commonprefix([a, b]).strip("_-. ")
    return prefix or a


def find_trial_pairs(folder: str | Path, *, views: Sequence[str] = ("C1", "C3")) -> list[tuple[str, Path, Path]]:
    """Find ``(trial, video_C1, video_C3)`` pairs in a folder by name.

    A video whose stem contains the first view name (``C1``, as a separate token such as
    ``T01_C1`` or ``rat-C1-2``) pairs with the file of the same name with ``C3`` instead.
    Mirrored copies (``*_mirrored``) are ignored.

    Raises
    ------
    InputFileError
        If the folder does not exist or holds no pair.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "not a folder of videos")
    v1, v3 = views
    pattern = re.compile(rf"(?<![A-Za-z0-9]){v1}(?![0-9])", re.IGNORECASE)
    pairs = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in VIDEO_SUFFIXES or path.stem.endswith(MIRROR_SUFFIX):
            continue
        matches = list(pattern.finditer(path.stem))
        if not matches:
            continue
        m = matches[-1]
        other_stem = path.stem[: m.start()] + v3 + path.stem[m.end():]
        other = path.with_name(other_stem + path.suffix)
        if other.is_file():
            pairs.append((trial_name_from_videos(path, other), path, other))
    if not pairs:
        raise InputFileError(
            folder, f"no trial pairs found: expected videos named like T01_{v1}.mp4 and T01_{v3}.mp4"
        )
    return pairs


def _relpath(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # other drive on Windows
        return str(path.resolve())


def update_manifest(manifest: str | Path, rows: Iterable[Mapping]) -> Path:
    """Add or replace ``(trial, view)`` rows of a ``trials.csv`` manifest, atomically.

    Rows of other trials/views and any extra columns the file has are kept, cell for cell,
    and the file keeps the way it was written (a spreadsheet's ``;`` separators, decimal
    commas, encoding and line ends: :func:`~napari_gaitint.core.manifest.write_manifest_cells`).
    Paths in ``rows`` are written as given (make them relative to the manifest's folder).
    """
    from .manifest import format_cell, read_manifest_cells, write_manifest_cells

    manifest = Path(manifest)
    new = pd.DataFrame(list(rows))
    if not manifest.exists():
        cols = [c for c in MANIFEST_COLUMNS if c in new.columns]
        cols += [c for c in new.columns if c not in cols]
        write_csv(manifest, new[cols].sort_values(["trial", "view"], kind="stable"), overwrite=True)
        return manifest
    old = read_manifest_cells(manifest, required=("trial", "view"))
    dialect = old.attrs["dialect"]
    new = new.apply(lambda col: col.map(lambda v: format_cell(v, dialect)))
    keys = set(zip(new["trial"], new["view"], strict=True))
    keep = [(t, v) not in keys for t, v in zip(old["trial"], old["view"], strict=True)]
    table = pd.concat([old[keep].reset_index(drop=True), new], ignore_index=True).fillna("")
    cols = [c for c in MANIFEST_COLUMNS if c in table.columns]
    cols += [c for c in table.columns if c not in cols]
    table = table[cols].sort_values(["trial", "view"], kind="stable")
    return write_manifest_cells(manifest, table, dialect)


# ---------------------------------------------------------------------------------------
# Analysing videos
# ---------------------------------------------------------------------------------------
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


def _check_config(config: str | Path) -> Path:
    config = Path(config)
    if not config.is_file():
        raise InputFileError(config, "DeepLabCut project config not found (expected the project's config.yaml)")
    if config.suffix.lower() not in (".yaml", ".yml"):
        raise InputFileError(config, "not a DeepLabCut config.yaml")
    return config


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
    from .video import probe_video

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
            "predictions": _relpath(dest, manifest.parent), "video": _relpath(video, manifest.parent),
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


# ---------------------------------------------------------------------------------------
# Corrected frames back into the DLC project
# ---------------------------------------------------------------------------------------
def read_project_config(config: str | Path) -> dict:
    """A DLC project's ``config.yaml`` as a dict (PyYAML; DeepLabCut not needed)."""
    import yaml

    config = _check_config(config)
    try:
        with open(config, encoding="utf-8") as fh:
            cfg = yaml.safe_load(fh)
    except Exception as err:
        raise InputFileError(config, f"cannot read as YAML ({err})") from err
    if not isinstance(cfg, dict) or "bodyparts" not in cfg or "scorer" not in cfg:
        raise InputFileError(config, "not a DeepLabCut project config (no bodyparts/scorer)")
    return cfg


@dataclasses.dataclass
class LabelExport:
    """What :func:`export_labels_to_project` wrote.

    Attributes
    ----------
    folder
        ``labeled-data/<video>``.
    h5, csv
        The merged ``CollectedData_<scorer>`` files.
    images
        The frame PNGs written (existing ones are kept, not rewritten).
    n_new, n_updated, n_total
        Frames added, frames whose labels changed, frames in the merged file.
    backup
        Copy of the previous ``.h5`` (``None`` if there was none).
    video_registered
        Whether the video was missing from the project's ``video_sets``: DeepLabCut's
        ``create_training_dataset`` only reads labelled folders of videos listed there.
    """

    folder: Path
    h5: Path
    csv: Path
    images: list[Path]
    n_new: int
    n_updated: int
    n_total: int
    backup: Path | None
    video_registered: bool


def _as_pose(labels) -> Pose:
    if isinstance(labels, (str, Path)):
        labels = load_pose(labels)
    if isinstance(labels, pd.DataFrame):
        labels = pose_from_dlc_table(labels)
    if not isinstance(labels, Pose):
        raise TypeError("labels must be a Pose, a DLC-layout DataFrame or a .h5/.csv path")
    return labels


@dataclasses.dataclass(frozen=True)
class _ProjectLayout:
    """Label columns of a DLC project (without the scorer level), in the project's order.

    Single-animal: ``(bodypart, coord)``; multi-animal: ``(individual, bodypart, coord)``
    with unique body parts under the ``"single"`` individual, as DeepLabCut writes them.
    """

    multi: bool
    bodyparts: tuple[str, ...]
    individuals: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: dict) -> _ProjectLayout:
        if cfg.get("multianimalproject"):
            return cls(True, tuple(cfg.get("multianimalbodyparts") or ()),
                       tuple(cfg.get("individuals") or ()), tuple(cfg.get("uniquebodyparts") or ()))
        return cls(False, tuple(cfg["bodyparts"]))

    @property
    def levels(self) -> list[str]:
        return ["scorer", "individuals", "bodyparts", "coords"] if self.multi else ["scorer", "bodyparts", "coords"]

    def columns(self) -> list[tuple]:
        if not self.multi:
            return [(b, c) for b in self.bodyparts for c in ("x", "y")]
        cols = [(i, b, c) for i in self.individuals for b in self.bodyparts for c in ("x", "y")]
        return cols + [("single", b, c) for b in self.unique for c in ("x", "y")]

    def key(self, bodypart: str, individual: str | None) -> tuple | None:
        """Column prefix of a body part of ``individual`` (None: not in the project)."""
        if not self.multi:
            return (bodypart,) if bodypart in self.bodyparts else None
        if bodypart in self.unique:
            return ("single", bodypart)
        if bodypart in self.bodyparts:
            return (individual, bodypart)
        return None

    def names(self) -> list[str]:
        return list(self.bodyparts) + list(self.unique)


def _labels_table(labels, layout: _ProjectLayout, frames: Sequence[int] | None, *,
                  bodypart_map: Mapping[str, str] | None = None,
                  individual: str | None = None) -> pd.DataFrame:
    """Labels (Pose or DLC table with frame-number rows) -> frame-indexed table of the
    project's columns (without the scorer level) for the pose's body parts."""
    pose = _as_pose(labels)
    names = [str((bodypart_map or {}).get(b, b)) for b in pose.bodyparts]
    unknown_map = sorted(set(bodypart_map or {}) - set(pose.bodyparts))
    if unknown_map:
        raise GaitintError(f"body-part mapping names {unknown_map}, which the labels do not have "
                           f"(they have {list(pose.bodyparts)})")
    if len(set(names)) != len(names):
        raise GaitintError(f"the body-part mapping sends two body parts to one name: {names}")
    if layout.multi:
        if individual is None:
            individual = pose.individual if pose.individual in layout.individuals else None
            individual = individual or (layout.individuals[0] if layout.individuals else None)
        if individual not in layout.individuals:
            raise GaitintError(f"individual {individual!r} is not in the DLC project's individuals "
                               f"{list(layout.individuals)}")
    keys = [layout.key(n, individual) for n in names]
    missing = [n for n, k in zip(names, keys, strict=True) if k is None]
    if missing:
        raise InputFileError(
            pose.source, f"body part(s) {missing} are not in the DLC project's body parts "
            f"{layout.names()}; map them to the project's names (bodyparts=..., "
            "--bodyparts ours=theirs)"
        )
    frame_numbers = pose.frames
    xy = pose.xy
    if frames is None:
        keep = np.isfinite(xy).any(axis=(1, 2))
    else:
        wanted = {int(f) for f in frames}
        unknown = wanted - set(int(f) for f in frame_numbers)
        if unknown:
            raise InputFileError(pose.source, f"frames {sorted(unknown)[:10]} are not in the labels")
        keep = np.array([int(f) in wanted for f in frame_numbers])
    data = {}
    for j, key in enumerate(keys):
        for k, c in enumerate(("x", "y")):
            data[(*key, c)] = xy[keep, j, k]
    table = pd.DataFrame(data, index=pd.Index(frame_numbers[keep].astype(int), name="frame"))
    table.columns = pd.MultiIndex.from_tuples(list(data), names=layout.levels[1:])
    return table


def _image_name_width(folder: Path, n_frames: int | None) -> int:
    for png in sorted(folder.glob("img*.png")):
        m = re.fullmatch(r"img(\d+)", png.stem)
        if m:
            return len(m.group(1))
    if n_frames:
        return max(1, int(np.ceil(np.log10(n_frames))))
    return 4


def _frame_from_name(name: str) -> int | None:
    m = re.fullmatch(r"img(\d+)\.png", Path(str(name)).name)
    return int(m.group(1)) if m else None


def _read_video_frames(video: Path, frames: set[int]) -> dict[int, np.ndarray]:
    import av

    got = {}
    last = max(frames) if frames else -1
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in frames:  # upright, as DLC extracts frames (OpenCV applies the rotation)
                got[i] = upright(frame.to_ndarray(format="rgb24"), display_rotation_deg(frame))
            if i >= last:
                break
    missing = frames - set(got)
    if missing:
        raise InputFileError(video, f"video has no frame(s) {sorted(missing)[:10]}")
    return got


def _save_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    def _write(tmp: Path) -> None:
        Image.fromarray(np.asarray(array, dtype=np.uint8)).save(tmp, format="PNG")

    write_atomic(path, _write, overwrite=False)


def export_labels_to_project(
    config: str | Path,
    video_name: str,
    labels,
    *,
    frames: Sequence[int] | None = None,
    video: str | Path | None = None,
    images: Mapping[int, np.ndarray] | None = None,
    register_video: bool = True,
    bodyparts: Mapping[str, str] | None = None,
    individual: str | None = None,
) -> LabelExport:
    """Write corrected frames into a DLC project's labelled data, merged with what is there.

    Writes ``labeled-data/<video_name>/CollectedData_<scorer>.h5`` and ``.csv`` in
    DeepLabCut 3's layout (rows ``("labeled-data", video_name, "imgNNNN.png")``, columns
    ``scorer / bodyparts / coords`` with ``x, y``; body parts in the project's order) and the
    frame images ``imgNNNN.png``. Existing labels are never lost: frames not in ``labels``
    keep their rows, and for frames in both, a body part whose new value is NaN keeps its old
    value. The previous ``.h5`` is kept as ``CollectedData_<scorer>.h5.bak``.

    Parameters
    ----------
    config
        The DLC project's ``config.yaml`` (single- or multi-animal project).
    video_name
        Name of the labelled-data folder: the video's stem (``T01_C1``; for labels of a
        mirrored copy, the copy's stem ``T01_C3_mirrored``).
    labels
        Corrected keypoints in THAT video's image coordinates: a :class:`Pose` (rows are
        frame numbers), a DLC-layout DataFrame or a ``.h5``/``.csv`` file.
    frames
        Which frame numbers to export (default: every row with any finite keypoint).
    video
        The video to extract the frame images from (default: found in the project's
        ``video_sets`` or ``videos/`` folder by name). Not needed for frames whose PNG exists.
    images
        Frame images by frame number (RGB uint8 arrays), instead of reading ``video``.
    register_video
        Add the video to the project's ``video_sets`` when it is missing (DeepLabCut's
        ``create_training_dataset`` reads only listed videos' labels). The entry is
        inserted into ``config.yaml`` as text, the rest of the file unchanged; the previous
        file is kept as ``config.yaml.bak``.
    bodyparts
        ``{our name: project's name}`` for body parts named differently in the project
        (``{"heel": "LHeel"}``); others keep their names. Every body part of ``labels`` must
        end up with a name the project has.
    individual
        Multi-animal projects: the individual the labels belong to (default: the pose's
        individual if the project has it, else the project's first individual). Unique body
        parts go under DeepLabCut's ``"single"`` individual.

    Returns
    -------
    LabelExport
        Paths and counts. Then retrain: ``deeplabcut.create_training_dataset(config)`` and
        ``deeplabcut.train_network(config, ...)``.
    """
    config = _check_config(config)
    cfg = read_project_config(config)
    project = config.parent
    video_path = Path(video) if video is not None else _find_project_video(project, cfg, video_name)
    res = write_labels(project, video_name, labels, scorer=str(cfg["scorer"]),
                       layout=_ProjectLayout.from_config(cfg), frames=frames, video=video_path,
                       images=images, bodyparts=bodyparts, individual=individual)
    if video_path is not None and register_video:
        res.video_registered = _register_video(config, cfg, video_path, video_name)
    return res


def write_labels(
    project_dir: str | Path,
    video_name: str,
    labels,
    *,
    scorer: str,
    layout: _ProjectLayout | Sequence[str] | None = None,
    frames: Sequence[int] | None = None,
    video: str | Path | None = None,
    images: Mapping[int, np.ndarray] | None = None,
    bodyparts: Mapping[str, str] | None = None,
    individual: str | None = None,
) -> LabelExport:
    """Merge labels into ``<project_dir>/labeled-data/<video_name>/CollectedData_<scorer>``.

    What :func:`export_labels_to_project` does once it has read the project's config; also
    usable on a plain folder (``layout`` = the body parts to write, default the labels' own).
    Frame images come first (a labels file never points at a missing image), existing
    labels are merged (never lost), the previous ``.h5`` is kept as ``.h5.bak``.
    """
    if layout is None:
        layout = tuple(_as_pose(labels).bodyparts) if not isinstance(labels, Pose) else labels.bodyparts
    if not isinstance(layout, _ProjectLayout):
        layout = _ProjectLayout(False, tuple(str(b) for b in layout))
    folder = Path(project_dir) / "labeled-data" / video_name
    table = _labels_table(labels, layout, frames, bodypart_map=bodyparts, individual=individual)
    if table.empty:
        raise GaitintError("no labelled frames to export")

    video_path = Path(video) if video is not None else None
    n_video_frames = None
    if video_path is not None and video_path.is_file():
        from .video import probe_video

        n_video_frames = probe_video(video_path).n_frames
    folder.mkdir(parents=True, exist_ok=True)
    width = _image_name_width(folder, n_video_frames)
    names = [f"img{int(f):0{width}d}.png" for f in table.index]

    # Images first: a labels file must never point at a missing image.
    need = {int(f) for f, name in zip(table.index, names, strict=True) if not (folder / name).exists()}
    written = []
    if need:
        if images is not None:
            missing = need - set(int(k) for k in images)
            if missing:
                raise GaitintError(f"no image given for frame(s) {sorted(missing)[:10]}")
            arrays = {f: images[f] for f in need}
        elif video_path is not None:
            arrays = _read_video_frames(video_path, need)
        else:
            raise GaitintError(
                f"cannot find the video of {video_name!r} to extract frames from; pass video=..."
            )
        for f, name in zip(table.index, names, strict=True):
            if int(f) in need:
                _save_png(arrays[int(f)], folder / name)
                written.append(folder / name)

    new = table.copy()
    new.index = pd.MultiIndex.from_tuples([("labeled-data", video_name, n) for n in names])
    new.columns = pd.MultiIndex.from_tuples([(scorer, *c) for c in table.columns], names=layout.levels)
    h5 = folder / f"CollectedData_{scorer}.h5"
    csv = folder / f"CollectedData_{scorer}.csv"
    old = _read_existing_labels(h5, csv, scorer, video_name, layout)
    merged, n_new, n_updated = _merge_labels(old, new, scorer, layout)

    backup = None
    if h5.exists():
        backup = h5.with_name(h5.name + ".bak")
        with atomic_path(backup, overwrite=True) as tmp:
            shutil.copyfile(h5, tmp)
    write_dlc_table(merged, h5, overwrite=True)
    write_dlc_table(merged, csv, overwrite=True)
    return LabelExport(folder=folder, h5=h5, csv=csv, images=written, n_new=n_new,
                       n_updated=n_updated, n_total=len(merged), backup=backup,
                       video_registered=False)


def _find_project_video(project: Path, cfg: dict, video_name: str) -> Path | None:
    for key in (cfg.get("video_sets") or {}):
        p = Path(str(key))
        if p.stem == video_name and p.is_file():
            return p
    for suffix in VIDEO_SUFFIXES:
        p = project / "videos" / f"{video_name}{suffix}"
        if p.is_file():
            return p
    return None


def _read_existing_labels(h5: Path, csv: Path, scorer: str, video_name: str,
                          layout: _ProjectLayout) -> pd.DataFrame | None:
    source = h5 if h5.exists() else csv if csv.exists() else None
    if source is None:
        return None
    df = read_dlc_table(source)
    has_individuals = "individuals" in (df.columns.names or [])
    if has_individuals != layout.multi:
        kind = "multi-animal" if has_individuals else "single-animal"
        raise InputFileError(source, f"holds {kind} labels but the project is "
                             f"{'multi' if layout.multi else 'single'}-animal; not merged")
    # DLC 2.x labels have one index level "labeled-data/video/img.png": make it three.
    if not isinstance(df.index, pd.MultiIndex):
        parts = [Path(str(i)).parts for i in df.index]
        df.index = pd.MultiIndex.from_tuples(
            [("labeled-data", video_name, p[-1]) for p in parts]
        )
    df.columns = pd.MultiIndex.from_tuples([(scorer, *c[1:]) for c in df.columns], names=layout.levels)
    return df


def _merge_labels(old: pd.DataFrame | None, new: pd.DataFrame, scorer: str,
                  layout: _ProjectLayout) -> tuple[pd.DataFrame, int, int]:
    keys = layout.columns()
    if old is not None:  # columns of the old file the project no longer lists are kept
        keys += [c[1:] for c in dict.fromkeys(old.columns) if c[1:] not in set(keys)]
    cols = pd.MultiIndex.from_tuples([(scorer, *k) for k in keys], names=layout.levels)
    new = new.reindex(columns=cols)
    if old is None:
        merged = new
        n_new, n_updated = len(new), 0
    else:
        old = old.reindex(columns=cols)
        merged = new.combine_first(old)  # new values win; NaN in new keeps the old value
        merged = merged.reindex(columns=cols)
        n_new = int((~new.index.isin(old.index)).sum())
        common = new.index.intersection(old.index)
        before = old.loc[common].to_numpy(dtype=float)
        after = merged.loc[common].to_numpy(dtype=float)
        same = (before == after) | (np.isnan(before) & np.isnan(after))
        n_updated = int((~same.all(axis=1)).sum())
    order = sorted(merged.index, key=lambda t: (t[0], t[1], _frame_from_name(t[2]) or 0, t[2]))
    merged = merged.loc[order].astype(float)
    return merged, n_new, n_updated


def _register_video(config: Path, cfg: dict, video: Path, video_name: str) -> bool:
    """Add ``video`` to the project's ``video_sets`` (DeepLabCut's ``create_training_dataset``
    reads only the labelled folders of videos listed there). Returns False if listed already.

    The entry is inserted as text under ``video_sets:`` so the rest of ``config.yaml``
    (comments, order) stays as the user or DeepLabCut wrote it; the result is parsed back and
    must equal the old config plus the new entry, else nothing is written. The previous file
    is kept as ``config.yaml.bak``. DeepLabCut is not needed.
    """
    import yaml

    sets = cfg.get("video_sets") or {}
    if any(Path(str(k)).stem == video_name for k in sets):
        return False
    from .video import probe_video

    info = probe_video(video)
    key = str(video.resolve())
    entry = yaml.safe_dump({key: {"crop": f"0, {info.width}, 0, {info.height}"}},
                           default_flow_style=False, sort_keys=False, width=10_000).splitlines()
    text = config.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if re.match(r"video_sets\s*:", line)), None)
    if at is None:
        new_lines = [*lines, *([] if not lines or lines[-1].endswith("\n") else ["\n"]), "video_sets:\n"]
        at, indent = len(new_lines) - 1, "  "
    else:
        new_lines = list(lines)
        new_lines[at] = "video_sets:\n"  # also turns "video_sets: {}" / "video_sets:" (null) into a mapping
        nxt = lines[at + 1] if at + 1 < len(lines) else ""
        m = re.match(r"(\s+)\S", nxt) if sets else None
        indent = m.group(1) if m else "  "
    new_lines[at + 1:at + 1] = [indent + line + "\n" for line in entry]
    new_text = "".join(new_lines)
    expected = dict(cfg, video_sets={**sets, key: {"crop": f"0, {info.width}, 0, {info.height}"}})
    try:
        ok = yaml.safe_load(new_text) == expected
    except yaml.YAMLError:
        ok = False
    if not ok:
        raise GaitintError(
            f"{config}: could not add {video} to video_sets without changing anything else; add it "
            f"with deeplabcut.add_new_videos('{config}', ['{video}']) (the labels are written)"
        )
    with atomic_path(config.with_name(config.name + ".bak"), overwrite=True) as tmp:
        shutil.copyfile(config, tmp)
    write_text_atomic(config, new_text, overwrite=True)
    return True


def export_labels_mirrored(
    config: str | Path,
    video: str | Path,
    labels,
    *,
    frames: Sequence[int] | None = None,
    register_video: bool = True,
    **kwargs,
) -> LabelExport:
    """Export corrected frames of a view the network sees MIRRORED (e.g. C3) into the project.

    ``labels`` are in the original ``video``'s coordinates (as the QA tools show them). The
    mirrored copy ``<project>/videos/<stem>_mirrored<suffix>`` is written if missing, the
    labels are mapped onto it (``x -> width - 1 - x``) and exported to
    ``labeled-data/<stem>_mirrored`` (see :func:`export_labels_to_project`, which also
    takes ``kwargs``: ``bodyparts``, ``individual``, ``images``).
    """
    config = _check_config(config)
    video = Path(video)
    from .video import probe_video

    width = probe_video(video).width
    copy = mirrored_video_path(video, config.parent / "videos")
    if not copy.exists():
        mirror_video(video, copy)
    labels = _as_pose(labels)
    if kwargs.get("images") is not None:  # frames of the original video -> of the mirrored copy
        kwargs["images"] = {f: np.ascontiguousarray(np.asarray(img)[:, ::-1]) for f, img in kwargs["images"].items()}
    return export_labels_to_project(config, copy.stem, mirror_pose_x(labels, width), frames=frames,
                                    video=copy, register_video=register_video, **kwargs)


__all__ = [
    "INSTALL_HINT", "MIRROR_SUFFIX", "VIEW_SIDES", "DLCNotInstalledError", "LabelExport",
    "PairAnalysis", "analyze_folder", "analyze_trial_pair", "dlc_available",
    "export_labels_mirrored", "export_labels_to_project", "find_trial_pairs", "import_deeplabcut",
    "load_trial_predictions", "mirror_pose_x", "mirror_video", "mirrored_video_path",
    "read_project_config", "trial_name_from_videos", "update_manifest", "write_labels",
]
