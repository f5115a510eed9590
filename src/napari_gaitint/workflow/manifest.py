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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PureWindowsPath

import numpy as np
import pandas as pd

from ..core._csv import write_csv
from ..core.errors import InputFileError
from ..core.pose import side_of_view
from ..core.video import VIDEO_SUFFIXES

#: Columns of ``trials.csv`` (see :func:`load_manifest`), in the order written.
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
    from ..core._files import write_atomic

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


# ---------------------------------------------------------------------------------------
# trials from file names, manifests of a cohort
# ---------------------------------------------------------------------------------------
def _view_token(view: str = r"C\d+") -> re.Pattern:
    """The pattern of a view token (``C1``, ``C3``, any case) standing as a whole token: at the
    start or end of the name or between ``_``, ``-``, ``.`` and spaces (``c3dorg`` is no view)."""
    return re.compile(rf"(?<![^_\-. ])({view})(?![^_\-. ])", re.IGNORECASE)


#: Any view token ``C<digits>`` (see :func:`_view_token`).
_VIEW_TOKEN = _view_token()
#: Files in a predictions folder that are not DLC predictions of a video (ours, DLC labels).
_NOT_PREDICTIONS = re.compile(r"(_cleaned|_flags|_events|_full|_meta|_mirrored)$|^(CollectedData|trials)",
                              re.IGNORECASE)


def trial_view_from_name(name: str | Path) -> tuple[str | None, str | None, str]:
    """``(trial, view, video stem)`` from a DeepLabCut output or video file name.

    DeepLabCut names predictions after the video (``<video>DLC_<scorer>...``); the view is
    the last token ``C<digits>`` of the video name standing as a whole token (delimited by the
    start or end of the name, ``_``, ``-``, ``.`` or a space), the trial the video name without
    it. ``(None, None, video stem)`` when the name has no view.

    Examples
    --------
    >>> trial_view_from_name("T01_C1DLC_resnet50_gaitJan1shuffle1_1000.h5")
    ('T01', 'C1', 'T01_C1')
    >>> trial_view_from_name("rat5-c3-run2.mp4")[:2], trial_view_from_name("T02_C3DLC.csv")[:2]
    (('rat5-run2', 'C3'), ('T02', 'C3'))
    """
    stem = Path(name).stem
    cut = re.search(r"DLC(?=_|$)", stem)
    video_stem = stem[: cut.start()] if cut and cut.start() > 0 else stem
    matches = list(_VIEW_TOKEN.finditer(video_stem))
    if not matches:
        return None, None, video_stem
    m = matches[-1]
    head = video_stem[: m.start()]
    head = head[:-1] if head[-1:] in "_-. " and head else head
    trial = (head + video_stem[m.end():]).strip("_-. ") or video_stem
    return trial, m.group(1).upper(), video_stem


