"""DeepLabCut files in and out.

DeepLabCut (DLC) writes predictions and hand labels as pandas DataFrames with a column
MultiIndex:

* single-animal predictions: ``scorer / bodyparts / coords`` with coords ``x, y, likelihood``;
* multi-animal predictions: ``scorer / individuals / bodyparts / coords`` (body parts that are
  not tied to an animal sit under the individual ``single``);
* hand labels (``CollectedData_<scorer>``): the same headers with coords ``x, y`` only and the
  image paths as the row index (one level ``labeled-data/video/img.png`` in DLC 2.x, three
  levels in DLC 3.x).

Files are ``.h5`` (HDF5 through PyTables, key ``df_with_missing`` as DeepLabCut writes
predictions and labels; label files we wrote before under ``keypoints`` are still read) or
``.csv`` with the header rows written out. :func:`read_dlc_table` (in
:mod:`napari_gaitint.core.io_read`, with every check of the file; importable from here too)
reads any of them into that DataFrame unchanged; :func:`write_dlc_table` writes it back so that DLC and
napari-deeplabcut reopen it (``pd.read_hdf(path)`` / ``pd.read_csv(path, header=[0, 1, 2],
index_col=0)``, in pandas 2 as in pandas 3). :func:`load_pose` turns one individual of it into a
:class:`~napari_gaitint.core.pose.Pose`, :func:`save_pose` writes poses back.

Every problem with a file raises :class:`~napari_gaitint.core.errors.InputFileError` naming it; see
docs/errors.md for the messages.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import write_atomic
from .errors import GaitintWarning, InputFileError
from .io_read import (  # read_dlc_table: public here too
    _MULTI_LEVELS,
    _SINGLE_LEVELS,
    _SUFFIXES,
    read_dlc_table,
)
from .pose import Pose, is_image_index, rename_bodyparts, validate_fps


def image_path_key(row) -> str:
    """The image path of a label table's row as napari-deeplabcut names it: the last three
    parts (``labeled-data/<video>/<image>``) joined by ``/``, whether the row index has one
    level (DLC 2) or three (DLC 3) and whatever the separators."""
    text = "/".join(str(p) for p in row) if isinstance(row, tuple) else str(row)
    parts = [p for p in text.replace("\\", "/").split("/") if p and p not in (".", "..")]
    return "/".join(parts[-3:])


def _natural_key(text: str) -> tuple:
    """Sort key putting ``img9`` before ``img10`` (digit runs compare as numbers)."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def sort_image_rows(df: pd.DataFrame) -> pd.DataFrame:
    """A label table's rows in napari-deeplabcut's frame order: image paths (see
    :func:`image_path_key`) in natural order. Tables of video frames are returned as they
    are."""
    if not is_image_index(df.index):
        return df
    keys = [_natural_key(image_path_key(r)) for r in df.index]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return df if order == list(range(len(keys))) else df.iloc[order]


def is_multianimal(df: pd.DataFrame) -> bool:
    """Whether a DLC table has an ``individuals`` column level."""
    return "individuals" in (df.columns.names or [])


def list_individuals(df: pd.DataFrame) -> list[str]:
    """Individuals of a multi-animal table in file order (``[]`` for single-animal)."""
    if not is_multianimal(df):
        return []
    return list(dict.fromkeys(df.columns.get_level_values("individuals")))


