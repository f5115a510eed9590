"""Manifests as spreadsheets save them, made from our own: shared by the manifest tests of
the readers (tests/core/test_manifest.py) and of ``gaitint analyze`` (tests/cli)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

PRED_DIR = "prédictions ü"  # non-ASCII folder: the encodings must carry it


def write_sheet_cohort(folder: Path) -> Path:
    """A synthetic cohort in ``folder`` whose predictions sit in a sub-folder named
    :data:`PRED_DIR`; returns its plain trials.csv (written by pandas, paths with forward
    slashes)."""
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    manifest = write_synthetic_cohort(folder, n_trials=3, seed=3, fps=25.0, video=False, bias_px=0.0)
    table = pd.read_csv(manifest, dtype={"trial": str})
    (folder / PRED_DIR).mkdir()
    for name in table["predictions"]:
        shutil.move(folder / name, folder / PRED_DIR / name)
    table["predictions"] = [f"{PRED_DIR}/{n}" for n in table["predictions"]]
    manifest.unlink()
    table.to_csv(manifest, index=False)
    return manifest


def _spreadsheet(plain: Path, name: str, *, sep=";", decimal=",", encoding="utf-8-sig", newline="\r\n",
                 header=None, path=None, extra_rows=0, extra_cols=0, sep_line=False) -> Path:
    """``plain`` re-written as a spreadsheet would: ``header(name)`` for each column name,
    ``path(text)`` for each predictions cell, numbers with ``decimal``."""
    table = pd.read_csv(plain, dtype=str, keep_default_na=False)
    cols = [header(c) if header else c for c in table.columns]
    lines = [f"sep={sep}"] if sep_line else []
    lines.append(sep.join(cols + [""] * extra_cols))
    for _, row in table.iterrows():
        cells = []
        for c, v in row.items():
            if c == "predictions" and path:
                v = path(v)
            if c in ("fps", "width", "height") and decimal != ".":
                v = v.replace(".", decimal)
            if sep in v or '"' in v:
                v = '"' + v.replace('"', '""') + '"'
            cells.append(v)
        lines.append(sep.join(cells + [""] * extra_cols))
    lines += [sep * (len(cols) + extra_cols - 1)] * extra_rows
    out = plain.with_name(name)
    out.write_bytes((newline.join(lines) + newline).encode(encoding))
    return out


def _windows(text: str) -> str:
    return ".\\" + text.replace("/", "\\")
