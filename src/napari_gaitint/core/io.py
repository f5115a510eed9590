"""DeepLabCut files in and out, and the in-memory pose type.

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
``.csv`` with the header rows written out. :func:`read_dlc_table` reads any of
them into that DataFrame unchanged; :func:`write_dlc_table` writes it back so that DLC and
napari-deeplabcut reopen it (``pd.read_hdf(path)`` / ``pd.read_csv(path, header=[0, 1, 2],
index_col=0)``, in pandas 2 as in pandas 3). :class:`Pose` is the array form the analysis works
on: one individual, ``(n_frames, n_bodyparts, 3)`` values ``x_px, y_px, likelihood``.

Also here: :func:`validate_fps` (frame rates from options or manifests) and
:func:`align_view_lengths` (two synchronised views with different frame counts). Every
problem with a file raises :class:`~napari_gaitint.core.errors.InputFileError` naming it; see
docs/errors.md for the messages.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import write_atomic
from .errors import AnalysisError, ConfigError, GaitintWarning, InputFileError

#: Our six roles, in the order the analysis uses them.
ROLES: tuple[str, ...] = ("neck", "hip", "knee", "ankle", "heel", "toe")
#: The joints of the leg chain (the ones DLC may take from the far leg).
LEG_CHAIN: tuple[str, ...] = ("knee", "ankle", "heel", "toe")
#: The walkway's two cameras and the leg each one sees.
VIEW_SIDES: dict[str, str] = {"C1": "left", "C3": "right"}


def side_of_view(view: object, side: object = None) -> str | None:
    """The leg a camera sees: ``side`` when it says left or right, else ``C1`` -> left and
    ``C3`` -> right (any case), else None (unknown: the caller asks or leaves it open).

    >>> side_of_view("c3"), side_of_view("C1", "Right"), side_of_view("cam2")
    ('right', 'right', None)
    """
    if isinstance(side, str) and side.strip().lower() in ("left", "right"):
        return side.strip().lower()
    return VIEW_SIDES.get(str(view).strip().upper()) if isinstance(view, str) else None

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
            close = _suggest(name, self.bodyparts)
            example = f"{name}={close}" if close else "neck=Neck,hip=Hip,..."
            raise InputFileError(
                self.source,
                f"no body part {name!r}; the data have "
                f"{list(self.bodyparts)}. Map your names to ours with the body-part mapping "
                f"option (e.g. --bodyparts {example})",
            ) from None

    def bodypart(self, name: str) -> np.ndarray:
        """``(n_frames, 3)`` view of one body part's x, y, likelihood."""
        return self.values[:, self.bodypart_index(name), :]

    def has_xy(self, name: str) -> np.ndarray:
        """``(n_frames,)`` bool: the frames where body part ``name`` has both x and y."""
        v = self.bodypart(name)
        return np.isfinite(v[:, 0]) & np.isfinite(v[:, 1])

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
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_HEADER_NAMES = ("scorer", "individuals", "bodyparts", "coords")
_EXPECTED_HEADER = (
    "DeepLabCut csv files start with the header rows scorer, bodyparts, coords "
    "(single animal) or scorer, individuals, bodyparts, coords (multi-animal) in the first column"
)


def _check_readable(path: Path) -> None:
    if not path.exists():
        hint = ""
        if path.parent.is_dir():
            try:
                near = sorted(p.name for p in path.parent.iterdir()
                              if p.name.startswith(path.stem[:8])
                              and p.suffix.lower() in _SUFFIXES)[:3]
            except OSError:
                near = []
            if near:
                hint = f" (files with a similar name there: {', '.join(near)})"
        elif not path.parent.exists():
            hint = f" (its folder {path.parent} does not exist either)"
        raise InputFileError(path, f"file not found{hint}; check the path")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a DeepLabCut .h5/.csv file")
    if path.suffix.lower() not in _SUFFIXES:
        raise InputFileError(
            path, f"not a DeepLabCut file (expected one of {', '.join(_SUFFIXES)})"
        )
    if path.stat().st_size == 0:
        raise InputFileError(
            path, "file is empty (0 bytes); it was probably not written completely — "
            "export it again from DeepLabCut"
        )


