"""How long ``gaitint analyze`` takes against reading its input, each in a fresh process.

Writes a synthetic cohort (no video) once, then times, each in a new Python process as a
user runs them (interpreter start and imports included):

* **baseline**: reading the cohort's prediction files with pandas (``pd.read_hdf``, one
  call per file: the least any analysis of these files has to do);
* ``gaitint analyze MANIFEST --out DIR --no-report``: the whole analysis, every table and
  ``cleaned/`` file written;
* ``gaitint analyze MANIFEST --out DIR``: the same with the figures and ``report.html``.

and prints wall and CPU seconds (best of ``--repeat`` runs) and the ratios against the
targets: the analysis at most 3x the pandas read, the report adding at most 50 % to the
analysis. The tables of the two analyses must be byte-identical (checked).

    python benchmarks/report_speed.py               # 61 trial pairs (the seed's cohort)
    python benchmarks/report_speed.py --jobs 2      # gaitint analyze --jobs 2
    python benchmarks/report_speed.py --quick       # 6 pairs, one run (CI)
    python benchmarks/report_speed.py --manifest trials.csv   # your own cohort (read only)
    python benchmarks/report_speed.py --stages      # and where the CPU seconds go, per step

``--stages`` runs both analyses once more, each in a fresh process with its main steps timed
(CPU seconds of this process, each step without the steps timed inside it); the timing
wrappers add a little to the total.
"""

from __future__ import annotations

import argparse
import filecmp
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import run_script, synthetic_cohort  # noqa: E402

#: The tables both analyses write (compared byte for byte).
TABLES = ("events.csv", "cycles.csv", "cycles_all.csv", "parameters.csv", "anova.csv", "agreement.csv",
          "difference_curves.csv", "problems.csv")

#: The steps ``--stages`` times: (module, function, label). A step called inside another
#: timed step counts in its own line (exclusive times), except ``write_csv`` inside
#: ``_write_cleaned`` (the flag tables: part of writing ``cleaned/``).
_STAGES = (
    ("napari_gaitint.workflow.cohort", "load_manifest", "reading the manifest"),
    ("napari_gaitint.workflow.analyze", "load_pose", "reading the predictions"),
    ("napari_gaitint.core.clean", "clean_pose", "cleaning"),
    ("napari_gaitint.workflow.analyze", "_trial_events", "orienting, events"),
    ("napari_gaitint.core.cycles", "compute_cycles", "cycles"),
    ("napari_gaitint.workflow.analyze", "_with_angle_cycles", "joint-angle cycles"),
    ("napari_gaitint.core.parameters", "compute_parameters", "parameters, steps"),
    ("napari_gaitint.core.parameters", "compute_steps", "parameters, steps"),
    ("napari_gaitint.workflow.resume", "_TrialCache.put", "resume cache"),
    ("napari_gaitint.workflow.cohort", "_write_cleaned", "writing cleaned/"),
    ("napari_gaitint.workflow.cohort", "_collect", "collecting the tables"),
    ("napari_gaitint.workflow.cohort", "write_csv", "writing the result tables"),
    ("napari_gaitint.workflow.cohort", "_run_stats", "statistics (ANOVA, agreement)"),
    ("napari_gaitint.report.figures", "make_figures", "report: making the figures"),
    ("napari_gaitint.report.figures", "save_figure_bytes", "report: drawing PNG and SVG"),
    ("napari_gaitint.report.html", "build_report", "report: the HTML"),
)


