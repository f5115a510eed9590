"""Reading DeepLabCut files into their tables, with every check of the file and its message.

:func:`read_dlc_table` reads a ``.h5`` (HDF5 through PyTables; key ``df_with_missing``, then
``keypoints``, then the only key) or ``.csv`` (header rows written out) prediction or label
file into the DataFrame DeepLabCut wrote, column levels named ``scorer, [individuals,]
bodyparts, coords``. :mod:`napari_gaitint.core.io` turns that table into poses and writes
tables back. Every problem raises :class:`~napari_gaitint.core.errors.InputFileError` naming
the file; see docs/errors.md for the messages.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._frames import EXACT_FLOATS
from .errors import InputFileError

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
        columns=_column_index(columns, names),
        copy=False,
    )
    return df, key


def _column_index(columns: list, names) -> pd.MultiIndex:
    """``pd.MultiIndex.from_tuples(columns, names=names)``: a copy of the one built for the
    same header (the files of a cohort share it; building it took ~1 ms a file)."""
    try:
        return _cached_column_index(tuple(columns), None if names is None else tuple(names)).copy()
    except TypeError:  # an unhashable label
        return pd.MultiIndex.from_tuples(columns, names=names)


@functools.lru_cache(maxsize=64)
def _cached_column_index(columns: tuple, names: tuple | None) -> pd.MultiIndex:
    return pd.MultiIndex.from_tuples(list(columns), names=None if names is None else list(names))


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
            index_col=list(range(n_index)), **EXACT_FLOATS,
        )
    except Exception as err:
        raise InputFileError(path, f"cannot parse csv ({type(err).__name__}: {err})") from err
    df.index = df.index.set_names([None] * n_index)
    df.columns = columns
    return df


def _plain(value):
    """A numpy scalar as the Python value it holds (``2``, not ``np.int64(2)``, in messages)."""
    return value.item() if isinstance(value, np.generic) else value


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
                f"{'/'.join(map(str, bad[c][1:]))} at row {_plain(df.index[r])!r}; fix or empty "
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