def _h5_problem(path: Path, err: Exception) -> str:
    """A one-line description of why PyTables could not open ``path``."""
    text = str(err)
    m = re.search(r"truncated file: eof = (\d+).*?stored_eof = (\d+)", text)
    if m:
        have, want = int(m.group(1)), int(m.group(2))
        return (
            f"the HDF5 file is truncated ({have} of {want} bytes present); it was not copied "
            "or written completely — copy it again or re-run DeepLabCut's analyze_videos"
        )
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    last = lines[-1] if lines else type(err).__name__
    return (
        f"cannot read as HDF5 ({type(err).__name__}: {last[:160]}); the file may be corrupt "
        "or truncated — export it again from DeepLabCut"
    )


#: HDF5 keys tried in this order when none is given: predictions, then labels/tracks.
_H5_KEYS = ("df_with_missing", "keypoints", "tracks")


def _read_frame_table(path: Path, key: str | None) -> tuple[pd.DataFrame, str] | None:
    """The common case read straight from PyTables: a float table as DeepLabCut writes it
    (pandas ``format="table"``, integer frame index, one block of float64 columns under a
    column MultiIndex). ``None`` for anything else (the caller then goes through
    ``pandas.HDFStore``, which gives the same DataFrame: checked on DLC's own files).

    ``pandas.read_hdf`` spends ~5 ms on such a file, most of it listing the store's keys and
    building the table's pandas description; this takes ~3 ms.
    """
    import tables

    with tables.open_file(path, mode="r") as h5:
        key = key or _H5_KEYS[0]
        try:
            group = h5.get_node("/" + key.strip("/"))
        except (tables.NoSuchNodeError, ValueError):
            return None
        if not isinstance(group, tables.Group) or "table" not in group:
            return None
        attrs = group._v_attrs
        try:
            layout_ok = (
                str(attrs.pandas_type) == "frame_table"
                and str(attrs.table_type) == "appendable_frame"
                and list(attrs.index_cols) == [(0, "index")]
                and list(attrs.values_cols) == ["values_block_0"]
                and not list(attrs.data_columns)
                and len(attrs.non_index_axes) == 1
                and attrs.non_index_axes[0][0] == 1
            )
            if not layout_ok:
                return None
            info = attrs.info
            table = group.table
            table_attrs = table.attrs
            columns = list(attrs.non_index_axes[0][1])
            if (
                str(table_attrs.index_kind) != "integer"
                or str(table_attrs.values_block_0_dtype) != "float64"
                or list(table_attrs.values_block_0_kind) != columns
                or set(info.get("index", {})) - {"name"}
                or info.get("values_block_0", {})
                or info.get(1, {}).get("type") != "MultiIndex"
            ):
                return None
        except (AttributeError, KeyError, TypeError):
            return None
        records = table.read()
    names = info[1].get("names")
    df = pd.DataFrame(
        records["values_block_0"],
        index=pd.Index(records["index"], name=info.get("index", {}).get("name")),
        columns=pd.MultiIndex.from_tuples(columns, names=names),
        copy=False,
    )
    return df, key


def _read_h5_store(path: Path, key: str | None) -> tuple[object, str]:
    with pd.HDFStore(path, mode="r") as store:
        keys = [k.lstrip("/") for k in store.keys()]
        if key is None:
            for candidate in _H5_KEYS:
                if candidate in keys:
                    key = candidate
                    break
            else:
                if not keys:
                    raise InputFileError(
                        path, "the HDF5 file holds no pandas table; is it a DeepLabCut "
                        "predictions or labels file?"
                    )
                key = keys[0]
        elif key not in keys:
            raise InputFileError(path, f"HDF5 key {key!r} not found; keys are {keys}")
        return store[key], key


