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
``.csv`` with the header rows written out. :func:`read_dlc_table` reads any of
them into that DataFrame unchanged; :func:`write_dlc_table` writes it back so that DLC and
napari-deeplabcut reopen it (``pd.read_hdf(path)`` / ``pd.read_csv(path, header=[0, 1, 2],
index_col=0)``, in pandas 2 as in pandas 3). :func:`load_pose` turns one individual of it into a
:class:`~napari_gaitint.core.pose.Pose`, :func:`save_pose` writes poses back.

Every problem with a file raises :class:`~napari_gaitint.core.errors.InputFileError` naming it; see
docs/errors.md for the messages.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import write_atomic
from .errors import GaitintWarning, InputFileError
from .pose import Pose, is_image_index, rename_bodyparts, validate_fps

_SINGLE_LEVELS = ["scorer", "bodyparts", "coords"]
_MULTI_LEVELS = ["scorer", "individuals", "bodyparts", "coords"]
_SUFFIXES = (".h5", ".hdf5", ".hdf", ".csv")
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
