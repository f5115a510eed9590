"""Corrected frames back into the DeepLabCut project (labelled data for retraining).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core._files import atomic_path, write_atomic, write_text_atomic
from ..core.corrections import PoseEditor
from ..core.errors import AnalysisError, GaitintError, InputFileError
from ..core.io import (
    load_pose,
    pose_from_dlc_table,
    read_dlc_table,
    write_dlc_table,
)
from ..core.pose import Pose
from ..core.video import VIDEO_SUFFIXES, display_rotation_deg, upright
from .mirror import mirror_pose_x, mirror_video, mirrored_video_path
from .project import _check_config, read_project_config


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
        from ..core.video import probe_video

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
    from ..core.video import probe_video

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
    from ..core.video import probe_video

    width = probe_video(video).width
    copy = mirrored_video_path(video, config.parent / "videos")
    if not copy.exists():
        mirror_video(video, copy)
    labels = _as_pose(labels)
    if kwargs.get("images") is not None:  # frames of the original video -> of the mirrored copy
        kwargs["images"] = {f: np.ascontiguousarray(np.asarray(img)[:, ::-1]) for f, img in kwargs["images"].items()}
    return export_labels_to_project(config, copy.stem, mirror_pose_x(labels, width), frames=frames,
                                    video=copy, register_video=register_video, **kwargs)


def export_corrected_labels(
    editor: PoseEditor,
    project_dir: str | Path,
    *,
    video_name: str,
    scorer: str,
    frames: Sequence[int] | None = None,
    video_path: str | Path | None = None,
) -> list[Path]:
    """Write the corrected frames as DLC labels: ``labeled-data/<video>/CollectedData_<scorer>.h5/.csv``.

    Merged with labels already in that folder (none are lost; the previous ``.h5`` is kept as
    ``.h5.bak``), through :func:`write_labels` - the same writer as the
    export into a DeepLabCut project. With ``video_path`` the frame images are written too
    (``img<frame>.png``) so the folder can be merged into a DLC project for retraining;
    without it, only labels whose images exist already can be written.
    """
    frames = list(editor.corrected_frames() if frames is None else frames)
    if not frames:
        raise AnalysisError("no corrected frames to export; correct some points first")
    res = write_labels(project_dir, video_name, editor.pose, scorer=scorer, frames=frames,
                       video=video_path)
    return [res.h5, res.csv, *res.images]
