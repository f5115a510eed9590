"""Resuming an interrupted cohort run: the per-trial results it finished and the files it wrote.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..core._files import write_atomic
from .config import AnalysisConfig, config_to_toml

_CACHE_DIR = ".gaitint-partial"
_CACHE_FORMAT = 4  # of the pickled per-trial results: entries of another format are not read
_CLAIMS = "written.txt"  # in the cache folder: the output files the run writes, one per line
_FINAL_CLAIM = "*"  # claimed before the tables, figures and report are written


class _TrialCache:
    """Per-trial results of an unfinished run, so that a re-run after Ctrl-C or a kill
    resumes instead of starting over. Keyed by the settings, the manifest rows and the
    size and modification time of the input files; removed when the run completes.

    It also lists the output files the run writes (:meth:`claim`, before writing each), so
    that the run resuming it replaces those and no file of anyone else's.
    """

    def __init__(self, folder: Path | None, config: AnalysisConfig):
        self.folder = folder
        self.config_text = config_to_toml(config)
        self._paths: dict[str, Path] = {}  # per trial: get and put look it up once

    def _path(self, job) -> Path | None:
        if self.folder is None:
            return None
        trial = job[0]
        if trial not in self._paths:
            self._paths[trial] = self._key_path(job)
        return self._paths[trial]

    def _key_path(self, job) -> Path:
        import hashlib

        trial, rows, _ = job
        h = hashlib.sha256(f"{_CACHE_FORMAT}\n{self.config_text}".encode())
        h.update(rows.to_csv(index=False).encode())
        files = [f for col in ("predictions", "video", "events") if col in rows for f in rows[col]]
        for f in files:
            if isinstance(f, str) and os.path.exists(f):
                st = os.stat(f)
                h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
        return self.folder / f"{h.hexdigest()[:24]}.pkl"

    def get(self, job):
        path = self._path(job)
        if path is None or not path.is_file():
            return None
        import pickle

        try:
            return pickle.loads(path.read_bytes())
        except Exception:  # a damaged cache entry is recomputed
            return None

    def put(self, job, out) -> None:
        path = self._path(job)
        if path is None:
            return
        import pickle

        write_atomic(path, lambda tmp: tmp.write_bytes(pickle.dumps(out)), overwrite=True)

    def claim(self, names: Sequence[str]) -> None:
        """Record that the run is about to write these files (paths relative to the output
        folder, as posix; :data:`_FINAL_CLAIM` for the tables, figures and report)."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / _CLAIMS, "a", encoding="utf-8") as f:
            f.write("".join(f"{n}\n" for n in names))

    def claimed(self) -> set[str]:
        """The files claimed by the interrupted run this one resumes (none without one)."""
        if self.folder is None:
            return set()
        try:
            text = (self.folder / _CLAIMS).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return set()
        return set(text.splitlines())

    def clear(self) -> None:
        if self.folder is not None and self.folder.is_dir():
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)
