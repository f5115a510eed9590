"""DeepLabCut files in and out, and the in-memory pose type.

DeepLabCut (DLC) writes predictions and hand labels as pandas DataFrames with a column
MultiIndex:

* single-animal predictions: ``scorer / bodyparts / coords`` with coords ``x, y, likelihood``;
* multi-animal predictions: ``scorer / individuals / bodyparts / coords`` (body parts that are
  not tied to an animal sit under the individual ``single``);
* hand labels (``CollectedData_<scorer>``): the same headers with coords ``x, y`` only and the
  image paths as the row index (one level ``labeled-data/video/img.png`` in DLC 2.x, three
  levels in DLC 3.x).

Files are ``.h5`` (HDF5 through PyTables, key ``df_with_missing`` for predictions, ``keypoints``
for labels) or ``.csv`` with the header rows written out. :func:`read_dlc_table` reads any of
them into that DataFrame unchanged; :func:`write_dlc_table` writes it back so that DLC and
napari-deeplabcut reopen it. :class:`Pose` is the array form the analysis works on: one
individual, ``(n_frames, n_bodyparts, 3)`` values ``x_px, y_px, likelihood``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import write_atomic
from .errors import InputFileError

#: Our six roles, in the order the analysis uses them.
ROLES: tuple[str, ...] = ("neck", "hip", "knee", "ankle", "heel", "toe")
#: The joints of the leg chain (the ones DLC may take from the far leg).
LEG_CHAIN: tuple[str, ...] = ("knee", "ankle", "heel", "toe")

_SINGLE_LEVELS = ["scorer", "bodyparts", "coords"]
_MULTI_LEVELS = ["scorer", "individuals", "bodyparts", "coords"]
_SUFFIXES = (".h5", ".hdf5", ".hdf", ".csv")


@dataclasses.dataclass(eq=False)
class Pose:
    """Keypoints of one individual over time, as DeepLabCut tracked or labelled them.

    Parameters
    ----------
    values
        ``(n_frames, n_bodyparts, 3)`` float array: x and y in pixels and the likelihood
        (0–1). Missing points are NaN. Labels without likelihood carry NaN likelihoods and
        ``has_likelihood=False``.
    bodyparts
        Names of the body parts, one per entry of axis 1.
    scorer
        DLC scorer name (network or labeller), kept for writing back.
    individual
        Individual name for multi-animal data, ``None`` for single-animal data.
    fps
        Frame rate in frames per second, if known.
    index
        Row index of the DLC table (frame numbers, or image paths for labels). ``None``
        means ``0 .. n_frames-1``.
    source
        The file this pose was read from, if any. It is never written to.
    has_likelihood
        Whether a likelihood column exists (False for hand labels).
    frame_size
        ``(width_px, height_px)`` of the video, if known; needed for mirroring.
    meta
        Free-form provenance (orientation applied, cleaning settings...).

    Examples
    --------
    >>> import numpy as np
    >>> pose = Pose(np.zeros((4, 2, 3)), ("hip", "knee"))
    >>> pose.n_frames, pose.xy.shape
    (4, (4, 2, 2))
    >>> pose.bodypart("knee").shape
    (4, 3)
    """

    values: np.ndarray
    bodyparts: tuple[str, ...]
    scorer: str = "gaitint"
    individual: str | None = None
    fps: float | None = None
    index: pd.Index | None = None
    source: Path | None = None
    has_likelihood: bool = True
    frame_size: tuple[int, int] | None = None
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 3 or values.shape[2] != 3:
            raise ValueError(
                f"Pose values must have shape (n_frames, n_bodyparts, 3), got {values.shape}"
            )
        self.values = values
        self.bodyparts = tuple(str(b) for b in self.bodyparts)
        if len(self.bodyparts) != values.shape[1]:
            raise ValueError(
                f"{len(self.bodyparts)} body-part names for {values.shape[1]} body parts in values"
            )
        if len(set(self.bodyparts)) != len(self.bodyparts):
            raise ValueError(f"body-part names repeat: {list(self.bodyparts)}")
        if self.index is not None:
            self.index = pd.Index(self.index) if not isinstance(self.index, pd.Index) else self.index
            if len(self.index) != values.shape[0]:
                raise ValueError(f"index has {len(self.index)} rows for {values.shape[0]} frames")
        if self.source is not None:
            self.source = Path(self.source)
        if self.fps is not None:
            self.fps = float(self.fps)

    # -- shape and access ---------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        """Number of frames (rows)."""
        return self.values.shape[0]

    @property
    def xy(self) -> np.ndarray:
        """``(n_frames, n_bodyparts, 2)`` view of x, y in pixels."""
        return self.values[..., :2]

    @property
    def likelihood(self) -> np.ndarray:
        """``(n_frames, n_bodyparts)`` view of the likelihoods."""
        return self.values[..., 2]

    @property
    def frames(self) -> np.ndarray:
        """Frame numbers of the rows: the integer index if there is one, else ``0..n-1``."""
        if self.index is not None and pd.api.types.is_integer_dtype(self.index):
            return np.asarray(self.index, dtype=int)
        return np.arange(self.n_frames)

    def bodypart_index(self, name: str) -> int:
        """Position of body part ``name`` on axis 1; a clear error if it is absent."""
        try:
            return self.bodyparts.index(name)
        except ValueError:
            raise InputFileError(
                self.source,
                f"no body part {name!r}; the data have "
                f"{list(self.bodyparts)}. Map your names to ours with the body-part mapping "
                "option (e.g. --bodyparts neck=Neck,hip=Hip,...).",
            ) from None

    def bodypart(self, name: str) -> np.ndarray:
        """``(n_frames, 3)`` view of one body part's x, y, likelihood."""
        return self.values[:, self.bodypart_index(name), :]

    def replace(self, **changes) -> Pose:
        """A copy with some fields replaced (``values`` is copied unless given)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["values"] = self.values.copy()
        fields["meta"] = dict(self.meta)
        fields.update(changes)
        return Pose(**fields)

    def copy(self) -> Pose:
        """A deep copy of the values (metadata shared where immutable)."""
        return self.replace()

    def select(self, bodyparts: Sequence[str]) -> Pose:
        """A pose with only ``bodyparts``, in that order."""
        idx = [self.bodypart_index(b) for b in bodyparts]
        return self.replace(values=self.values[:, idx, :].copy(), bodyparts=tuple(bodyparts))

    def __repr__(self) -> str:
        who = f", individual={self.individual!r}" if self.individual else ""
        src = f", source={self.source.name!r}" if self.source else ""
        return (
            f"Pose({self.n_frames} frames, bodyparts={list(self.bodyparts)}{who}, "
            f"fps={self.fps}{src})"
        )


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a DeepLabCut .h5/.csv file")
    if path.suffix.lower() not in _SUFFIXES:
        raise InputFileError(
            path, f"not a DeepLabCut file (expected one of {', '.join(_SUFFIXES)})"
        )
    if path.stat().st_size == 0:
        raise InputFileError(path, "file is empty")


def _read_h5(path: Path, key: str | None) -> pd.DataFrame:
    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = [k.lstrip("/") for k in store.keys()]
            if key is None:
                for candidate in ("df_with_missing", "keypoints", "tracks"):
                    if candidate in keys:
                        key = candidate
                        break
                else:
                    if not keys:
                        raise InputFileError(path, "HDF5 file holds no table")
                    key = keys[0]
            elif key not in keys:
                raise InputFileError(path, f"HDF5 key {key!r} not found; keys are {keys}")
            df = store[key]
    except InputFileError:
        raise
    except Exception as err:  # PyTables raises many types for corrupt files
        raise InputFileError(
            path, f"cannot read as HDF5 ({type(err).__name__}: {err}); the file may be truncated "
            "or not a DeepLabCut .h5"
        ) from err
    if not isinstance(df, pd.DataFrame):
        raise InputFileError(path, "HDF5 key does not hold a table")
    return df


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = [fh.readline() for _ in range(5)]
    except OSError as err:
        raise InputFileError(path, f"cannot open ({err.strerror})") from err
    first = [line.split(",")[0].strip().lower() for line in head]
    if not first or first[0] != "scorer":
        raise InputFileError(
            path,
            "not a DeepLabCut csv: the first header row must start with 'scorer' "
            f"(found {head[0][:40].strip()!r})",
        )
    try:
        n_header = first.index("coords") + 1
    except ValueError:
        raise InputFileError(
            path, "not a DeepLabCut csv: no 'coords' header row within the first rows"
        ) from None
    if n_header not in (3, 4):
        raise InputFileError(path, f"unexpected DeepLabCut csv header of {n_header} rows")
    # Labels in DLC 3.x have three index columns (labeled-data, video, image).
    data_line = head[n_header] if len(head) > n_header else ""
    n_index = 1
    if data_line:
        cells = data_line.rstrip("\n").split(",")
        if len(cells) >= 3 and cells[0] == "labeled-data" and not _is_number(cells[2]):
            n_index = 3
    try:
        df = pd.read_csv(
            path, header=list(range(n_header)), index_col=list(range(n_index)), encoding="utf-8"
        )
    except Exception as err:
        raise InputFileError(path, f"cannot parse csv ({type(err).__name__}: {err})") from err
    return df


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _normalise_columns(df: pd.DataFrame, path: Path | None) -> pd.DataFrame:
    cols = df.columns
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels not in (3, 4):
        raise InputFileError(
            path,
            "not a DeepLabCut table: expected column header rows scorer/bodyparts/coords "
            "(or scorer/individuals/bodyparts/coords)",
        )
    names = _MULTI_LEVELS if cols.nlevels == 4 else _SINGLE_LEVELS
    df = df.copy()
    df.columns = cols.set_names(names)
    coords = set(df.columns.get_level_values("coords"))
    if not coords <= {"x", "y", "likelihood"} or not {"x", "y"} <= coords:
        raise InputFileError(
            path, f"coords must be x, y (and likelihood); found {sorted(coords)}"
        )
    # Non-numeric cells become a clear error, not a silent object column.
    bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        converted = df[bad].apply(pd.to_numeric, errors="coerce")
        was = df[bad].notna() & converted.isna()
        if was.to_numpy().any():
            r, c = np.argwhere(was.to_numpy())[0]
            raise InputFileError(
                path,
                f"non-numeric value {df[bad].iloc[r, c]!r} in column {bad[c]} "
                f"at row {df.index[r]!r}",
            )
        df[bad] = converted
    return df


def read_dlc_table(path: str | Path, *, key: str | None = None) -> pd.DataFrame:
    """Read a DeepLabCut ``.h5``/``.csv`` prediction or label file into its DataFrame.

    The DataFrame is returned as DLC wrote it (same index, same columns), with the column
    levels named ``scorer, [individuals,] bodyparts, coords``.

    Parameters
    ----------
    path
        The ``.h5`` or ``.csv`` file.
    key
        HDF5 key; by default ``df_with_missing``, then ``keypoints``, then the only key.

    Raises
    ------
    InputFileError
        For a missing, empty, corrupt or non-DLC file; the message names the file.
    """
    path = Path(path)
    _check_readable(path)
    df = _read_csv(path) if path.suffix.lower() == ".csv" else _read_h5(path, key)
    return _normalise_columns(df, path)


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

    For a multi-animal table ``individual`` chooses the animal; by default the first one
    that has any data (the ``single`` pseudo-individual of unique body parts last).
    """
    source = Path(source) if source is not None else None
    if is_multianimal(df):
        individuals = list_individuals(df)
        if individual is None:
            ordered = [i for i in individuals if i != "single"] + (
                ["single"] if "single" in individuals else []
            )
            with_data = [i for i in ordered if df.xs(i, axis=1, level="individuals").notna().any().any()]
            individual = (with_data or ordered)[0]
        elif individual not in individuals:
            raise InputFileError(
                source, f"no individual {individual!r}; the file has {individuals}"
            )
        sub = df.xs(individual, axis=1, level="individuals", drop_level=True)
    else:
        if individual not in (None, "", "single"):
            raise InputFileError(
                source, f"single-animal file has no individuals (asked for {individual!r})"
            )
        individual = None
        sub = df
    scorer = str(sub.columns.get_level_values("scorer")[0])
    bodyparts = list(dict.fromkeys(sub.columns.get_level_values("bodyparts")))
    coords = set(sub.columns.get_level_values("coords"))
    has_likelihood = "likelihood" in coords
    values = np.full((len(sub), len(bodyparts), 3), np.nan)
    for j, bp in enumerate(bodyparts):
        for k, c in enumerate(("x", "y", "likelihood")):
            key = (scorer, bp, c)
            if key in sub.columns:
                values[:, j, k] = sub[key].to_numpy(dtype=float)
    return Pose(
        values,
        tuple(bodyparts),
        scorer=scorer,
        individual=individual,
        fps=fps,
        index=df.index.copy(),
        source=source,
        has_likelihood=has_likelihood,
    )


