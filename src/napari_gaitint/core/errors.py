"""Errors raised by napari-gaitint for problems the user can fix.

Every error that comes from bad input derives from :class:`GaitintError`, so the CLI can
print the message without a traceback and the napari widgets can show it as a notification.
Messages name the file (when there is one), what is wrong and what to do.
"""

from __future__ import annotations

from pathlib import Path


class GaitintError(Exception):
    """A problem with the user's input or settings (not a bug in napari-gaitint)."""


class InputFileError(GaitintError, ValueError):
    """A file cannot be read or does not have the expected content.

    Parameters
    ----------
    path
        The offending file; it is named first in the message.
    problem
        What is wrong with it, and what to do about it.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = Path(path) if path is not None else None
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")

    def __reduce__(self):  # pickled as its arguments (raised in a worker process)
        return type(self), (self.path, self.problem)


class UnsafeWriteError(GaitintError, RuntimeError):
    """A write refused because the file would lose data or replace a source file.

    Deliberately not a ``ValueError``: napari's save takes a ``ValueError`` from a writer
    for "no writer for this" and shows a generic warning instead of the message.

    Parameters
    ----------
    path
        The file that was not written; it is named first in the message.
    problem
        Why, and what to do instead.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = Path(path) if path is not None else None
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem)


class OutputExistsError(GaitintError, FileExistsError):
    """An output file exists already and overwriting was not asked for."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        super().__init__(
            f"{self.path}: exists already; choose another output name or pass overwrite=True "
            "(--overwrite on the command line)"
        )

    def __reduce__(self):
        return type(self), (self.path,)


class AnalysisError(GaitintError, ValueError):
    """The data were read but the analysis cannot proceed (no events, no cycles, one trial...)."""


class ConfigError(GaitintError, ValueError):
    """A setting given by the user is invalid (fps of 0, unknown option value...).

    When the bad value comes from a file (a manifest row, a config file), raise
    :class:`InputFileError` naming that file instead.
    """


class GaitintWarning(UserWarning):
    """Something was changed or assumed on the user's behalf (e.g. views trimmed to the
    same length); the analysis continues but the user should know."""
