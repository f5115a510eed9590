"""Bad files made from our good fixtures (tests/data), shared by the bad-input tests of the
core (tests/core/test_bad_inputs.py) and of the command line (tests/cli/test_cli_errors.py)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def _lines(name="pred_single.csv") -> list[str]:
    return (DATA / name).read_text().splitlines(True)


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _copy(folder: Path, src: str, name: str | None = None) -> Path:
    return _write(folder, name or src, (DATA / src).read_bytes())


def _renamed_parts(folder: Path) -> Path:
    lines = _lines()
    cells = lines[1].rstrip("\n").split(",")
    short = {"neck": "Nck", "hip": "Hp", "knee": "Kne", "ankle": "Ankl", "heel": "Hel", "toe": "To"}
    lines[1] = ",".join(short.get(c, c) for c in cells) + "\n"
    return _write(folder, "T01_C1 renamed.csv", "".join(lines))
