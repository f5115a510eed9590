"""Cohort throughput: ``gaitint analyze`` from a manifest to the ANOVA table.

Writes a synthetic cohort (no video) once, then times in this one process (interpreter start
excluded, imports included in the first run and reported apart):

* serial: ``analyze_cohort(..., n_jobs=1)`` through the RM-ANOVA (no report);
* parallel: the same with ``n_jobs=2`` processes (both cores);
* optionally ``--dask``: the same on a dask ``LocalCluster`` with 2 workers.

and prints seconds, the parallel/serial speed-up and the peak resident memory. Then it
writes the result tables as ``gaitint analyze`` does (``events.csv``, ``cycles.csv``,
``cycles_all.csv``, ``parameters.csv``) and, in the same run, with pandas' ``to_csv``
(the baseline; the files must be byte-identical).

    python benchmarks/cohort_throughput.py                 # 61 trial pairs (the seed's cohort)
    python benchmarks/cohort_throughput.py --pairs 2000    # a large cohort
    python benchmarks/cohort_throughput.py --minutes 10    # 24 treadmill pairs of 10 min
    python benchmarks/cohort_throughput.py --quick         # 6 pairs (CI)
    python benchmarks/cohort_throughput.py --manifest trials.csv   # your own cohort

With ``--manifest`` the cohort is read from that manifest (as ``gaitint analyze`` takes it,
e.g. written by ``gaitint manifest``); nothing is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import run_script, synthetic_cohort  # noqa: E402

from napari_gaitint.core.agreement import _icc, _paired


def _peak_rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def _main(argv, tmp_dirs: list) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, help="trial pairs (default 61; 24 with --minutes)")
    ap.add_argument("--minutes", type=float,
                    help="long recordings: treadmill trials of this many minutes each")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dask", action="store_true", help="also run on a 2-worker dask LocalCluster")
    ap.add_argument("--dir", type=Path, help="reuse/keep the synthetic cohort here")
    ap.add_argument("--manifest", type=Path,
                    help="time this cohort (a trials.csv, e.g. your recordings) instead of a synthetic one")
    ap.add_argument("--no-serial", action="store_true", help="skip the serial run (large cohorts)")
    ap.add_argument("--repeat", type=int, default=1, help="repeat each run, keep the best")
    args = ap.parse_args(argv)
    n_pairs = 6 if args.quick else args.pairs or (24 if args.minutes else 61)

    from napari_gaitint.workflow.cohort import analyze_cohort
    from napari_gaitint.workflow.config import AnalysisConfig

    if args.manifest is not None:
        from napari_gaitint.workflow.manifest import load_manifest

        manifest = args.manifest
        table = load_manifest(manifest)  # a clear error for a bad manifest, before timing
        n_pairs = table["trial"].nunique()
        print(f"cohort: {n_pairs} trials, {len(table)} views, from {manifest}")
    else:
        t0 = time.perf_counter()
        long = {"duration_s": 60 * args.minutes, "treadmill": True} if args.minutes else {}
        manifest = synthetic_cohort(args.dir, n_pairs, tmp_dirs, **long)
        root = manifest.parent
        what = f"treadmill trial pairs of {args.minutes:g} min" if args.minutes else "trial pairs"
        print(f"cohort: {n_pairs} {what} in {root} (made in {time.perf_counter() - t0:.1f} s)")

    t0 = time.perf_counter()
    import pingouin  # noqa: F401  (imported by the statistics; timed apart)

    print(f"one-off imports (pingouin): {time.perf_counter() - t0:.2f} s")
    rows = []
    outcome = []

    def run(name, config):
        best = (float("inf"), float("inf"))
        for _ in range(max(1, args.repeat)):
            t, c = time.perf_counter(), time.process_time()
            res = analyze_cohort(manifest, None, config=config, report=False)
            best = min(best, (time.perf_counter() - t, time.process_time() - c))
            if args.manifest is None:
                # 6 body parts x 2 axes and 4 joint angles, 3 effects each
                assert res.anova is not None and len(res.anova) == 48, "ANOVA table incomplete"
        rows.append((name, *best))
        outcome.append(res)
        return best[0]

    serial = None if args.no_serial else run("serial (1 process)", AnalysisConfig(n_jobs=1))
    parallel = run("parallel (2 processes)", AnalysisConfig(n_jobs=2))
    if args.dask:
        from dask.distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
            run("dask LocalCluster (2 workers)",
                dataclasses.replace(AnalysisConfig(), scheduler=cluster.scheduler_address))
    res = outcome[-1]
    print(f"results: {len(res.cycles_all):,} cycle samples, ANOVA rows "
          f"{0 if res.anova is None else len(res.anova)}, problems {len(res.problems)} "
          "(run `gaitint analyze` to see them)")
    print("wall = perf_counter; cpu = process_time of this process (workers not counted)")
    print(f"{'run':<32} {'wall s':>8} {'s/pair':>8} {'cpu s':>8}")
    for name, dt, cpu in rows:
        print(f"{name:<32} {dt:8.2f} {dt / n_pairs:8.3f} {cpu:8.2f}")
    if serial is not None:
        print(f"speed-up parallel/serial: {serial / parallel:.2f}x")
    me, kids = _peak_rss_mb()
    print(f"peak resident memory: {me:.0f} MB (this process), {kids:.0f} MB (largest worker)")
    _time_tables(res, tmp_dirs)
    _time_statistics(res, tmp_dirs, rounds=1 if args.quick else 2)


def _time_tables(res, tmp_dirs: list) -> None:
    """Write the result tables with write_csv (as ``gaitint analyze``) and with pandas."""
    from napari_gaitint.core._csv import write_csv

    out = Path(tempfile.mkdtemp(prefix="gaitint-bench-csv-"))
    tmp_dirs.append(out)
    print(f"\nresult tables to CSV: {'table':<12} {'rows':>12} {'MB':>8} {'ours s':>8} {'pandas s':>9} {'ratio':>6}")
    total = [0.0, 0.0]
    for name in ("events", "cycles", "cycles_all", "parameters"):
        df = getattr(res, name)
        t = time.perf_counter()
        ours = write_csv(out / f"{name}.csv", df, n_jobs=0)  # both cores, as `--jobs 0`
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        df.to_csv(out / f"{name}_pandas.csv", index=False)
        t_pandas = time.perf_counter() - t
        data = ours.read_bytes()
        assert data == (out / f"{name}_pandas.csv").read_bytes(), f"{name}.csv differs from pandas'"
        (out / f"{name}.csv").unlink()
        (out / f"{name}_pandas.csv").unlink()
        total[0] += t_ours
        total[1] += t_pandas
        print(f"{'':<21} {name:<12} {len(df):>12,} {len(data) / 2**20:>8.1f} {t_ours:>8.2f} {t_pandas:>9.2f} "
              f"{t_pandas / max(t_ours, 1e-9):>5.1f}x")
    print(f"{'':<21} {'all':<12} {'':>12} {'':>8} {total[0]:>8.2f} {total[1]:>9.2f} "
          f"{total[1] / max(total[0], 1e-9):>5.1f}x   (byte-identical files)")


def _time_statistics(res, tmp_dirs: list, rounds: int = 2) -> None:
    """The statistics outputs of ``gaitint analyze`` (ANOVA, agreement, figures, report),
    then their two costliest parts against the plain way in the same run: saving each figure
    as PNG and SVG (ours lays a figure out once for both formats, which matters for figures
    with a layout engine; ours have fixed margins, so both ways draw the same) and the
    agreement ICC (ours: the mean squares in numpy; pingouin's ``intraclass_corr`` per body
    part and axis)."""
    import io
    import warnings

    import matplotlib
    import numpy as np
    import pandas as pd
    import pingouin as pg

    from napari_gaitint.core import stats
    from napari_gaitint.report.figures import make_figures, save_figure_bytes
    from napari_gaitint.report.outputs import write_stats_outputs

    out = Path(tempfile.mkdtemp(prefix="gaitint-bench-stats-"))
    tmp_dirs.append(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # trials left out of the ANOVA
        t = time.perf_counter()
        write_stats_outputs(out / "first", res.cycles)
        t_all = time.perf_counter() - t
    print(f"\nstatistics outputs (ANOVA, agreement, 3 figures as PNG + SVG, report): {t_all:.2f} s")

    df = stats.validate_cycles_table(res.cycles)
    best = {"ours": float("inf"), "savefig": float("inf")}
    previous = None
    for _ in range(rounds):  # the best of each
        for way in ("savefig", "ours"):
            figs = make_figures(df)
            t = time.perf_counter()
            pngs = {}
            for name, fig in figs.items():
                if way == "ours":
                    written = save_figure_bytes(fig, out / way / name, overwrite=True)
                    pngs[name] = written[out / way / f"{name}.png"]
                else:
                    for fmt in ("png", "svg"):
                        buf = io.BytesIO()
                        # (with our PNG compression and SVG text: the same files)
                        with matplotlib.rc_context(_SAVE_RC[fmt]):
                            fig.savefig(buf, format=fmt, dpi=120, **_SAVE_OPTIONS[fmt])
                        if fmt == "png":
                            pngs[name] = buf.getvalue()
            best[way] = min(best[way], time.perf_counter() - t)
            if way == "ours":
                assert pngs == previous, "the PNG figures differ from savefig's"
            previous = pngs
    print(f"  saving the figures: ours {best['ours']:.2f} s, savefig per format {best['savefig']:.2f} s "
          f"({best['savefig'] / max(best['ours'], 1e-9):.1f}x; identical PNGs)")

    pairs = _paired(df, *sorted(df["view"].unique())[:2])
    groups = [g for _, g in pairs.groupby(["bodypart", "axis"], observed=True)]
    t = time.perf_counter()
    ours = [_icc(g) for g in groups]
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ref = []
    for g in groups:
        long = pd.DataFrame({"target": np.tile(np.arange(len(g)), 2), "rater": np.repeat(["a", "b"], len(g)),
                             "rating": np.concatenate([g["a"].to_numpy(float), g["b"].to_numpy(float)])})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            icc = pg.intraclass_corr(data=long, targets="target", raters="rater", ratings="rating")
        icc = icc.set_index("Type")["ICC"]
        ref.append(float(icc["ICC(A,1)"] if "ICC(A,1)" in icc.index else icc["ICC2"]))  # old: ICC2
    t_ref = time.perf_counter() - t
    assert np.allclose(ours, ref, rtol=1e-10), "ICC differs from pingouin's"
    print(f"  agreement ICC(A,1), {len(groups)} body part/axis: ours {t_ours * 1e3:.1f} ms, "
          f"pingouin {t_ref * 1e3:.0f} ms ({t_ref / max(t_ours, 1e-9):.0f}x; equal to 1e-10)")


#: What report.figures passes to savefig for each format, and its settings.
_SAVE_OPTIONS = {"png": {"pil_kwargs": {"compress_level": 1}}, "svg": {}}
_SAVE_RC = {"png": {}, "svg": {"svg.fonttype": "none"}}


def main(argv=None) -> None:
    run_script("cohort_throughput.py", _main, argv)


if __name__ == "__main__":
    main()