def _read_h5(path: Path, key: str | None) -> pd.DataFrame:
    try:
        with open(path, "rb") as fh:
            start = fh.read(8)
    except OSError as err:
        raise InputFileError(path, f"cannot open ({err.strerror or err})") from err
    if start != _HDF5_SIGNATURE:
        if start.lower().startswith(b"scorer") or start.startswith(b"\xef\xbb\xbfscorer"):
            problem = "is a csv file with an .h5 name; rename it to .csv"
        else:
            problem = ("not an HDF5 file (no HDF5 signature at the start); is it really a "
                       "DeepLabCut .h5 output? It may be corrupt or another format renamed")
        raise InputFileError(path, problem)
    try:
        with warnings.catch_warnings():
            # damaged files make PyTables warn ("problems loading leaf") before failing;
            # the error below says it once, clearly
            warnings.simplefilter("ignore")
            df, key = _read_frame_table(path, key) or _read_h5_store(path, key)
    except InputFileError:
        raise
    except Exception as err:  # PyTables raises many types for corrupt files
        raise InputFileError(path, _h5_problem(path, err)) from err
    if not isinstance(df, pd.DataFrame):
        raise InputFileError(
            path, f"HDF5 key {key!r} holds a {type(df).__name__}, not a DeepLabCut table"
        )
    return df