def pose_from_dlc_table(
    df: pd.DataFrame,
    *,
    individual: str | None = None,
    source: str | Path | None = None,
    fps: float | None = None,
) -> Pose:
    """Convert a DLC DataFrame (one individual) into a :class:`Pose`.

    For a multi-animal table ``individual`` chooses the animal. By default (one subject on
    a walkway): when the individuals with data are fragments of one track (at most
    :data:`FRAGMENT_OVERLAP` of their frames overlap, as when a tracker splits the subject's
    track at identity switches), they are merged frame by frame, each frame from the one
    with the highest summed likelihood (``meta["merged_individuals"]``); otherwise the one
    with the most frames with data, with a :class:`GaitintWarning` naming the others. The
    ``single`` pseudo-individual (unique body parts) is used only when nothing else has data.
    """
    source = Path(source) if source is not None else None
    merged = None
    if is_multianimal(df):
        individuals = list_individuals(df)
        if individual is None:
            individual, merged = _default_individual(df, individuals, source)
        elif individual not in individuals:
            raise InputFileError(
                source, f"no individual {individual!r} in this multi-animal file; it has "
                f"{individuals}. Choose one of them (individual=... / --individual)",
            )
        sub = df.xs(individual, axis=1, level="individuals", drop_level=True)
    else:
        if individual not in (None, "", "single"):
            raise InputFileError(
                source, f"single-animal file has no individuals (asked for {individual!r}); "
                "leave the individual unset for single-animal files",
            )
        individual = None
        sub = df
    if merged is not None:
        sub = _merge_individuals(df, merged)
    if sub.shape[1] == 0:
        raise InputFileError(source, "the table has no body-part columns")
    scorer = str(sub.columns.get_level_values("scorer")[0])
    bodyparts = list(dict.fromkeys(sub.columns.get_level_values("bodyparts")))
    coords = set(sub.columns.get_level_values("coords"))
    has_likelihood = "likelihood" in coords
    values = np.full((len(sub), len(bodyparts), 3), np.nan)
    keys = [(scorer, bp, c) for bp in bodyparts for c in ("x", "y", "likelihood")]
    if sub.columns.is_unique:  # one gather instead of a lookup per column
        where = {col: i for i, col in enumerate(sub.columns)}  # (MultiIndex.get_indexer: ~1 ms)
        pos = np.array([where.get(k, -1) for k in keys], dtype=int)
        have = pos >= 0
        values.reshape(len(sub), len(keys))[:, have] = sub.iloc[:, pos[have]].to_numpy(dtype=float)
    else:
        for i, key in enumerate(keys):
            if key in sub.columns:
                values[:, i // 3, i % 3] = sub[key].to_numpy(dtype=float)
    pose = Pose(
        values,
        tuple(bodyparts),
        scorer=scorer,
        individual=individual,
        fps=fps,
        index=df.index.copy(),
        source=source,
        has_likelihood=has_likelihood,
    )
    if merged is not None:
        pose.meta["merged_individuals"] = list(merged)
    return pose


#: Individuals whose frames with data overlap at most this share of the frames any of them
#: covers are taken as fragments of one subject's track and merged.
FRAGMENT_OVERLAP = 0.1


def _frames_with_data(df: pd.DataFrame, individual: str) -> np.ndarray:
    sub = df.xs(individual, axis=1, level="individuals")
    xs = sub.xs("x", axis=1, level="coords") if "x" in sub.columns.get_level_values("coords") else sub
    return xs.notna().any(axis=1).to_numpy()


def _default_individual(df: pd.DataFrame, individuals: list[str], source) -> tuple[str, list[str] | None]:
    """(individual, individuals to merge or None) for a multi-animal table (see
    :func:`pose_from_dlc_table`)."""
    animals = [i for i in individuals if i != "single"]
    has = {i: _frames_with_data(df, i) for i in animals}
    with_data = [i for i in animals if has[i].any()]
    if not with_data:
        return ("single" if "single" in individuals else individuals[0]), None
    if len(with_data) == 1:
        return with_data[0], None
    count = np.sum([has[i] for i in with_data], axis=0)
    union, overlap = int((count > 0).sum()), int((count > 1).sum())
    if overlap <= FRAGMENT_OVERLAP * union:
        return with_data[0], with_data
    best = max(with_data, key=lambda i: int(has[i].sum()))
    where = f"{Path(source).name}: " if source is not None else ""
    warnings.warn(
        f"{where}{len(with_data)} individuals have data at the same time "
        f"({', '.join(f'{i} {int(has[i].sum())} frames' for i in with_data)}); using {best}, the one "
        "with the most. Choose another with individual=... (--individual, or an individual "
        "column in trials.csv)",
        GaitintWarning,
        stacklevel=3,
    )
    return best, None


def _merge_individuals(df: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One individual's columns, each frame from the individual (of ``names``) with the
    highest summed likelihood there (the most points if there is no likelihood)."""
    subs = [df.xs(i, axis=1, level="individuals", drop_level=True) for i in names]
    columns = subs[0].columns
    for other in subs[1:]:
        columns = columns.union(other.columns, sort=False)
    subs = [sub.reindex(columns=columns) for sub in subs]
    score = []
    for sub in subs:
        coords = sub.columns.get_level_values("coords")
        lik = sub.loc[:, coords == "likelihood"] if "likelihood" in set(coords) else sub.loc[:, coords == "x"].notna()
        ok = sub.loc[:, coords == "x"].notna().to_numpy()
        score.append(np.where(ok, np.nan_to_num(np.asarray(lik, dtype=float)), 0.0).sum(axis=1))
    pick = np.argmax(np.stack(score), axis=0)
    values = np.stack([sub.to_numpy(dtype=float) for sub in subs])  # (n_individuals, n, cols)
    out = values[pick, np.arange(len(pick))]
    return pd.DataFrame(out, index=df.index, columns=columns)


def load_pose(
    path: str | Path,
    *,
    individual: str | None = None,
    bodyparts: Mapping[str, str] | None = None,
    fps: float | None = None,
    key: str | None = None,
    allow_empty: bool = False,
    side: str | None = None,
) -> Pose:
    """Load one individual's keypoints from a DLC ``.h5``/``.csv`` file.

    Parameters
    ----------
    path
        DLC predictions or labels.
    individual
        For multi-animal files, which individual (default: the first with data).
    bodyparts
        Optional mapping from our roles to the file's names (e.g. ``{"neck": "Neck"}``);
        when given (``{}`` too), the returned pose has the roles as names, in :data:`ROLES`
        order; roles not in the mapping are matched by name (:func:`match_roles`), and one
        that is not found raises :class:`InputFileError` naming it.
    fps
        Frame rate in frames per second, stored on the pose (checked with
        :func:`validate_fps` when given).
    key
        HDF5 key (see :func:`read_dlc_table`).
    allow_empty
        Accept a file with a header but no frames (by default an :class:`InputFileError`).
    side
        ``"left"``/``"right"``: the leg this camera sees, to pick side-named body parts
        (``LHeel``) when the roles are matched by name.

    Examples
    --------
    >>> pose = load_pose("trial01_C1DLC_resnet50.h5", fps=25)  # doctest: +SKIP
    >>> pose.bodyparts  # doctest: +SKIP
    ('neck', 'hip', 'knee', 'ankle', 'heel', 'toe')
    """
    path = Path(path)
    if fps is not None:
        fps = validate_fps(fps, source=path)
    df = read_dlc_table(path, key=key)
    if len(df) == 0 and not allow_empty:
        raise InputFileError(path, "has a header but no frames; export the predictions again")
    pose = pose_from_dlc_table(df, individual=individual, source=path, fps=fps)
    if bodyparts is not None:
        pose = rename_bodyparts(pose, bodyparts, side=side)
    return pose


def load_poses(path: str | Path, *, key: str | None = None) -> dict[str, Pose]:
    """All individuals of a DLC file, keyed by name (``""`` for single-animal files)."""
    path = Path(path)
    df = read_dlc_table(path, key=key)
    if not is_multianimal(df):
        return {"": pose_from_dlc_table(df, source=path)}
    return {i: pose_from_dlc_table(df, individual=i, source=path) for i in list_individuals(df)}


def pose_to_dlc_table(pose: Pose) -> pd.DataFrame:
    """The DLC-layout DataFrame of a pose (multi-animal layout if ``pose.individual`` is set)."""
    return poses_to_dlc_table([pose])


def dlc_columns(poses: Sequence[Pose]) -> pd.MultiIndex:
    """The DLC column header of :func:`poses_to_dlc_table` (``scorer, [individuals,]
    bodyparts, coords``; the first pose's scorer and likelihood decide for all)."""
    first = poses[0]
    multi = any(p.individual is not None for p in poses)
    parts = tuple((p.individual or "single", tuple(p.bodyparts)) for p in poses)
    # a copy of the one built for these names (building it took ~1 ms a file of a cohort)
    return _dlc_columns(first.scorer, parts, multi, bool(first.has_likelihood)).copy()


@functools.lru_cache(maxsize=64)
def _dlc_columns(scorer: str, parts: tuple, multi: bool, likelihood: bool) -> pd.MultiIndex:
    coords = ("x", "y", "likelihood") if likelihood else ("x", "y")
    if multi:
        tuples = [(scorer, ind, bp, c) for ind, bps in parts for bp in bps for c in coords]
    else:
        tuples = [(scorer, bp, c) for _, bps in parts for bp in bps for c in coords]
    return pd.MultiIndex.from_tuples(tuples, names=_MULTI_LEVELS if multi else _SINGLE_LEVELS)


def poses_to_dlc_table(poses: Sequence[Pose]) -> pd.DataFrame:
    """One DLC table from several individuals' poses (same frames and scorer)."""
    if not poses:
        raise ValueError("no poses to write")
    first = poses[0]
    columns = dlc_columns(poses)
    n_coords = 3 if first.has_likelihood else 2
    blocks = []
    for pose in poses:
        if pose.n_frames != first.n_frames:
            raise ValueError("all poses must have the same number of frames to share a table")
        for j in range(len(pose.bodyparts)):
            blocks.extend(pose.values[:, j, k] for k in range(n_coords))
    data = np.column_stack(blocks) if blocks else np.empty((first.n_frames, 0))
    index = first.index if first.index is not None else pd.RangeIndex(first.n_frames)
    return pd.DataFrame(data, index=index.copy(), columns=columns)


#: HDF5 key of every DLC table we write (DeepLabCut's; it reads labels and predictions there).
DLC_H5_KEY = "df_with_missing"
#: What pandas < 3 writes as ``pandas_version`` on every HDF5 group; pandas 2.x needs it to
#: read "table" format files (pandas 3 stopped writing it).
_PANDAS_HDF_VERSION = "0.15.2"


def _write_h5(df: pd.DataFrame, path: Path, key: str, *, pytables_index: bool = False) -> None:
    """Write like DeepLabCut: predictions (integer frame index) in PyTables "table" format,
    labels (image-path index) in "fixed" format; readable by pandas 2 and 3 alike.

    A "table" gets PyTables' search index on its frame column only with ``pytables_index``
    (see :func:`write_dlc_table`)."""
    table = (
        len(df) > 0
        and not isinstance(df.index, pd.MultiIndex)
        and pd.api.types.is_integer_dtype(df.index)
    )
    with pd.HDFStore(path, mode="w") as store:
        # (pandas builds the index for "table" only; "fixed" has none)
        store.put(key, df, format="table" if table else "fixed", track_times=False,
                  index=pytables_index)
        # set on the open file (opening it again for this took ~1 ms of the ~9 per file)
        attrs = store.get_node(key)._v_attrs
        if "pandas_version" not in attrs._v_attrnames:
            attrs.pandas_version = _PANDAS_HDF_VERSION


def _dlc_csv_text(df: pd.DataFrame) -> str:
    """``df.to_csv()`` as DeepLabCut writes it, except that a first frame with no values is
    written with explicit ``NaN`` cells: with empty cells, ``pd.read_csv(header=[0, 1, 2],
    index_col=0)`` (how DeepLabCut and napari-deeplabcut read csv files) would take that
    row for an index-names row and drop the frame."""
    df = df.rename_axis(index=[None] * df.index.nlevels)  # DLC tables have unnamed indexes
    if len(df) == 0 or not df.iloc[0].isna().all():
        return df.to_csv()
    return (
        df.iloc[:0].to_csv()
        + df.iloc[:1].to_csv(header=False, na_rep="NaN")
        + df.iloc[1:].to_csv(header=False)
    )


def write_dlc_table(
    df: pd.DataFrame, path: str | Path, *, overwrite: bool = False, key: str | None = None,
    pytables_index: bool = False,
) -> Path:
    """Write a DLC-layout DataFrame to ``.h5`` or ``.csv`` (chosen by the suffix), atomically.

    ``.h5`` uses DeepLabCut's key ``df_with_missing`` (for labels too: DLC reads
    ``CollectedData_*.h5`` under that key). Predictions (integer frame index) are written in PyTables "table" format
    and labels (image-path index) in "fixed" format, as DeepLabCut does; files open with
    ``pd.read_hdf(path)`` in pandas 2 and 3. ``.csv`` writes the header rows.
    An existing file is never replaced unless ``overwrite`` is True.

    ``pytables_index=True`` also writes PyTables' search index on the frame column of a
    "table", as DeepLabCut's own files have (pandas' default). It only speeds up queries
    such as ``pd.read_hdf(path, where="index > 500")`` on long files; the same queries work
    without it. Without it a 100-frame file took ~3 ms to write instead of ~6.5 ms and
    ~2 ms to open instead of ~4 ms (PyTables loads the index whenever it opens the table).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputFileError(path, f"output must end in .h5 or .csv, not {path.suffix!r}")
    if key is None:
        key = DLC_H5_KEY

    def _write(tmp: Path) -> None:
        if suffix == ".csv":
            tmp.write_text(_dlc_csv_text(df), encoding="utf-8")
        else:
            _write_h5(df, tmp, key, pytables_index=pytables_index)

    return write_atomic(path, _write, overwrite=overwrite)


def dlc_metadata_path(h5: str | Path) -> Path:
    """``<stem>_meta.pickle`` beside a predictions file: where DeepLabCut keeps (and its
    create_labeled_video and extract_outlier_frames look for) the metadata of an analysis."""
    h5 = Path(h5)
    return h5.with_name(f"{h5.stem}_meta.pickle")


def write_dlc_metadata(
    h5: str | Path, *, source: str | Path | None = None, pose: Pose | None = None,
    overwrite: bool = False,
) -> Path:
    """Write DeepLabCut's metadata file (:func:`dlc_metadata_path`) for predictions we wrote.

    DeepLabCut's create_labeled_video and extract_outlier_frames refuse predictions without
    it ("No metadata found"). It is a copy of the ``source`` predictions' own metadata when
    DeepLabCut left one beside them; otherwise it holds what those tools read: no cropping
    (frame size from ``pose`` when known), the scorer, body parts, frame count and rate.
    """
    import pickle

    out = dlc_metadata_path(h5)
    own = dlc_metadata_path(source) if source is not None else None
    if own is not None and own.is_file():
        data = own.read_bytes()
    else:
        w, h = pose.frame_size if pose is not None and pose.frame_size else (0, 0)
        info = {"cropping": False, "cropping_parameters": [0, int(w), 0, int(h)]}
        if pose is not None:
            info.update(Scorer=pose.scorer, nframes=pose.n_frames, fps=pose.fps,
                        bodyparts=list(pose.bodyparts))
        data = pickle.dumps({"data": info}, protocol=4)
    return write_atomic(out, lambda tmp: tmp.write_bytes(data), overwrite=overwrite)


def save_pose(pose: Pose | Sequence[Pose], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write one pose (or several individuals) in DLC layout to ``.h5``/``.csv``.

    Never writes onto a file a pose was read from (``pose.source``), even with
    ``overwrite=True``: DeepLabCut outputs are the user's raw data. Other existing files
    are replaced only with ``overwrite=True``.
    """
    poses = [pose] if isinstance(pose, Pose) else list(pose)
    path = Path(path)
    for p in poses:
        if p.source is not None and path.exists() and _same_file(p.source, path):
            raise InputFileError(
                path, "is the file these keypoints were read from; source files are never "
                "overwritten — choose another output name"
            )
    return write_dlc_table(poses_to_dlc_table(poses), path, overwrite=overwrite)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return Path(a).exists() and Path(a).samefile(b)
    except OSError:
        return False
