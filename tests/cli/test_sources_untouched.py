"""Nothing lost: every command that reads user files leaves them byte-for-byte as they were,
refuses to replace its own outputs without ``--overwrite`` and replaces them with it.

Runs ``gaitint synth``, ``clean``, ``events``, ``analyze`` and ``stats`` through
:func:`napari_gaitint.cli.main` on a small synthetic cohort (no video) in a folder with
spaces and unicode in its name, and compares the SHA-256 of every input file before and
after each command.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from napari_gaitint import cli
from napari_gaitint.core._files import file_sha256


def _hashes(folder: Path) -> dict[Path, str]:
    return {p: file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip() and "%|" not in ln]  # skip progress bars
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    """A 3-trial synthetic cohort written by ``gaitint synth`` into a folder that already
    holds a user's file (it must survive untouched)."""
    folder = tmp_path_factory.mktemp("src") / "cohorte à tester 1"
    folder.mkdir()
    notes = folder / "notes du labo.txt"
    notes.write_text("essai 1: OK\n", encoding="utf-8")
    digest = file_sha256(notes)
    assert cli.main(["synth", str(folder), "--trials", "3", "--seed", "5", "--no-video"]) == 0
    assert file_sha256(notes) == digest
    assert (folder / "trials.csv").is_file()
    return folder


def _commands(cohort: Path, out: Path) -> dict[str, list]:
    manifest = pd.read_csv(cohort / "trials.csv")
    c1 = cohort / manifest.loc[(manifest["trial"] == "T01") & (manifest["view"] == "C1"), "predictions"].iloc[0]
    c3 = cohort / manifest.loc[(manifest["trial"] == "T01") & (manifest["view"] == "C3"), "predictions"].iloc[0]
    return {
        "clean": ["clean", c1, "--other-view", c3, "--fps", 25, "--out", out / "nettoyé C1.h5"],
        "clean-default-out": ["clean", c3, "--other-view", c1, "--fps", 25],  # next to the input
        "events": ["events", c1, "--fps", 25, "--out", out / "événements C1.csv"],
        "analyze": ["analyze", cohort / "trials.csv", "--out", out / "résultats", "--no-report"],
        "stats": ["stats", out / "résultats" / "cycles.csv", "--out", out / "stats ü",
                  "--no-report", "--no-figures"],
    }


def test_commands_leave_sources_untouched_and_refuse_to_overwrite(cohort, tmp_path, capsys):
    out = tmp_path / "sorties ü"
    sources = _hashes(cohort)
    assert len(sources) >= 3 * 2 + 2  # predictions of 3 trial pairs, manifest, notes, truth
    for name, argv in _commands(cohort, out).items():
        rc, stdout, err = _run(capsys, *argv)
        assert rc == 0, (name, stdout, err)
        assert "Traceback" not in stdout + err
        now = _hashes(cohort)
        assert {p: now[p] for p in sources} == sources, f"{name} changed an input file"
        assert not list(cohort.rglob("*.part*")) and not list(out.rglob("*.part*"))
        made = _hashes(out) | {p: h for p, h in now.items() if p not in sources}
        # second run: refused, one line naming an existing output, nothing changed
        rc, stdout, err = _run(capsys, *argv)
        assert rc == 2, (name, stdout, err)
        line = _error_line(err)
        assert line.startswith(f"gaitint {argv[0]}: error: "), line
        assert "exists already" in line and "--overwrite" in line, line
        assert "Traceback" not in stdout + err
        again = _hashes(out) | {p: h for p, h in _hashes(cohort).items() if p not in sources}
        assert again == made, f"{name} changed files although it refused"
        # third run with --overwrite: works, inputs still untouched
        rc, stdout, err = _run(capsys, *argv, "--overwrite")
        assert rc == 0, (name, stdout, err)
        now = _hashes(cohort)
        assert {p: now[p] for p in sources} == sources, f"{name} --overwrite changed an input file"
        assert set(_hashes(out)) >= {p for p in made if out in p.parents}
    assert (out / "résultats" / "anova.csv").is_file()
    assert (out / "stats ü" / "anova.csv").is_file()


def test_synth_into_existing_cohort_refuses_then_overwrites(cohort, tmp_path, capsys):
    folder = tmp_path / "copie"
    folder.mkdir()
    mine = folder / "mes données.csv"
    mine.write_text("a,b\n1,2\n", encoding="utf-8")
    argv = ["synth", folder, "--trials", "2", "--seed", "9", "--no-video"]
    assert _run(capsys, *argv)[0] == 0
    written = _hashes(folder)
    rc, _stdout, err = _run(capsys, *argv)
    assert rc == 2
    line = _error_line(err)
    assert line.startswith("gaitint synth: error: ") and "exists already" in line, line
    assert _hashes(folder) == written
    rc, _stdout, err = _run(capsys, *argv, "--overwrite")
    assert rc == 0, err
    assert file_sha256(mine) == written[mine]  # the user's own file is never touched
    assert not list(folder.rglob("*.part*"))
