"""Safe file writing: atomic replace, never clobber what the user made."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import GaitintError, InputFileError, OutputExistsError


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success.

    A crash or exception while writing leaves ``path`` as it was (absent or old content)
    and removes the temporary file.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
    InputFileError
        If the folder cannot be created or written.
    """
    path = Path(path)
    _check_output_path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    except OSError as err:
        raise InputFileError(
            path.parent, f"cannot write in this folder ({err.strerror or err}); choose an output "
            "folder you can write to"
        ) from err
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # writers such as HDF5 want to create the file themselves
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except GaitintError:
        raise
    except OSError as err:
        raise InputFileError(
            path, f"could not be written ({err.strerror or err}); check free disk space and "
            "permissions, nothing was changed"
        ) from err
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _check_output_path(path: Path) -> None:
    """Clear errors for outputs that cannot work: a folder as file, a file as folder."""
    if path.is_dir():
        raise InputFileError(path, "is a folder; give a file name as output")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputFileError(
                    parent, f"is a file, not a folder, so {path.name!r} cannot be written "
                    "inside it; choose another output folder"
                )
            break


def write_text_atomic(path: str | Path, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_atomic(path: str | Path, write: Callable[[Path], None], *, overwrite: bool = False) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        write(tmp)
    return Path(path)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (used to prove sources are never modified)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
