"""Bad inputs at the command level: each gives a message naming the file or trial and the
problem; a cohort run reports failing trials in problems.csv and goes on.

Every case runs ``gaitint`` (:func:`napari_gaitint.cli.main`) on a copy of a small synthetic
cohort (3 trial pairs, no video) in a folder with spaces and unicode in its name. The cases
are also the source of the second generated table in docs/errors.md; regenerate it with::

    GAITINT_WRITE_ERRORS_DOC=1 .venv/bin/python -m pytest tests/cli/test_bad_inputs_commands.py -k doc
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io as _io
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_gaitint import cli
from napari_gaitint.core import io
from napari_gaitint.core._files import file_sha256

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
BEGIN = "<!-- BEGIN GENERATED commands (tests/cli/test_bad_inputs_commands.py) -->"
END = "<!-- END GENERATED commands -->"


# ---------------------------------------------------------------------------------------
# the cohort, and helpers that damage a copy of it
# ---------------------------------------------------------------------------------------
_ROOTS: list[Path] = []  # temporary folders, removed when the module's tests are done


def _tmpdir(prefix: str) -> Path:
    _ROOTS.append(Path(tempfile.mkdtemp(prefix=prefix)))
    return _ROOTS[-1]


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _outcome.cache_clear()
    _base.cache_clear()
    while _ROOTS:
        shutil.rmtree(_ROOTS.pop(), ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _base() -> Path:
    """A synthetic cohort and its analysis (cycles.csv), made once per module run."""
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    root = _tmpdir("gaitint-cmd-")
    folder = root / "cohorte de base"
    write_synthetic_cohort(folder, n_trials=3, seed=5, fps=25.0, video=False, bias_px=0.0)
    with _quiet():
        assert cli.main(["analyze", str(folder), "--out", str(root / "analyse"), "--no-report"]) == 0
    return root


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stderr(_io.StringIO()), \
            contextlib.redirect_stdout(_io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _manifest(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "trials.csv")


def _set_manifest(folder: Path, table: pd.DataFrame) -> None:
    (folder / "trials.csv").unlink()
    table.to_csv(folder / "trials.csv", index=False)


def _pred(folder: Path, trial: str, view: str) -> Path:
    m = _manifest(folder)
    return folder / m.loc[(m["trial"] == trial) & (m["view"] == view), "predictions"].iloc[0]


def _edit(path: Path, fn: Callable[[np.ndarray], np.ndarray]) -> Path:
    """Replace a prediction file by an edited copy (our copy of the cohort, not a source)."""
    pose = io.load_pose(path)
    values = fn(pose.values.copy())
    path.unlink()
    io.save_pose(pose.replace(values=values, index=None), path)
    return path


def _standing(v):  # nobody moves: every frame is the first
    v[..., :2] = v[:1, :, :2]
    return v


def _foot_fixed(v):  # walks across the image, but the leg never moves relative to the hip
    for j in range(2, v.shape[1]):
        v[:, j, :2] = v[:, 1, :2] + (v[0, j, :2] - v[0, 1, :2])
    return v


def _trim(n, *, middle=False):
    """The first ``n`` frames, or ``n`` frames from the middle of the recording (where the
    subject is in view whatever the walker drew for the entrance)."""
    return lambda v: v[len(v) // 2 - n // 2:][:n] if middle else v[:n]


def _cycles_csv(folder: Path, name: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    cycles = pd.read_csv(_base() / "analyse" / "cycles.csv")
    path = folder / name
    fn(cycles).to_csv(path, index=False)
    return path


def _drop_rows(query: str):
    def make(d: Path) -> list:
        m = _manifest(d)
        _set_manifest(d, m[~m.eval(query)])
        return ["analyze", d, "--out", d / "résultats", "--no-report"]
    return make


def _manifest_cells(query: str, **values):
    def make(d: Path) -> list:
        m = _manifest(d)
        for col, value in values.items():
            if col not in m.columns or m[col].dtype != object:
                m[col] = m[col].astype(object) if col in m.columns else ""
            m.loc[m.eval(query), col] = value
        _set_manifest(d, m)
        return ["analyze", d, "--out", d / "résultats", "--no-report"]
    return make


def _analyze_with(trial: str, view: str, fn) -> Callable[[Path], list]:
    def make(d: Path) -> list:
        _edit(_pred(d, trial, view), fn)
        return ["analyze", d, "--out", d / "résultats", "--no-report"]
    return make


def _analyze_pair_with(trial: str, fn) -> Callable[[Path], list]:
    def make(d: Path) -> list:
        for view in ("C1", "C3"):
            _edit(_pred(d, trial, view), fn)
        return ["analyze", d, "--out", d / "résultats", "--no-report"]
    return make


def _events_with(fn) -> Callable[[Path], list]:
    return lambda d: ["events", _edit(_pred(d, "T02", "C1"), fn), "--fps", 25]


def _not_a_video(d: Path) -> list:
    (d / "T02_C1 vidéo.mp4").write_text("this is not a video\n", encoding="utf-8")
    return _manifest_cells("trial == 'T02' and view == 'C1'", video="T02_C1 vidéo.mp4",
                           width=np.nan, height=np.nan)(d)


def _unicode_names(d: Path) -> list:
    m = _manifest(d)
    for i, p in enumerate(m["predictions"]):
        new = f"essai {m.loc[i, 'trial']} {m.loc[i, 'view']} – gång ü 漢字.h5"
        (d / p).rename(d / new)
        m.loc[i, "predictions"] = new
    _set_manifest(d, m)
    return ["analyze", d / "trials.csv", "--out", d / "résultats n°1", "--no-report"]


# ---------------------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    what: str  # the bad input, as the user would describe it
    make: Callable[[Path], list]  # builds the input in a copy of the cohort, returns argv
    exit: int  # 2: refused with one line on stderr; 0: the run goes on and reports it
    pattern: str  # regex the message must match
    names: str  # the file or trial the message must name


CASES = [
    Case("events-standing", "`events`: subject standing still (constant data)",
         _events_with(_standing), 2,
         r"cannot tell the walking direction: the neck and the hip do not move across the image", "T02_C1DLC"),
    Case("events-no-step", "`events`: the leg never moves relative to the body (no events)",
         _events_with(_foot_fixed), 2,
         r"no gait event found: heel x - hip x varies by only .* is the subject walking\?",
         "T02_C1DLC"),
    Case("events-short", "`events`: recording shorter than a step (10 frames)",
         _events_with(_trim(10, middle=True)), 2, r"no heel strike or toe off found in 10 frames", "T02_C1DLC"),
    Case("analyze-no-events", "`analyze`: a trial where no event is found (10 frames)",
         _analyze_pair_with("T02", _trim(10, middle=True)), 0,
         r"no heel strike or toe off found in 10 frames", "T02_C1DLC"),
    Case("analyze-no-cycle", "`analyze`: a trial with events but no full gait cycle (30 frames)",
         _analyze_pair_with("T02", _trim(30)), 0,
         r"no full gait cycle on the left side: fewer than two heel strikes", "T02_C1DLC"),
    Case("analyze-constant", "`analyze`: a trial where nobody moves (constant data)",
         _analyze_with("T02", "C1", _standing), 0,
         r"cannot tell the walking direction: .* do not move across the image", "T02_C1DLC"),
    Case("analyze-missing-view", "`analyze`: a trial without its C3 view",
         _drop_rows("trial == 'T02' and view == 'C3'"), 0,
         r"^T02 : statistics: left out of .*: no data in view\(s\) C3", "T02"),
    Case("analyze-one-trial", "`analyze`: a cohort of one trial (ANOVA impossible)",
         _drop_rows("trial != 'T01'"), 0,
         r"statistics: the cycles table has 1 trial \(T01\); a repeated-measures ANOVA needs at "
         r"least 2 trials", "T01"),
    Case("analyze-fps-0", "`analyze`: fps 0 in the manifest",
         _manifest_cells("trial == 'T02'", fps=0), 0,
         r"the frame rate \(fps\) must be a positive number of frames per second, got 0",
         "T02_C1DLC"),
    Case("analyze-fps-missing", "`analyze`: fps missing in the manifest (and no video)",
         _manifest_cells("trial == 'T02'", fps=np.nan), 0,
         r"frame rate unknown: give fps in the manifest", "T02_C1DLC"),
    Case("analyze-not-video", "`analyze`: a text file given as the video (frame size from it)",
         _not_a_video, 0, r"cannot decode as video", "T02_C1 vidéo.mp4"),
    Case("stats-one-trial", "`stats`: a cycles table of one trial",
         lambda d: ["stats", _cycles_csv(d, "cycles un essai.csv", lambda c: c[c.trial == "T01"]),
                    "--out", d / "stats"], 2,
         r"the cycles table has 1 trial \(T01\); a repeated-measures ANOVA needs at least 2",
         "cycles un essai.csv"),
    Case("stats-constant", "`stats`: constant values (zero variance)",
         lambda d: ["stats", _cycles_csv(d, "cycles constants.csv", lambda c: c.assign(value=1.0)),
                    "--out", d / "stats", "--no-figures"], 2,
         r"all values are constant \(zero variance\) in every body part and axis", "cycles constants.csv"),
    Case("stats-one-view", "`stats`: a cycles table of one view",
         lambda d: ["stats", _cycles_csv(d, "cycles C1.csv", lambda c: c[c.view == "C1"]),
                    "--out", d / "stats"], 2,
         r"has 1 view\(s\) \('C1'\); the perspective comparison needs at least 2", "cycles C1.csv"),
]

ACCEPTED = [
    ("analyze-unicode", "`analyze`: unicode and spaces in folder, prediction and output names",
     _unicode_names),
]


@dataclasses.dataclass
class Outcome:
    rc: int
    out: str
    err: str
    message: str  # the error line (exit 2) or the matching problems.csv row (exit 0)
    command: str
    folder: Path
    sources_kept: bool
    part_files: list


def _run(argv: list) -> tuple[int, str, str]:
    out, err = _io.StringIO(), _io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@functools.cache
def _outcome(case_id: str) -> Outcome:
    """Run one case once per session (the doc test reuses the result)."""
    case = next(c for c in CASES if c.id == case_id)
    folder = _tmpdir("gaitint-case-") / f"données {case.id} ü"
    shutil.copytree(_base() / "cohorte de base", folder)
    argv = case.make(folder)
    inputs = {p: file_sha256(p) for p in folder.rglob("*") if p.is_file()}
    rc, out, err = _run(argv)
    lines = [ln for ln in err.splitlines() if ln.strip() and "%|" not in ln]
    if rc == 2:
        message = lines[0].split(": error: ", 1)[-1] if len(lines) == 1 else "\n".join(lines)
    else:
        out_dir = Path(argv[argv.index("--out") + 1])
        problems = pd.read_csv(out_dir / "problems.csv", keep_default_na=False)
        rows = [f"{r.trial} {r.view}: {r.problem}" for r in problems.itertuples()]
        message = next((r for r in rows if re.search(case.pattern, r)), " | ".join(rows))
    after = {p: file_sha256(p) for p in inputs}
    return Outcome(rc, out, err, message, str(argv[0]), folder, after == inputs,
                   list(folder.rglob("*.part*")))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_at_the_command_level(case):
    o = _outcome(case.id)
    assert o.rc == case.exit, (o.out, o.err)
    assert "Traceback" not in o.out + o.err
    assert re.search(case.pattern, o.message), o.message
    assert case.names in o.message, o.message
    if case.exit == 2:
        lines = [ln for ln in o.err.splitlines() if ln.strip() and "%|" not in ln]
        assert len(lines) == 1 and lines[0].startswith(f"gaitint {o.command}: error: "), o.err
    else:  # the run went on: the others were analysed, the problem is in the summary too
        assert "problem(s), see problems.csv" in o.out
        assert not o.err.strip() or all("%|" in ln or not ln.strip() for ln in o.err.splitlines()), o.err
        assert re.search(r"analysed [1-3] trial", o.out), o.out
    assert o.sources_kept, "an input file was changed"
    assert not o.part_files


@pytest.mark.parametrize(("cid", "what", "make"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_odd_but_valid_command_inputs(cid, what, make, tmp_path):
    folder = tmp_path / "dossier ü 漢字 n°1"
    shutil.copytree(_base() / "cohorte de base", folder)
    argv = make(folder)
    rc, out, err = _run(argv)
    assert rc == 0, (out, err)
    out_dir = Path(argv[argv.index("--out") + 1])
    problems = pd.read_csv(out_dir / "problems.csv")
    assert problems.empty, problems
    cycles = pd.read_csv(out_dir / "cycles.csv")
    assert cycles["trial"].nunique() == 3 and set(cycles["view"]) == {"C1", "C3"}


# ---------------------------------------------------------------------------------------
# docs/errors.md, second generated table
# ---------------------------------------------------------------------------------------
def _doc_table() -> str:
    rows = ["| bad input | exit | message the user gets |", "|---|---|---|"]
    for case in CASES:
        o = _outcome(case.id)
        msg = o.message.replace(str(o.folder) + os.sep, "").replace(str(o.folder), ".")
        msg = re.sub(r"\d+\.\d+ px \(\d\.\d\d leg", "N px (N leg", msg)
        msg = re.sub(r"\(InvalidDataError: .*\)", "(InvalidDataError: …)", msg)
        where = "error (exit 2)" if o.rc == 2 else "problems.csv row, run goes on"
        rows.append(f"| {case.what} | {where} | {msg.replace('|', '/')} |")
    rows += ["", "Analysed normally (no problem):", ""]
    rows += [f"- {what}" for _cid, what, _make in ACCEPTED]
    return "\n".join(rows)


def test_errors_doc_commands_is_current():
    block = f"{BEGIN}\n{_doc_table()}\n{END}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if os.environ.get("GAITINT_WRITE_ERRORS_DOC"):
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            anchor = "## Known limits"
            intro = (
                "## Commands: cohorts, events, statistics\n\n"
                "The table below is generated from `tests/cli/test_bad_inputs_commands.py` (each row "
                "runs `gaitint` on a damaged copy of a synthetic cohort; folder parts of paths are "
                "left out). A cohort run (`gaitint analyze`) skips a failing trial, lists it in "
                "`problems.csv` and in its summary, and analyses the others (`--strict` stops "
                "instead). Regenerate with `GAITINT_WRITE_ERRORS_DOC=1 .venv/bin/python -m pytest "
                "tests/cli/test_bad_inputs_commands.py -k doc`.\n\n"
            )
            piece = intro + block + "\n\n"
            text = text.replace(anchor, piece + anchor) if anchor in text else text + "\n" + piece
        DOC.write_text(text, encoding="utf-8")
    assert block in text, (
        "docs/errors.md is out of date; regenerate with GAITINT_WRITE_ERRORS_DOC=1 "
        ".venv/bin/python -m pytest tests/cli/test_bad_inputs_commands.py -k doc"
    )