def _stages_child(manifest: str, out: str, report: bool) -> None:
    """Run ``gaitint analyze`` in this process with :data:`_STAGES` timed; print the table."""
    import contextlib
    import importlib
    import io
    from collections import Counter

    from napari_gaitint.cli import main

    start = time.process_time()  # the interpreter, napari_gaitint and what it imports
    spent: Counter = Counter()
    stack: list[list[float]] = []  # per timed call under way: [time in timed calls inside]

    def timed(fn, label, fold_into_parent):
        def wrapper(*args, **kwargs):
            if fold_into_parent and stack:
                return fn(*args, **kwargs)
            t = time.process_time()
            stack.append([0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                inner = stack.pop()[0]
                took = time.process_time() - t
                spent[label] += took - inner
                if stack:
                    stack[-1][0] += took
        return wrapper

    for module, name, label in _STAGES:
        owner = importlib.import_module(module)
        *cls, attr = name.split(".")
        if cls:
            owner = getattr(owner, cls[0])
        setattr(owner, attr, timed(getattr(owner, attr), label, name == "write_csv"))
    argv = ["analyze", manifest, "--out", out, "--overwrite"] + ([] if report else ["--no-report"])
    t0 = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(argv)
    total = time.process_time()
    rows = [("start-up: interpreter and imports", start), *spent.items(),
            ("the rest (per-trial glue, lazy imports)", total - t0 - sum(spent.values())), ("total", total)]
    for label, sec in rows:
        print(f"  {label:<40} {sec:6.2f}")


_READ = """
import sys
import pandas as pd
for path in sys.argv[1:]:
    pd.read_hdf(path)
"""


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one command, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    run = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"report_speed.py: {' '.join(cmd[:4])} ... failed:\n{run.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _main(argv, tmp_dirs: list) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=61, help="trial pairs (default 61)")
    ap.add_argument("--quick", action="store_true", help="6 pairs, one run")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command, the best kept (default 3)")
    ap.add_argument("--jobs", type=int, default=None, help="gaitint analyze --jobs (default: its default)")
    ap.add_argument("--dir", type=Path, help="reuse/keep the synthetic cohort here")
    ap.add_argument("--manifest", type=Path, help="time this cohort instead of a synthetic one (read only)")
    ap.add_argument("--stages", action="store_true", help="also print the CPU seconds of each step")
    ap.add_argument("--stages-child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stages_child:
        manifest, out, report = args.stages_child
        _stages_child(manifest, out, report == "report")
        return
    n_pairs, repeat = (6, 1) if args.quick else (args.pairs, max(1, args.repeat))

    from napari_gaitint.workflow.manifest import load_manifest

    manifest = args.manifest or synthetic_cohort(args.dir, n_pairs, tmp_dirs, prefix="gaitint-report-speed-")
    table = load_manifest(manifest)
    files = [str(p) for p in table["predictions"]]
    if not all(f.endswith((".h5", ".hdf5")) for f in files):
        raise SystemExit("report_speed.py: the baseline reads .h5 prediction files; this manifest names others")
    print(f"cohort: {table['trial'].nunique()} trials, {len(files)} prediction files ({manifest})")

    out = Path(tempfile.mkdtemp(prefix="gaitint-report-speed-out-"))
    tmp_dirs.append(out)
    gaitint = [sys.executable, "-c", "import sys; from napari_gaitint.cli import main; sys.exit(main())"]
    jobs = ["--jobs", str(args.jobs)] if args.jobs is not None else []
    runs = {
        "read the prediction files (pandas)": [sys.executable, "-c", _READ, *files],
        "gaitint analyze --no-report": [*gaitint, "analyze", str(manifest), "--out", str(out / "a"),
                                        "--no-report", "--overwrite", *jobs],
        "gaitint analyze (with the report)": [*gaitint, "analyze", str(manifest), "--out", str(out / "b"),
                                              "--overwrite", *jobs],
    }
    best = {}
    for _ in range(repeat):  # interleaved: a busy moment of the machine touches all three
        for name, cmd in runs.items():
            wall, cpu = _timed(cmd)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], wall), min(old[1], cpu))
    for name in TABLES:
        if (out / "a" / name).exists() and not filecmp.cmp(out / "a" / name, out / "b" / name, shallow=False):
            raise SystemExit(f"report_speed.py: {name} differs between the runs with and without the report")

    read, analysis, report = best.values()
    print(f"each command in a fresh process, best of {repeat}; cpu = user + system of the process"
          + (f"; gaitint analyze --jobs {args.jobs} (cpu includes its workers)" if jobs else ""))
    print(f"{'run':<38} {'wall s':>8} {'cpu s':>8}")
    for name, (wall, cpu) in best.items():
        print(f"{name:<38} {wall:8.2f} {cpu:8.2f}")
    r1, r1c = analysis[0] / read[0], analysis[1] / read[1]
    r2, r2c = report[0] / analysis[0] - 1, report[1] / analysis[1] - 1
    print(f"analysis / pandas read:      {r1:.2f}x wall, {r1c:.2f}x cpu (target <= 3x: "
          f"{'met' if r1 <= 3 else 'not met'})")
    print(f"the report adds to analysis: {r2:+.0%} wall, {r2c:+.0%} cpu (target <= +50 %: "
          f"{'met' if r2 <= 0.5 else 'not met'})")
    if args.stages:
        for report in (False, True):
            print(f"CPU seconds per step, gaitint analyze{'' if report else ' --no-report'} (one run):",
                  flush=True)
            subprocess.run([sys.executable, __file__, "--stages-child", str(manifest), str(out / "s"),
                            "report" if report else "no-report"], check=True)


if __name__ == "__main__":
    run_script("report_speed.py", _main)