def find_trials(folder: str | Path, *, views: tuple[str, ...] = ("C1", "C3")) -> pd.DataFrame:
    """A manifest made from the file names in a folder of DeepLabCut outputs.

    DeepLabCut names its predictions after the video: ``T01_C1.mp4`` gives
    ``T01_C1DLC_<scorer>.h5`` (and ``..._filtered.h5``, ``.csv`` copies). Each prediction
    file whose video name holds a view token (``C1``, ``C3`` as a whole token between the
    start or end, ``_``, ``-``, ``.`` or a space: ``T01_C1``, ``rat5-C3-run2``; not the ``c3``
    of ``c3dorg``) becomes a row; the trial is the video name without the
    view (``T01``, ``rat5-run2``). Per trial and view the unfiltered ``.h5`` is preferred
    (this package cleans and filters itself), then ``.csv``, then the filtered ones; among
    several scorers the newest file. The video of the same name, when it is in the folder,
    fills the ``video`` column (frame rate and size are read from it). ``attrs["notes"]``
    says which files were passed over and why.

    Raises
    ------
    InputFileError
        If the folder does not exist or holds no prediction file named that way.

    Examples
    --------
    >>> find_trials("my_dlc_outputs")  # doctest: +SKIP
      trial view  side                               predictions                video  ...
    0   T01   C1   NaN  /data/my_dlc_outputs/T01_C1DLC_resnet50_gaitJan1shuffle1_100000.h5  .../T01_C1.mp4
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "not a folder")
    wanted = {v.upper() for v in views}
    files = sorted(p for p in folder.iterdir() if p.is_file())
    videos = {p.stem: p for p in files if p.suffix.lower() in VIDEO_SUFFIXES}
    found: dict[tuple[str, str], list] = {}
    notes = []
    for path in files:
        if path.suffix.lower() not in (".h5", ".csv") or _NOT_PREDICTIONS.search(path.stem):
            continue
        trial, view, video_stem = trial_view_from_name(path.name)
        if view is None:
            continue
        if view not in wanted:
            notes.append(f"{path.name}: view {view} is not one of {', '.join(sorted(wanted))}")
            continue
        filtered = "filtered" in path.stem[len(video_stem):].lower()
        rank = (filtered, path.suffix.lower() != ".h5", -path.stat().st_mtime)
        found.setdefault((trial, view), []).append((rank, path, videos.get(video_stem)))
    if not found:
        raise InputFileError(
            folder, "no trials.csv and no DeepLabCut predictions named like T01_C1DLC_<scorer>.h5 "
            "(a view token C1/C3 in the video name); write a trials.csv (columns trial, view, "
            "predictions, video)"
        )
    rows = []
    for (trial, view), options in sorted(found.items()):
        options.sort(key=lambda o: o[0])
        _, path, video = options[0]
        for _, other, _ in options[1:]:
            notes.append(f"{trial} {view}: used {path.name}, not {other.name}")
        rows.append({"trial": trial, "view": view, "side": np.nan, "predictions": str(path.resolve()),
                     "video": str(video.resolve()) if video is not None else np.nan,
                     "fps": np.nan, "width": np.nan, "height": np.nan, "individual": np.nan,
                     "subject": np.nan, "px_per_m": np.nan})
    table = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    table.attrs["notes"] = notes
    return table


def write_manifest(table: pd.DataFrame, path: str | Path, *, overwrite: bool = False,
                   merge: bool = False) -> Path:
    """Write the rows of ``table`` to the manifest ``path`` (``trials.csv``), atomically: the one
    writer of manifests (:func:`update_manifest` is ``merge=True``).

    Parameters
    ----------
    table
        Manifest rows, e.g. from :func:`find_trials`.
    overwrite
        A new manifest (``merge`` False) replaces an existing file only with ``overwrite``.
    merge
        False: ``table`` is the whole manifest: the :data:`MANIFEST_COLUMNS` it has, in their
        order, file paths relative to the manifest's folder where possible. True: its
        ``(trial, view)`` rows are added to, or replace theirs in, the manifest at ``path``
        (created when missing); rows of other trials/views and any extra columns the file
        has are kept, cell for cell, and the file keeps the way it was written (a
        spreadsheet's ``;`` separators, decimal commas, encoding and line ends:
        :func:`write_manifest_cells`); paths are written as given (make them relative to the
        manifest's folder); rows are sorted by trial and view.
    """
    path = Path(path)
    if not merge:
        out = table[_in_column_order(table, MANIFEST_COLUMNS, others=False)].copy()
        for col in ("predictions", "video"):
            out[col] = [_relative(p, path.parent) if isinstance(p, str) and p else p for p in out[col]]
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_csv(path, out, overwrite=overwrite)
    dialect = None
    if path.exists():
        old = read_manifest_cells(path, required=("trial", "view"))
        dialect = old.attrs["dialect"]
        new = table.apply(lambda col: col.map(lambda v: format_cell(v, dialect)))
        keys = set(zip(new["trial"], new["view"], strict=True))
        keep = [(t, v) not in keys for t, v in zip(old["trial"], old["view"], strict=True)]
        table = pd.concat([old[keep].reset_index(drop=True), new], ignore_index=True).fillna("")
    table = table[_in_column_order(table, _PAIR_COLUMNS)].sort_values(["trial", "view"], kind="stable")
    if dialect is None:
        write_csv(path, table, overwrite=True)
        return path
    return write_manifest_cells(path, table, dialect)


def _in_column_order(table: pd.DataFrame, first: Sequence[str], *, others: bool = True) -> list[str]:
    """The table's columns named in ``first``, in that order, then (``others``) the rest as
    they stand."""
    cols = [c for c in first if c in table.columns]
    return cols + [c for c in table.columns if c not in cols] if others else cols


def _relative(file: str | Path, base: Path) -> str:
    """``file`` relative to ``base`` with ``/`` separators; absolute when it is on another
    drive (Windows)."""
    path = Path(file).resolve()
    try:
        return Path(os.path.relpath(path, base.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(path)


def load_manifest(path: str | Path) -> pd.DataFrame:
    """Read ``trials.csv`` (or the ``trials.csv`` inside a folder) with absolute file paths.

    The file may come from a spreadsheet (``;`` or tab separators, decimal commas, a
    byte-order mark, CRLF, ``Trial `` headers, Windows separators in paths): see
    :func:`napari_gaitint.workflow.manifest.read_manifest`. A folder without ``trials.csv`` is
    read by file name (:func:`find_trials`); ``attrs["found_by_name"]`` is then True.

    Raises
    ------
    InputFileError
        If the file is missing or cannot be read, lacks columns, or names prediction files
        that do not exist; the message names the row and column.
    """
    path = Path(path)
    found_by_name = False
    if path.is_dir():
        if (path / "trials.csv").is_file():
            path = path / "trials.csv"
        else:
            df = find_trials(path)
            found_by_name, notes = True, df.attrs.get("notes", [])
            path = path / "trials.csv"  # (not written: paths are absolute already)
    if not found_by_name:
        df = read_manifest(path)
    # Events edited in napari are saved as <trial>_events.csv next to the predictions; a run
    # uses them (for the views and sides they cover) unless the manifest names a file.
    found = [_saved_events(row) for _, row in df.iterrows()]
    df["events_auto"] = [f is not None and not isinstance(row.get("events"), str)
                         for f, (_, row) in zip(found, df.iterrows(), strict=True)]
    df["events"] = pd.Series(
        [row.get("events") if isinstance(row.get("events"), str) else (f or np.nan)
         for f, (_, row) in zip(found, df.iterrows(), strict=True)],
        index=df.index, dtype=object,
    )
    df.attrs["path"] = str(path)
    df.attrs["found_by_name"] = found_by_name
    if found_by_name:
        df.attrs["notes"] = notes
    return df


def _saved_events(row: pd.Series) -> str | None:
    pred = row.get("predictions")
    if not isinstance(pred, str):
        return None
    path = Path(pred).parent / f"{row['trial']}_events.csv"
    return str(path) if path.is_file() else None


def row_individual(row: pd.Series) -> str | None:
    """The manifest row's ``individual`` (multi-animal files), None when not given."""
    individual = row.get("individual")
    return individual if isinstance(individual, str) and individual.strip() else None


def _side_for(row: pd.Series) -> str:
    side = side_of_view(str(row["view"]), row.get("side"))
    if side is not None:
        return side
    raise InputFileError(row["predictions"], f"manifest gives no side (left/right) for view {row['view']!r}")


# ---------------------------------------------------------------------------------------
# trial pairs of videos (gaitint dlc)
# ---------------------------------------------------------------------------------------
#: Suffix added to the stem of a mirrored video copy.
MIRROR_SUFFIX = "_mirrored"
#: Columns of the trial-pair rows :func:`update_manifest` writes (``gaitint dlc analyze``): the
#: first eight of :data:`MANIFEST_COLUMNS` plus ``mirrored``.
_PAIR_COLUMNS = (*MANIFEST_COLUMNS[:8], "mirrored")


def trial_name_from_videos(video_c1: str | Path, video_c3: str | Path) -> str:
    """The trial name two view videos share: their stems without the view names.

    ``T01_C1.mp4`` + ``T01_C3.mp4`` -> ``T01``; ``rat5-C1-run2.avi`` + ``rat5-C3-run2.avi`` ->
    ``rat5-run2`` (each name read by :func:`trial_view_from_name`). Falls back to the common
    start of the stems, then to the C1 stem, when the names do not give one trial.
    """
    a, b = Path(video_c1).stem, Path(video_c3).stem
    trial_a, trial_b = trial_view_from_name(Path(video_c1).name)[0], trial_view_from_name(Path(video_c3).name)[0]
    if trial_a and trial_a == trial_b:
        return trial_a
    prefix = os.path.commonprefix([a, b]).strip("_-. ")
    return prefix or a


def find_trial_pairs(folder: str | Path, *, views: Sequence[str] = ("C1", "C3")) -> list[tuple[str, Path, Path]]:
    """Find ``(trial, video_C1, video_C3)`` pairs in a folder by name.

    A video whose stem contains the first view name (``C1``, as a whole token such as
    ``T01_C1`` or ``rat-C1-2``: see :func:`trial_view_from_name`) pairs with the file of the same name with ``C3`` instead.
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
    pattern = _view_token(re.escape(v1))
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


def update_manifest(manifest: str | Path, rows: Iterable[Mapping]) -> Path:
    """Add or replace ``(trial, view)`` rows of a ``trials.csv`` manifest, atomically:
    :func:`write_manifest` with ``merge=True`` (other rows, extra columns and the file's
    dialect kept; paths written as given, relative to the manifest's folder)."""
    return write_manifest(pd.DataFrame(list(rows)), manifest, merge=True)