def _decode(raw: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 (with or without BOM, as spreadsheet programs save it), else
    Latin-1."""
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _first_cell(line: str) -> str:
    return line.split(",", 1)[0].strip().strip('"').strip().lower()


def _fields_per_line(raw: bytes) -> np.ndarray | None:
    """Number of comma-separated fields on each line of ``raw`` (lines ended by ``\\n``; a
    last line without one counts; empty lines give 0), or ``None`` when the text has quotes,
    NUL bytes or a line longer than ``csv.field_size_limit()``, which only a real csv parser
    reads right (or refuses).

    Counted on the bytes: in UTF-8 and Latin-1 alike a comma, a quote and a line end are one
    byte that no other character contains. Vectorised, unlike ``csv.reader`` over each line
    (100 000 lines: ~15 ms instead of ~0.5 s).

    >>> _fields_per_line(b"a,b\\n\\n1,2,3")
    array([2, 0, 3])
    """
    if b'"' in raw or b"\x00" in raw:
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == ord("\n"))
    if len(buf) and buf[-1] != ord("\n"):
        ends = np.append(ends, len(buf))
    starts = np.r_[0, ends[:-1] + 1]
    if len(ends) and int((ends - starts).max()) > csv.field_size_limit():
        return None
    commas = np.flatnonzero(buf == ord(","))
    counts = np.searchsorted(commas, ends) - np.searchsorted(commas, starts)
    return np.where(ends > starts, counts + 1, 0)


def _wrong_length(path: Path, line: int, n_values: int, n_fields: int):
    raise InputFileError(
        path, f"line {line} has {n_values} values but the header has {n_fields} columns; the "
        "file looks truncated or edited — export it again from DeepLabCut"
    )


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputFileError(path, f"cannot open ({err.strerror or err})") from err
    # One notion of "line" for the checks below and for pandas: \r\n, \r or \n.
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    text, encoding = _decode(raw)
    if not text or text.isspace():
        raise InputFileError(path, "file holds only blank lines; export it again from DeepLabCut")
    lines = text.split("\n", 6)  # the header rows and the line after them
    if len(lines) < 7 and lines[-1] == "":
        lines.pop()  # the end of the last line, not an empty line
    lines = lines[:6]
    first = lines[0]
    if _first_cell(first) != "scorer":
        for sep, name in ((";", "semicolons"), ("\t", "tabs")):
            if first.split(sep, 1)[0].strip().strip('"').lower() == "scorer":
                raise InputFileError(
                    path, f"the csv uses {name} instead of commas (re-saved by a spreadsheet "
                    "program?); use the csv DeepLabCut wrote, or the .h5 file"
                )
        raise InputFileError(
            path, f"not a DeepLabCut csv: the first row starts with {first[:40].strip()!r}; "
            + _EXPECTED_HEADER
        )
    header = []
    for line in lines[:5]:
        cell = _first_cell(line)
        if cell not in _HEADER_NAMES:
            break
        header.append(cell)
        if cell == "coords":
            break
    if tuple(header) not in (tuple(_SINGLE_LEVELS), tuple(_MULTI_LEVELS)):
        raise InputFileError(
            path, f"unexpected csv header rows {', '.join(header) or '(none)'}"
            + (f" followed by {_first_cell(lines[len(header)])!r}"
               if len(lines) > len(header) and header[-1:] != ["coords"] else "")
            + f"; {_EXPECTED_HEADER}"
        )
    n_header = len(header)
    # The index columns (1 for frame numbers or DLC 2.x image paths, 3 for DLC 3.x label
    # paths) are the empty cells after 'scorer' in the first header row.
    try:
        cells = next(csv.reader([first]))
    except csv.Error as err:
        raise InputFileError(path, f"cannot parse csv line 1 ({err})") from err
    n_index = 1
    while n_index < len(cells) and cells[n_index].strip() == "":
        n_index += 1
    n_fields = len(cells)
    if n_fields <= n_index:
        raise InputFileError(path, "the csv header has no data columns; " + _EXPECTED_HEADER)
    fields = _fields_per_line(raw)
    if fields is not None:
        bad = np.flatnonzero((fields != 0) & (fields != n_fields))
        if len(bad):
            _wrong_length(path, int(bad[0]) + 1, int(fields[bad[0]]), n_fields)
        n_rows = int(np.count_nonzero(fields[n_header:]))
    else:  # quoted cells: csv's own parser (line numbers as in the file, one row per line)
        all_lines = text.split("\n")
        if all_lines[-1] == "":
            all_lines.pop()
        row_number = 0
        try:
            for row_number, row in enumerate(csv.reader(all_lines), start=1):
                if row and len(row) != n_fields:
                    _wrong_length(path, row_number, len(row), n_fields)
        except csv.Error as err:
            raise InputFileError(path, f"cannot parse csv line {row_number + 1} ({err})") from err
        n_rows = sum(1 for line in all_lines[n_header:] if line.strip())
    # The header rows are parsed here rather than by pandas: pandas' multi-row header
    # parsing takes a first data row without values (all keypoints missing in frame 0) for
    # an "index names" row and silently drops that frame.
    header_rows = list(csv.reader(lines[:n_header]))
    columns = pd.MultiIndex.from_arrays(
        [row[n_index:] for row in header_rows], names=[row[0] for row in header_rows]
    )
    if n_rows == 0:
        index = pd.RangeIndex(0) if n_index == 1 else pd.MultiIndex.from_tuples(
            [], names=[None] * n_index)
        return pd.DataFrame(np.empty((0, len(columns))), index=index, columns=columns)
    try:
        df = pd.read_csv(
            io.BytesIO(raw), encoding=encoding, header=None, skiprows=n_header,
            index_col=list(range(n_index)),
        )
    except Exception as err:
        raise InputFileError(path, f"cannot parse csv ({type(err).__name__}: {err})") from err
    df.index = df.index.set_names([None] * n_index)
    df.columns = columns
    return df


def _normalise_columns(df: pd.DataFrame, path: Path | None) -> pd.DataFrame:
    cols = df.columns
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels not in (3, 4):
        raise InputFileError(
            path,
            "not a DeepLabCut table: expected column header rows scorer/bodyparts/coords "
            "(or scorer/individuals/bodyparts/coords)",
        )
    names = _MULTI_LEVELS if cols.nlevels == 4 else _SINGLE_LEVELS
    given = [n for n in cols.names if n is not None]
    if given and list(cols.names) != names:
        raise InputFileError(
            path, f"column levels are {list(cols.names)}; expected {names}"
        )
    df = df.copy()
    df.columns = cols.set_names(names)
    coords = set(df.columns.get_level_values("coords"))
    if not coords <= {"x", "y", "likelihood"} or not {"x", "y"} <= coords:
        raise InputFileError(
            path, f"the coords header row must hold x, y (and likelihood); found "
            f"{sorted(map(str, coords))}"
        )
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise InputFileError(
            path, f"column {'/'.join(map(str, dup[0][1:]))} appears more than once; each body "
            "part may appear once per individual"
        )
    # Non-numeric cells become a clear error, not a silent object column.
    bad = [c for c, t in zip(df.columns, df.dtypes, strict=True)
           if not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)]
    if bad:
        # as text, so True/False (read as booleans) count as non-numeric too
        as_text = df[bad].apply(lambda col: col.map(lambda v: v if pd.isna(v) else str(v)))
        converted = as_text.apply(pd.to_numeric, errors="coerce")
        was = df[bad].notna() & converted.isna()
        if was.to_numpy().any():
            r, c = np.argwhere(was.to_numpy())[0]
            raise InputFileError(
                path,
                f"non-numeric value {df[bad].iloc[r, c]!r} in column "
                f"{'/'.join(map(str, bad[c][1:]))} at row {df.index[r]!r}; fix or empty "
                "that cell (empty cells are read as missing)",
            )
        df[bad] = converted.astype(float)
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


def is_image_index(index: pd.Index | None) -> bool:
    """Whether a DLC table's rows are labelled images (paths, as in ``CollectedData_*`` and
    ``machinelabels`` files) rather than the frames of one video (integer frame numbers)."""
    if index is None or len(index) == 0:
        return False
    return isinstance(index, pd.MultiIndex) or not pd.api.types.is_numeric_dtype(index)


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


def validate_time_series(pose: Pose, *, task: str = "this step") -> Pose:
    """Refuse a pose whose rows are labelled images (a ``CollectedData_*`` label file or
    ``machinelabels``), not the consecutive frames of one video.

    Cleaning (gap filling, low-pass filtering, swap repair by continuity), gait events and
    cycles all treat neighbouring rows as neighbouring moments; on separate images they
    would move labels towards unrelated pictures. Returns ``pose`` unchanged otherwise.

    Raises
    ------
    InputFileError
        Naming the file, what it is, and what to give instead.
    """
    if not is_image_index(pose.index):
        return pose
    first = pose.index[0]
    first = "/".join(map(str, first)) if isinstance(first, tuple) else str(first)
    raise InputFileError(
        pose.source,
        f"is a DeepLabCut label file: its {pose.n_frames} rows are separate labelled images "
        f"({first}, ...), not the frames of one video, so {task} would mix unrelated images. "
        "Give the predictions DeepLabCut made for a video (<video>DLC_<scorer>.h5, from "
        "deeplabcut.analyze_videos or 'gaitint dlc analyze'); to review or correct these "
        "labels, open the file in napari (Label QA, or napari-deeplabcut)",
    )


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


def validate_fps(fps, *, source: str | Path | None = None) -> float:
    """Check a frame rate (frames per second) and return it as a float.

    Parameters
    ----------
    fps
        The frame rate; ``None``, NaN, infinite, zero or negative values are refused.
    source
        Where the value came from (a manifest, a predictions file); named in the error.

    Raises
    ------
    InputFileError
        If ``source`` is given and the value is unusable.
    ConfigError
        If the value is unusable and no source is known (an option or argument).

    Examples
    --------
    >>> validate_fps("25")
    25.0
    """
    if (fps is None or (isinstance(fps, str) and not fps.strip())
            or (isinstance(fps, (float, np.floating)) and np.isnan(fps))):  # empty cell
        problem = ("the frame rate (fps) is missing; give it (e.g. --fps 25 or an "
                   "fps column in the manifest)")
    else:
        try:
            value = None if isinstance(fps, bool) else float(fps)
        except (TypeError, ValueError):
            value = None
        if value is not None and np.isfinite(value) and value > 0:
            return value
        problem = ("the frame rate (fps) must be a positive number of frames per "
                   f"second, got {fps!r}; give the video's real rate (e.g. 25)")
    if source is not None:
        raise InputFileError(source, problem)
    raise ConfigError(problem)


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


def parse_bodypart_mapping(text: str | None) -> dict[str, str] | None:
    """Parse ``"neck=Neck,hip=Hip"`` into ``{"neck": "Neck", "hip": "Hip"}`` (roles first).

    Roles not named map to themselves. Empty text gives ``None`` (no mapping).

    Raises
    ------
    ConfigError
        For an item without ``=``, an unknown role, an empty name or a role given twice.

    Examples
    --------
    >>> parse_bodypart_mapping("neck=Nose, toe = BigToe")
    {'neck': 'Nose', 'toe': 'BigToe'}
    """
    if not text or not text.strip():
        return None
    mapping = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise ConfigError(
                f"body-part mapping item {item.strip()!r} must look like role=name, e.g. "
                "neck=Neck,hip=Hip"
            )
        role, name = (s.strip() for s in item.split("=", 1))
        if role not in ROLES:
            raise ConfigError(
                f"unknown role {role!r} in body-part mapping; roles are {list(ROLES)}"
            )
        if not name:
            raise ConfigError(f"body-part mapping gives no file name for role {role!r}")
        if role in mapping:
            raise ConfigError(f"role {role!r} appears twice in the body-part mapping")
        mapping[role] = name
    return mapping


def _suggest(name: str, candidates: Sequence[str]) -> str:
    lower = {c.lower(): c for c in candidates}
    if name.lower() in lower:
        return lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return lower[close[0]] if close else ""


#: Names DLC projects commonly give our roles (compared lower-case without separators, so
#: ``Lateral_Malleolus`` is ``lateralmalleolus``), best first. A side may come before or
#: after: ``LHeel``, ``heel_r``, ``Right Ankle``.
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "neck": ("neck", "c7", "cervical"),
    "hip": ("hip", "hipjoint", "greatertrochanter", "trochanter", "gt"),
    "knee": ("knee", "kneejoint", "lateralepicondyle", "lateralknee", "epicondyle"),
    "ankle": ("ankle", "anklejoint", "lateralmalleolus", "malleolus", "lateralankle"),
    "heel": ("heel", "calcaneus", "calc"),
    "toe": ("toe", "toes", "toetip", "bigtoe", "hallux", "mtp", "mtp5", "5thmtp", "fifthmtp",
            "5thmetatarsal", "metatarsal", "mtp1", "foottip", "foot"),
}
_SIDE_TOKENS = {"left": ("left", "l"), "right": ("right", "r")}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _role_candidates(name: str, role: str) -> tuple[int, str | None] | None:
    """``(rank, side)`` if ``name`` can stand for ``role`` (rank: lower is a closer name;
    side: ``"left"``/``"right"`` when the name carries one), else None."""
    n = _norm(name)
    for rank, syn in enumerate(ROLE_SYNONYMS.get(role, (role,))):
        if n == syn:
            return rank, None
        for side, tokens in _SIDE_TOKENS.items():
            for t in tokens:
                if n == t + syn or n == syn + t:
                    return rank, side
    return None


def match_roles(
    bodyparts: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    *,
    side: str | None = None,
    roles: Sequence[str] = ROLES,
) -> dict[str, str]:
    """Which of a file's body-part names play our roles: ``{role: name}`` for those found.

    In order: the explicit ``mapping`` (role → name); a body part named as the role; then
    the common names of :data:`ROLE_SYNONYMS`, any case and separators, with or without a
    side (``Neck``, ``LHeel``, ``right_ankle``, ``Lateral Malleolus``, ``MTP5``). Names of
    the camera's ``side`` (the leg it sees) come before names without a side; names of the
    other side are used only when nothing else fits (they are just names). A role is left
    out when two names fit it equally well (say ``LHeel`` and ``RHeel`` without ``side``)
    or when its name is taken by an earlier role.

    Examples
    --------
    >>> match_roles(["Neck", "LHip", "RHip", "LKnee", "LAnkle", "LHeel", "L_MTP5"], side="left")
    {'neck': 'Neck', 'hip': 'LHip', 'knee': 'LKnee', 'ankle': 'LAnkle', 'heel': 'LHeel', 'toe': 'L_MTP5'}
    >>> match_roles(["neck", "LHip", "RHip"])  # hip: which side?
    {'neck': 'neck'}
    """
    mapping = dict(mapping or {})
    out: dict[str, str] = {}
    taken = set()
    for role in roles:
        if role in mapping:
            out[role] = mapping[role]
        elif role in bodyparts:
            out[role] = role
        else:
            continue
        taken.add(out[role])
    for role in roles:
        if role in out:
            continue
        scored = []
        for name in bodyparts:
            if name in taken or name in mapping.values():
                continue
            hit = _role_candidates(name, role)
            if hit is None:
                continue
            rank, name_side = hit
            # the camera's own side first, then names without a side, then the other side
            side_rank = 1 if side is None or name_side is None else 0 if name_side == side else 2
            scored.append(((side_rank, rank), name))
        if not scored:
            continue
        scored.sort()
        best = scored[0][0]
        tied = [n for key, n in scored if key == best]
        if len(tied) == 1:
            out[role] = tied[0]
            taken.add(tied[0])
    return {role: out[role] for role in roles if role in out}


def with_role_names(pose: Pose, mapping: Mapping[str, str] | None = None, *, side: str | None = None) -> Pose:
    """A copy of ``pose`` whose body parts that play our roles (:func:`match_roles`) carry
    the role names; other body parts keep theirs (dropped if one is already called like a
    role it does not play). ``meta["bodypart_names"]`` records the renaming.

    Examples
    --------
    >>> import numpy as np
    >>> p = Pose(np.zeros((2, 3, 3)), ("Neck", "LHeel", "tail"))
    >>> with_role_names(p, side="left").bodyparts
    ('neck', 'heel', 'tail')
    """
    found = match_roles(pose.bodyparts, mapping, side=side)
    role_of = {name: role for role, name in found.items()}
    keep = [b for b in pose.bodyparts if b in role_of or b not in ROLES]
    out = pose.select(keep)
    out.bodyparts = tuple(role_of.get(b, b) for b in keep)
    out.meta["bodypart_names"] = dict(found)
    return out


def rename_bodyparts(
    pose: Pose, mapping: Mapping[str, str], roles: Sequence[str] = ROLES, *, side: str | None = None
) -> Pose:
    """Select ``roles`` from ``pose`` and name them by role.

    Names come from :func:`match_roles`: ``mapping`` (role → file name) first, then the
    role's own name, then common names (``Neck``, ``LHeel``, ``lateral_malleolus``...; with
    ``side``, the names of the leg this camera sees). A role that cannot be matched raises
    :class:`InputFileError` listing what the file has and a ready ``--bodyparts``
    suggestion. ``meta["bodypart_names"]`` records the names used.
    """
    mapping = mapping or {}
    found = match_roles(pose.bodyparts, mapping, side=side, roles=roles)
    names = {role: found.get(role, mapping.get(role, role)) for role in roles}
    seen: dict[str, str] = {}
    for role, name in names.items():
        if name in seen:
            raise ConfigError(
                f"roles {seen[name]!r} and {role!r} both map to body part {name!r}; each role "
                "needs its own body part in the body-part mapping"
            )
        seen[name] = role
    missing = [role for role, name in names.items() if name not in pose.bodyparts]
    if missing:
        guess = dict(names)
        for role in missing:
            guess[role] = _suggest(names[role], pose.bodyparts) or "?"
        suggestion = ",".join(f"{r}={guess[r]}" for r in roles if guess[r] != r or r in missing)
        described = ", ".join(f"{r} (as {names[r]!r})" if names[r] != r else r for r in missing)
        raise InputFileError(
            pose.source,
            f"missing body part(s) {described}; the file has {list(pose.bodyparts)}. "
            "Map our roles to your names with the body-part mapping option, e.g. "
            f"--bodyparts {suggestion}",
        )
    out = pose.select([names[r] for r in roles])
    out.bodyparts = tuple(roles)
    out.meta["bodypart_names"] = dict(names)
    return out


def leg_length_px(pose: Pose, *, hip: str = "hip", ankle: str = "ankle", neck: str = "neck") -> float | None:
    """The subject's leg length in the image (pixels): the median hip–ankle distance.

    A scale for thresholds that must follow the subject's size in the image (camera
    distance, resolution) rather than a fixed number of pixels. The median over frames is
    not moved by a few wrong-limb labels. Without hip data, 0.6 x the median neck–ankle
    distance (hip–ankle is about 0.6 of it in adults). Missing points (NaN) are ignored.

    Returns
    -------
    float or None
        None when fewer than 5 frames have both points.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((10, 2, 3)); v[:, 0, :2] = (100, 200); v[:, 1, :2] = (110, 370)
    >>> round(leg_length_px(Pose(v, ("hip", "ankle"))), 1)
    170.3
    """
    for top, factor in ((hip, 1.0), (neck, 0.6)):
        if top not in pose.bodyparts or ankle not in pose.bodyparts:
            continue
        d = np.linalg.norm(pose.bodypart(top)[:, :2] - pose.bodypart(ankle)[:, :2], axis=1)
        d = d[np.isfinite(d)]
        if d.size >= 5:
            return factor * float(np.median(d))
    return None


def align_view_lengths(
    pose_a: Pose,
    pose_b: Pose,
    *,
    trim: bool = True,
    max_diff_frames: int | None = None,
) -> tuple[Pose, Pose]:
    """Make two synchronised views the same length, or say clearly why not.

    The two cameras start together (synchronised recording), so extra frames are at the
    *end* of the longer view; trimming keeps frames ``0 .. n_short-1`` of both.

    Parameters
    ----------
    pose_a, pose_b
        The two views (any coordinates).
    trim
        If True (default) drop the longer view's extra final frames and emit a
        :class:`~napari_gaitint.core.errors.GaitintWarning` saying how many; if False,
        raise instead.
    max_diff_frames
        Refuse (raise) even with ``trim=True`` when the counts differ by more than this
        many frames — a large difference usually means the wrong pair of files. ``None``
        means no limit.

    Returns
    -------
    (Pose, Pose)
        The inputs themselves when the lengths already match, else trimmed copies
        (``meta["trimmed_frames"]`` records how many frames were dropped).

    Raises
    ------
    AnalysisError
        If the lengths differ and ``trim`` is False, the difference exceeds
        ``max_diff_frames`` or one view has no frames. The message names both files, both
        counts and the difference.

    Examples
    --------
    >>> import numpy as np
    >>> a = Pose(np.zeros((10, 1, 3)), ("neck",)); b = Pose(np.zeros((8, 1, 3)), ("neck",))
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     a2, b2 = align_view_lengths(a, b)
    >>> a2.n_frames, b2.n_frames, caught[0].category.__name__
    (8, 8, 'GaitintWarning')
    """
    na, nb = pose_a.n_frames, pose_b.n_frames
    if na == nb:
        return pose_a, pose_b
    diff = abs(na - nb)
    name_a = pose_a.source.name if pose_a.source else "view A"
    name_b = pose_b.source.name if pose_b.source else "view B"
    what = (f"the two views have different frame counts: {name_a} has {na}, {name_b} has "
            f"{nb} (they differ by {diff} frame{'s' if diff != 1 else ''})")
    if min(na, nb) == 0:
        raise AnalysisError(f"{what}; a view without frames cannot be analysed")
    if not trim:
        raise AnalysisError(
            f"{what}; the cameras must be synchronised. Trim both to the shorter view "
            "(trimming option) or fix the exports"
        )
    if max_diff_frames is not None and diff > max_diff_frames:
        raise AnalysisError(
            f"{what}, more than the {max_diff_frames} allowed; are these really the two views "
            "of the same trial?"
        )
    n = min(na, nb)
    warnings.warn(
        f"{what}; trimming the last {diff} frame{'s' if diff != 1 else ''} of the longer view "
        f"so both have {n}",
        GaitintWarning,
        stacklevel=2,
    )
    return _head(pose_a, n), _head(pose_b, n)


def _head(pose: Pose, n: int) -> Pose:
    if pose.n_frames == n:
        return pose
    index = pose.index[:n] if pose.index is not None else None
    out = pose.replace(values=pose.values[:n].copy(), index=index)
    out.meta["trimmed_frames"] = pose.n_frames - n + int(pose.meta.get("trimmed_frames", 0))
    return out


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------
def pose_to_dlc_table(pose: Pose) -> pd.DataFrame:
    """The DLC-layout DataFrame of a pose (multi-animal layout if ``pose.individual`` is set)."""
    return poses_to_dlc_table([pose])


def dlc_columns(poses: Sequence[Pose]) -> pd.MultiIndex:
    """The DLC column header of :func:`poses_to_dlc_table` (``scorer, [individuals,]
    bodyparts, coords``; the first pose's scorer and likelihood decide for all)."""
    first = poses[0]
    multi = any(p.individual is not None for p in poses)
    coords = ("x", "y", "likelihood") if first.has_likelihood else ("x", "y")
    if multi:
        tuples = [(first.scorer, p.individual or "single", bp, c)
                  for p in poses for bp in p.bodyparts for c in coords]
    else:
        tuples = [(first.scorer, bp, c) for p in poses for bp in p.bodyparts for c in coords]
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
