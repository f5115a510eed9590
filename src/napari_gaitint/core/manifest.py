"""Reading and writing the manifest ``trials.csv``, however a spreadsheet saved it.

Every reader of a manifest (``gaitint analyze``, the napari loader and statistics docks,
``gaitint dlc`` updating it) goes through :func:`read_manifest_cells` (the cells as text)
and :func:`read_manifest` (typed, with absolute file paths). They accept what spreadsheets
and text editors write:

- separators ``,``, ``;`` or tab (found from the header; an Excel ``sep=;`` first line too);
- decimal commas in the number columns (``25,0`` frames per second);
- UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's "Unicode text"),
  else Windows-1252 / Latin-1; CRLF, CR or LF line ends;
- header names in any case, with spaces (``Trial ``, ``Predictions``);
- Windows separators in relative paths (``.\\preds\\T01_C1.h5``), and paths wrapped in
  quotes (Windows' "Copy as path");
- empty rows and empty columns left by a spreadsheet.

What cannot be read is refused with the file, the row (as a spreadsheet numbers it: the
header is row 1) and the column. :func:`write_manifest_cells` writes a table back in the
dialect it was read in, so a ``;``-separated file stays one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from pathlib import Path, PureWindowsPath

import numpy as np
import pandas as pd

from .errors import InputFileError

#: Columns of ``trials.csv`` (see :mod:`napari_gaitint.core.pipeline`), in the order written.
#: ``subject`` (optional) names the person of each trial: the trials of a subject are
#: averaged per view before the statistics; ``px_per_m`` (optional) is the view's scale
#: (pixels per metre on the walkway), for lengths and speeds in metres.
MANIFEST_COLUMNS = ("trial", "view", "side", "predictions", "video", "fps", "width", "height", "individual",
                    "subject", "px_per_m")
#: Every column name the readers know (matched whatever the case and spacing of the header).
KNOWN_COLUMNS = (*MANIFEST_COLUMNS, "events", "mirrored")
#: File-dialog filter for manifests (spreadsheets save tab-separated text as .txt or .tsv).
MANIFEST_FILE_FILTER = "*.csv *.tsv *.txt"
#: Columns that must be there and filled in on every row.
REQUIRED_COLUMNS = ("trial", "view", "predictions")
#: Columns holding file paths, relative to the manifest's folder (or absolute).
PATH_COLUMNS = ("predictions", "video", "events")
#: Columns holding numbers (a decimal comma is accepted).
NUMBER_COLUMNS = ("fps", "width", "height", "px_per_m")
#: Number columns that must be positive where filled in.
POSITIVE_COLUMNS = ("px_per_m",)
#: Number columns that hold whole numbers of pixels.
WHOLE_NUMBER_COLUMNS = ("width", "height")

_SEPARATORS = (",", ";", "\t")
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_WINDOWS_ABSOLUTE = re.compile(r"^([A-Za-z]:[\\/]|\\\\)")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_WHAT = {"fps": " of frames per second", "width": " of pixels", "height": " of pixels",
         "px_per_m": " of pixels per metre"}


@dataclasses.dataclass(frozen=True)
class CsvDialect:
    """How a CSV file was written: what :func:`write_manifest_cells` repeats.

    Parameters
    ----------
    delimiter
        Cell separator: ``","``, ``";"`` or ``"\\t"``.
    decimal
        Decimal mark of the numbers: ``"."``, or ``","`` in files whose separator is not
        a comma and whose numbers have decimal commas.
    encoding
        Python codec name (``"utf-8-sig"`` for UTF-8 with a byte-order mark).
    newline
        Line end: ``os.linesep`` (what pandas writes), ``"\\r\\n"`` or ``"\\n"``.
    sep_line
        Whether the file starts with Excel's ``sep=<delimiter>`` line.
    """

    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    newline: str = os.linesep
    sep_line: bool = False

    @property
    def is_default(self) -> bool:
        """True for the dialect pandas (and every writer of this package) uses."""
        return self == CsvDialect()


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------
def read_manifest_cells(path: str | Path, *, required: tuple[str, ...] = REQUIRED_COLUMNS) -> pd.DataFrame:
    """The cells of a manifest as text, whatever the spreadsheet that saved it.

    Known columns get their canonical names (``Trial `` → ``trial``); other columns keep
    theirs. Cells are strings with surrounding blanks removed (``""`` when empty); rows and
    unnamed columns that are entirely empty are left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by the row number in the file as a spreadsheet shows it (the header is
        row 1). ``attrs["dialect"]`` is the :class:`CsvDialect` it was written in.

    Raises
    ------
    InputFileError
        If the file is missing, not a text table, lacks a ``required`` column, or has rows
        longer than the header; the message names the row and column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "manifest not found (expected a trials.csv or a folder holding one)")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputFileError(path, f"cannot read the manifest ({err.strerror or err})") from err
    text, encoding = _decode(raw, path)
    head = text[:65536]
    newline = "\r\n" if "\r\n" in head else "\r" if "\r" in head and "\n" not in head else "\n"
    lines = text.splitlines()
    sep_line = bool(lines) and re.fullmatch(r"sep=(.)", lines[0].strip()) is not None
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputFileError(path, "the manifest is empty; it needs a header row (trial, view, predictions, ...)")
    if sep_line:
        delimiter = lines[0].strip()[4]
        first = next((i for i, line in enumerate(lines) if i > 0 and line.strip()), None)
        if first is None:
            raise InputFileError(path, "the manifest has no header row after its sep= line")
    else:
        delimiter = _find_delimiter(lines[first], required)
    records = list(_records(text, delimiter, path))
    header_at = next(i for i, (line, _) in enumerate(records) if line > first)
    header_line, header = records[header_at]
    names = _column_names(header, required, path, delimiter, lines[first])
    rows, numbers = [], []
    width = len(names)
    for line, cells in records[header_at + 1:]:
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue  # an empty row (a spreadsheet's ;;;;;)
        if len(cells) > width:
            extra = [c for c in cells[width:] if c]
            if extra:
                raise InputFileError(
                    path, f"row {line} has {len(cells)} cells but the header (row {header_line}) "
                    f"names {width} columns; the extra cell(s) {extra[:3]} have no column name"
                )
            cells = cells[:width]
        rows.append(cells + [""] * (width - len(cells)))
        numbers.append(line)
    table = pd.DataFrame(rows, columns=names, index=pd.Index(numbers, name="row", dtype=int), dtype=object)
    unnamed = [n for n in names if n.startswith("Unnamed: ")]
    table = table.drop(columns=[n for n in unnamed if not table[n].astype(bool).any()])
    decimal = "." if delimiter == "," else _decimal_mark(table)
    table.attrs["dialect"] = CsvDialect(delimiter, decimal, encoding, newline, sep_line)
    table.attrs["path"] = str(path)
    return table