def load_pose(
    path: str | Path,
    *,
    individual: str | None = None,
    bodyparts: Mapping[str, str] | None = None,
    fps: float | None = None,
    key: str | None = None,
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
        when given, the returned pose has the roles as names, in :data:`ROLES` order,
        and a missing one raises :class:`InputFileError` naming it.
    fps
        Frame rate in frames per second, stored on the pose.

    Examples
    --------
    >>> pose = load_pose("trial01_C1DLC_resnet50.h5")  # doctest: +SKIP
    >>> pose.bodyparts
    ('neck', 'hip', 'knee', 'ankle', 'heel', 'toe')
    """
    path = Path(path)
    pose = pose_from_dlc_table(read_dlc_table(path, key=key), individual=individual, source=path, fps=fps)
    if bodyparts is not None:
        pose = rename_bodyparts(pose, bodyparts)
    return pose


def load_poses(path: str | Path, *, key: str | None = None) -> dict[str, Pose]:
    """All individuals of a DLC file, keyed by name (``""`` for single-animal files)."""
    path = Path(path)
    df = read_dlc_table(path, key=key)
    if not is_multianimal(df):
        return {"": pose_from_dlc_table(df, source=path)}
    return {i: pose_from_dlc_table(df, individual=i, source=path) for i in list_individuals(df)}


def parse_bodypart_mapping(text: str | None) -> dict[str, str] | None:
    """Parse ``"neck=Neck,hip=Hip"`` into ``{"neck": "Neck", "hip": "Hip"}`` (roles first).

    Roles not named map to themselves.
    """
    if not text:
        return None
    mapping = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise ValueError(f"body-part mapping item {item!r} must look like role=name")
        role, name = (s.strip() for s in item.split("=", 1))
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} in body-part mapping; roles are {list(ROLES)}")
        mapping[role] = name
    return mapping


def rename_bodyparts(pose: Pose, mapping: Mapping[str, str], roles: Sequence[str] = ROLES) -> Pose:
    """Select ``roles`` from ``pose`` using ``mapping`` (role → file name) and name them by role.

    Roles missing from ``mapping`` are looked up under their own name. A role whose name is
    not in the file raises :class:`InputFileError` listing what the file has.
    """
    names = {role: mapping.get(role, role) for role in roles}
    missing = [f"{role} (as {name!r})" for role, name in names.items() if name not in pose.bodyparts]
    if missing:
        raise InputFileError(
            pose.source,
            f"missing body part(s) {', '.join(missing)}; the file has {list(pose.bodyparts)}. "
            "Give the mapping from our roles to your names, e.g. --bodyparts "
            "neck=Neck,hip=Hip,knee=Knee,ankle=Ankle,heel=Heel,toe=Toe",
        )
    out = pose.select([names[r] for r in roles])
    out.bodyparts = tuple(roles)
    out.meta["bodypart_names"] = dict(names)
    return out


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------
def pose_to_dlc_table(pose: Pose) -> pd.DataFrame:
    """The DLC-layout DataFrame of a pose (multi-animal layout if ``pose.individual`` is set)."""
    return poses_to_dlc_table([pose])


def poses_to_dlc_table(poses: Sequence[Pose]) -> pd.DataFrame:
    """One DLC table from several individuals' poses (same frames and scorer)."""
    if not poses:
        raise ValueError("no poses to write")
    first = poses[0]
    multi = any(p.individual is not None for p in poses)
    coords = ("x", "y", "likelihood") if first.has_likelihood else ("x", "y")
    tuples, blocks = [], []
    for pose in poses:
        if pose.n_frames != first.n_frames:
            raise ValueError("all poses must have the same number of frames to share a table")
        for j, bp in enumerate(pose.bodyparts):
            for k, c in enumerate(coords):
                if multi:
                    tuples.append((first.scorer, pose.individual or "single", bp, c))
                else:
                    tuples.append((first.scorer, bp, c))
                blocks.append(pose.values[:, j, k])
    columns = pd.MultiIndex.from_tuples(tuples, names=_MULTI_LEVELS if multi else _SINGLE_LEVELS)
    data = np.column_stack(blocks) if blocks else np.empty((first.n_frames, 0))
    index = first.index if first.index is not None else pd.RangeIndex(first.n_frames)
    return pd.DataFrame(data, index=index.copy(), columns=columns)


def write_dlc_table(df: pd.DataFrame, path: str | Path, *, overwrite: bool = False, key: str | None = None) -> Path:
    """Write a DLC-layout DataFrame to ``.h5`` or ``.csv`` (chosen by the suffix), atomically.

    ``.h5`` uses key ``df_with_missing`` (``keypoints`` for label tables without
    likelihood) in PyTables "table" format as DeepLabCut does; ``.csv`` writes the header rows.
    An existing file is never replaced unless ``overwrite`` is True.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputFileError(path, f"output must end in .h5 or .csv, not {path.suffix!r}")
    if key is None:
        has_lh = "likelihood" in set(df.columns.get_level_values(-1))
        key = "df_with_missing" if has_lh else "keypoints"

    def _write(tmp: Path) -> None:
        if suffix == ".csv":
            df.to_csv(tmp)
        else:
            df.to_hdf(tmp, key=key, mode="w", format="table")

    return write_atomic(path, _write, overwrite=overwrite)


def save_pose(pose: Pose | Sequence[Pose], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write one pose (or several individuals) in DLC layout to ``.h5``/``.csv``.

    Refuses to write onto any pose's own source file unless ``overwrite`` is True.
    """
    poses = [pose] if isinstance(pose, Pose) else list(pose)
    path = Path(path)
    return write_dlc_table(poses_to_dlc_table(poses), path, overwrite=overwrite)