def read_manifest(path: str | Path) -> pd.DataFrame:
    """A manifest's rows, typed, with absolute file paths.

    The cells are read by :func:`read_manifest_cells`; then text columns are strings (NaN
    when empty), ``fps``, ``width``, ``height`` and ``px_per_m`` numbers (decimal commas
    accepted), and
    ``predictions``, ``video`` and ``events`` absolute paths (relative ones are relative to
    the manifest's folder; Windows separators are read as such). Other columns stay text.

    Raises
    ------
    InputFileError
        Naming the row and column of the first problem: an empty trial, view or
        predictions cell, a number that is not one (or a ``px_per_m`` that is not positive),
        a prediction file that does not exist, a trial and view listed twice, a ``subject``
        filled in on some rows only or differing between the views of a trial, or no trial
        at all.
    """
    path = Path(path)
    cells = read_manifest_cells(path)
    if cells.empty:
        raise InputFileError(path, "manifest lists no trials")
    base = path.parent
    out = {}
    for col in cells.columns:
        values = cells[col]
        if col in REQUIRED_COLUMNS:
            empty = values.index[values.eq("")].tolist()
            if empty:
                raise InputFileError(path, f"{_rows(empty)}, column {col}: empty; every row needs a {col}")
        if col in NUMBER_COLUMNS:
            out[col] = _numbers(values, col, path)
        elif col in PATH_COLUMNS:
            out[col] = pd.Series([_path_cell(v, base) for v in values], index=values.index)
        else:  # text (as pandas types a column of strings and missing values)
            out[col] = pd.Series(values.where(values.ne(""), np.nan).tolist(), index=values.index)
    df = pd.DataFrame(out, index=cells.index)
    _check_predictions(df, cells, path)
    if "subject" in df.columns:
        validate_subjects(df, path)
    dup = df.duplicated(["trial", "view"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        again = df.index[dup & df["trial"].eq(first["trial"]) & df["view"].eq(first["view"])].tolist()
        raise InputFileError(
            path, f"{_rows(again)} list the same trial {first['trial']!r} and view {first['view']!r}; "
            "each trial and view once"
        )
    for col in MANIFEST_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    df = df.reset_index(drop=True)
    df.attrs["dialect"] = cells.attrs["dialect"]
    return df


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    """The file's text and the codec that read it."""
    if raw.startswith(_UTF8_BOM):
        return raw[len(_UTF8_BOM):].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith(_UTF16_BOMS):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise InputFileError(path, f"cannot read the manifest as UTF-16 text ({err})") from err
    if raw.startswith(b"PK\x03\x04"):
        raise InputFileError(
            path, "is a spreadsheet workbook (.xlsx/.ods), not a CSV file: save it as CSV "
            "(File > Save As > CSV UTF-8) and give that file"
        )
    if raw.startswith(b"\x89HDF") or b"\x00" in raw[:4096]:
        raise InputFileError(path, "is not a text file; the manifest is a CSV table (trial, view, predictions, ...)")
    for codec in ("utf-8", "cp1252"):
        try:
            return raw.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _normalised(name: str) -> str:
    """A header cell as compared with the known column names."""
    return re.sub(r"[\s_\-]+", "", name.replace("\ufeff", "")).lower()


_KNOWN = {_normalised(c): c for c in KNOWN_COLUMNS}


def _find_delimiter(header: str, required: tuple[str, ...]) -> str:
    """The separator under which the header names the most required columns (then the
    most columns; a comma on a tie)."""
    def score(sep: str) -> tuple[int, int]:
        cells = next(csv.reader([header], delimiter=sep), [])
        known = {_KNOWN.get(_normalised(c)) for c in cells}
        return sum(c in known for c in required), len(cells)

    return max(_SEPARATORS, key=score)


def _records(text: str, delimiter: str, path: Path):
    """``(row number, cells)`` of each record (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as err:
        raise InputFileError(path, f"row {reader.line_num}: cannot be read as CSV ({err})") from err


def _column_names(header: list[str], required: tuple[str, ...], path: Path, delimiter: str,
                  header_text: str) -> list[str]:
    names, seen = [], {}
    for i, cell in enumerate(header):
        raw = cell.strip().replace("\ufeff", "")
        name = _KNOWN.get(_normalised(raw), raw) or f"Unnamed: {i}"
        if name in seen:
            raise InputFileError(
                path, f"columns {seen[name] + 1} ({header[seen[name]].strip()!r}) and {i + 1} "
                f"({raw!r}) are both read as {name!r}; keep one"
            )
        seen[name] = i
        names.append(name)
    missing = [c for c in required if c not in names]
    if missing:
        shown = header_text if len(header_text) <= 120 else header_text[:117] + "..."
        raise InputFileError(
            path, f"manifest lacks column(s) {missing}; needs trial, view, predictions (and side, "
            f"fps, width, height). Its first row reads {shown!r} ({_SEPARATOR_NAMES[delimiter]}-"
            "separated); name the columns in that row"
        )
    return names


def _decimal_mark(table: pd.DataFrame) -> str:
    """``","`` when a number column of a table not separated by commas has a decimal comma."""
    for col in NUMBER_COLUMNS:
        if col in table.columns and table[col].str.fullmatch(_DECIMAL_COMMA.pattern).any():
            return ","
    return "."


def _numbers(values: pd.Series, col: str, path: Path) -> pd.Series:
    """A number column: ``"25,0"`` and ``"25.0"`` → 25.0, ``""`` → NaN; types as pandas
    infers them (int64 when every cell is a whole number written without decimals)."""
    text = values.str.replace("\u00a0", "", regex=False)
    text = text.where(~text.str.fullmatch(_DECIMAL_COMMA.pattern), text.str.replace(",", ".", regex=False))
    parsed = pd.to_numeric(text.where(text.ne(""), np.nan), errors="coerce")
    bad = values.index[parsed.isna() & text.ne("")].tolist()
    if bad:
        raise InputFileError(path, f"{_rows(bad)}, column {col}: '{values[bad[0]]}' is not a number{_WHAT[col]}")
    if col in POSITIVE_COLUMNS:
        bad = values.index[parsed.notna() & ~(parsed > 0)].tolist()
        if bad:
            raise InputFileError(
                path, f"{_rows(bad)}, column {col}: '{values[bad[0]]}' is not a positive number{_WHAT[col]}"
            )
    if col in WHOLE_NUMBER_COLUMNS:
        frac = values.index[parsed.notna() & (parsed % 1 != 0)].tolist()
        if frac:
            raise InputFileError(
                path, f"{_rows(frac)}, column {col}: '{values[frac[0]]}' is not a whole number of "
                "pixels (a thousands separator?); write it as digits only, e.g. 1920"
            )
    return parsed


def _path_cell(text: str, base: Path):
    """A path cell as an absolute path (NaN when empty), Windows separators read as such."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()  # Windows' "Copy as path"
    if not text:
        return np.nan
    return str((base / _native(text, base)).resolve())


def _native(text: str, base: Path) -> str:
    """``text`` with Windows separators turned into this system's, unless a file of that
    very name exists (a backslash is a legal file-name character on Linux and macOS)."""
    if os.sep == "\\" or "\\" not in text or (base / text).exists():
        return text
    return PureWindowsPath(text).as_posix()


def _check_predictions(df: pd.DataFrame, cells: pd.DataFrame, path: Path) -> None:
    """Refuse a manifest whose prediction files are not there, naming the rows."""
    missing = [row for row, p in df["predictions"].items() if not Path(p).is_file()]
    if not missing:
        return
    row = missing[0]
    written, looked = cells.at[row, "predictions"], df.at[row, "predictions"]
    if Path(looked).is_dir():
        problem = f"'{written}' is a folder, not a DeepLabCut .h5/.csv file"
    else:
        problem = f"'{written}' not found (looked for {looked})"
        if _WINDOWS_ABSOLUTE.match(written.strip('"')):
            problem += ("; it is a Windows path: write the path as it is on this computer, or "
                        "relative to the manifest's folder (e.g. preds/T01_C1.h5)")
        elif "\\" in written and os.sep != "\\":
            problem += " (its backslashes read as folder separators)"
        else:
            problem += "; paths are relative to the manifest's folder"
    more = f" ({len(missing) - 1} more row(s) name missing files: {_rows(missing[1:])})" if len(missing) > 1 else ""
    raise InputFileError(path, f"row {row}, column predictions: {problem}{more}")


def validate_subjects(df: pd.DataFrame, path: Path | None = None) -> None:
    """Refuse a ``subject`` column filled in on some rows only, or naming two subjects for
    the views of one trial (a column left empty everywhere means: each trial its own subject).

    ``df`` has the columns ``trial`` and ``subject`` (NaN when empty); the message names the
    rows by ``df``'s index (the spreadsheet's row numbers in :func:`read_manifest`).

    Raises
    ------
    InputFileError
        Naming ``path``, the rows and the trial.
    """
    subject = df["subject"]
    if subject.isna().all():
        return
    empty = df.index[subject.isna()].tolist()
    if empty:
        raise InputFileError(
            path, f"{_rows(empty)}, column subject: empty while other rows name a subject; give "
            "every trial its subject (or leave the column empty everywhere: each trial is then its "
            "own subject)"
        )
    per_trial = subject.groupby(df["trial"], sort=False).nunique()
    if (per_trial > 1).any():
        trial = per_trial.index[per_trial > 1][0]
        rows = df.index[df["trial"].eq(trial)].tolist()
        names = ", ".join(repr(s) for s in dict.fromkeys(subject[df["trial"].eq(trial)]))
        raise InputFileError(
            path, f"{_rows(rows)}, column subject: the views of trial {trial!r} name different "
            f"subjects ({names}); the views of a trial show one subject"
        )


def _rows(rows: list[int], limit: int = 5) -> str:
    """``row 3``, ``rows 3 and 7``, ``rows 2, 3, 4, 5, 6 and 10 more``."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    if len(rows) <= limit:
        return f"rows {', '.join(map(str, rows[:-1]))} and {rows[-1]}"
    return f"rows {', '.join(map(str, rows[:limit]))} and {len(rows) - limit} more"


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------
def format_cell(value, dialect: CsvDialect = CsvDialect()) -> str:
    """A value as a manifest cell, as pandas writes it (``25.0``, ``960``, ``True``, ``""``
    for missing), with the dialect's decimal mark.

    >>> format_cell(25.0), format_cell(25.0, CsvDialect(";", ",")), format_cell(None), format_cell(960)
    ('25.0', '25,0', '', '960')
    """
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        text = repr(float(value))
        return text.replace(".", dialect.decimal) if dialect.decimal != "." else text
    return str(value)


def write_manifest_cells(path: str | Path, cells: pd.DataFrame, dialect: CsvDialect) -> Path:
    """Write a table of text cells (as :func:`read_manifest_cells` gives) to ``path`` in
    ``dialect``, replacing the file atomically.

    The default dialect is written as pandas writes a CSV (what every writer of this
    package does); another one keeps the separator, decimal mark, encoding (a character it
    cannot hold turns it into UTF-8 with a byte-order mark, which spreadsheets recognise),
    line ends and ``sep=`` line of the file it was read from.
    """
    from ._csv import write_csv
    from ._files import write_atomic

    cells = cells.reset_index(drop=True)
    if dialect.is_default:
        return write_csv(path, cells, overwrite=True)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=dialect.delimiter, lineterminator=dialect.newline,
                        quoting=csv.QUOTE_MINIMAL)
    if dialect.sep_line:
        buf.write(f"sep={dialect.delimiter}{dialect.newline}")
    writer.writerow([str(c) for c in cells.columns])
    writer.writerows(cells.astype(str).itertuples(index=False, name=None))
    text = buf.getvalue()
    encoding = dialect.encoding
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8-sig")
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), overwrite=True)


def save_manifest_values(path: str | Path, column: str, values: dict[tuple[str, str], object]) -> Path:
    """Set ``column`` on the rows ``(trial, view)`` of the manifest at ``path``.

    Every other cell is kept as it is, and the file keeps the way it was written
    (:func:`write_manifest_cells`); a column the file lacks is added at the end. Used to save
    a view's calibration (``px_per_m``) from napari.

    Parameters
    ----------
    values
        ``{(trial, view): value}``; values are written as :func:`format_cell` writes them.

    Raises
    ------
    InputFileError
        If the manifest cannot be read or lacks one of the ``(trial, view)`` rows.
    """
    path = Path(path)
    cells = read_manifest_cells(path)
    dialect = cells.attrs["dialect"]
    keys = list(zip(cells["trial"], cells["view"], strict=True))
    absent = [k for k in values if (str(k[0]), str(k[1])) not in set(keys)]
    if absent:
        raise InputFileError(path, f"no row for trial {absent[0][0]!r} view {absent[0][1]!r}; "
                             f"cannot save its {column}")
    if column not in cells.columns:
        cells[column] = ""
    wanted = {(str(t), str(v)): x for (t, v), x in values.items()}
    for row, key in zip(cells.index, keys, strict=True):
        if key in wanted:
            cells.at[row, column] = format_cell(wanted[key], dialect)
    return write_manifest_cells(path, cells, dialect)


__all__ = [
    "KNOWN_COLUMNS", "MANIFEST_COLUMNS", "MANIFEST_FILE_FILTER", "REQUIRED_COLUMNS", "CsvDialect", "format_cell",
    "read_manifest", "read_manifest_cells", "save_manifest_values", "validate_subjects", "write_manifest_cells",
]
