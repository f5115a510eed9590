"""Cohort runs: every trial of a manifest, the statistics, the result files.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..core._csv import write_csv
from ..core._files import write_text_atomic
from ..core.angles import ANGLE_AXIS
from ..core.errors import (
    AnalysisError,
    GaitintError,
    GaitintWarning,
    InputFileError,
    OutputExistsError,
)
from ..core.io import dlc_metadata_path, save_pose, write_dlc_metadata
from ._tables import _concat_views, _relabel
from .analyze import ViewResult, analyze_trial
from .config import AnalysisConfig, config_to_toml
from .manifest import load_manifest
from .resume import _CACHE_DIR, _FINAL_CLAIM, _TrialCache

#: Unit of the joint-angle curves (``axis`` ``angle``) in the cycle tables.
ANGLE_UNIT = "deg"


# cohorts
@dataclasses.dataclass
class CohortResult:
    """Tables of a cohort run and where they were written.

    ``cycles`` and ``cycles_all`` are ordered by trial, then view; their text columns
    (``trial, view, side, bodypart, axis``) are pandas categoricals (they compare, group and
    write to CSV as the strings; ``df.astype({"trial": str})`` gives plain strings).
    """

    out_dir: Path | None
    events: pd.DataFrame
    cycles: pd.DataFrame  # per-trial mean cycles, long
    cycles_all: pd.DataFrame  # every cycle, long
    parameters: pd.DataFrame
    anova: pd.DataFrame | None
    problems: pd.DataFrame
    files: dict[str, Path] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    resumed_trials: int = 0

    @property
    def failed(self) -> bool:
        """True when no trial gave a gait cycle: nothing for the statistics, only problems."""
        return self.cycles.empty

    def summary(self) -> str:
        """A few human lines: counts, problems, where the files are."""
        n_trials = self.cycles["trial"].nunique() if len(self.cycles) else 0
        lines = [
            f"analysed {n_trials} trial(s): {len(self.events)} events, "
            f"{_count_cycles(self.cycles_all)} gait cycles in {self.seconds:.1f} s",
        ]
        if len(self.problems):
            lines.append(f"{len(self.problems)} problem(s), see problems.csv:")
            for _, p in self.problems.head(5).iterrows():
                lines.append(f"  {p['trial']} {p['view']}: {p['problem']}")
        if self.anova is not None and len(self.anova):
            sig = self.anova[(self.anova["effect"] == "perspective") & (self.anova["p_unc"] < 0.05)]
            units = f"{int(self.anova['n'].max())} trials"
            if self.anova.attrs.get("unit") == "subject":
                units = f"{int(self.anova['n'].max())} subjects ({int(self.anova['n_trials'].max())} trials)"
            lines.append(
                f"RM-ANOVA on {units}: perspective effect p<0.05 for "
                f"{len(sig)} of {int((self.anova['effect'] == 'perspective').sum())} body part/axis tests"
            )
        shown = {k: v for k, v in self.files.items() if not k.startswith("figure_")}
        figures = [v for k, v in self.files.items() if k.startswith("figure_")]
        if figures:
            shown["figures"] = f"{figures[0].parent} ({len(figures)} files)"
        if self.out_dir is not None:
            lines.append(f"results in {self.out_dir}:")
        for name, path in shown.items():
            lines.append(f"  {name:<18} {path}")
        return "\n".join(lines)


def _count_cycles(cycles_all: pd.DataFrame) -> int:
    """The number of distinct ``(trial, view, cycle)`` of ``cycles_all``.

    As a groupby over them counts them, but the groupby runs only over the rows where one
    of them changes (the first rows of the cycles: thousands, not millions of rows).
    """
    keys = ["trial", "view", "cycle"]
    if not len(cycles_all):
        return 0
    change = np.zeros(len(cycles_all), dtype=bool)
    change[0] = True
    for k in keys:
        col = cycles_all[k]
        a = col.array.codes if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
        change[1:] |= a[1:] != a[:-1]
    firsts = cycles_all.iloc[np.flatnonzero(change)][keys]
    return int(firsts.groupby(keys, observed=True).ngroups)


def _trial_job(args) -> tuple[list[dict], list[dict]]:
    """Per-trial work, in a form that pickles (for processes and dask)."""
    from ..core._threads import single_thread_blas

    trial, rows, config = args
    with warnings.catch_warnings(record=True) as caught, single_thread_blas():
        warnings.simplefilter("always", GaitintWarning)
        try:
            results = analyze_trial(rows, config)
        except GaitintError as err:
            return [], [{"trial": trial, "view": "", "problem": str(err)}]
    notes = [
        {"trial": trial, "view": "", "problem": f"warning: {w.message}"}
        for w in caught
        if issubclass(w.category, GaitintWarning)
    ]
    return [_result_tables(r) for r in results], notes


def _result_tables(r: ViewResult) -> dict:
    """A view's tables for the cohort. The cycles stay without trial and view columns (added
    once, as categoricals, by :func:`_collect`: ~10 million rows at 2 000 pairs)."""
    def tag(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.insert(0, "view", r.view)
        df.insert(0, "trial", r.trial)
        return df

    return {
        "trial": r.trial,
        "view": r.view,
        "cleaned": r.cleaned,
        "clean": r.clean,
        "events": tag(r.events),
        "cycles": r.cycles,
        "parameters": tag(r.parameters if isinstance(r.parameters, pd.DataFrame) else pd.DataFrame([r.parameters])),
    }


def _map_jobs(jobs: list, config: AnalysisConfig, progress: bool) -> Iterable:
    if config.scheduler:
        from .distributed import map_on_dask

        yield from map_on_dask(_trial_job, jobs, address=config.scheduler, progress=progress)
        return
    from ..core._threads import available_cpus

    n_jobs = config.n_jobs if config.n_jobs > 0 else available_cpus()
    bar = _progress(len(jobs), progress, "trials")
    if n_jobs == 1 or len(jobs) < 4:
        from ..core._threads import single_thread_blas

        # one BLAS limit for the whole loop (each trial's own then does nothing); the
        # caller's work between trials (saving the partial results) runs inside it too
        with single_thread_blas():
            for job in jobs:
                yield _trial_job(job)
                bar.update()
    else:
        from concurrent.futures import ProcessPoolExecutor

        from ..core._threads import limit_worker_process

        _import_steps()  # once here: forked workers start with them (else each imports them)
        pool = ProcessPoolExecutor(max_workers=min(n_jobs, len(jobs)), initializer=limit_worker_process)
        try:
            for out in pool.map(_trial_job, jobs, chunksize=_chunksize(len(jobs), n_jobs)):
                yield out
                bar.update()
        finally:
            # when the caller stops early (an error, Ctrl-C) the queued trials are dropped:
            # only the chunks under way are waited for, not the rest of the cohort
            pool.shutdown(wait=True, cancel_futures=True)
    bar.close()


def _import_steps() -> None:
    """Import the modules of the per-trial steps (scipy.signal and .interpolate among them:
    ~0.5 s), which :func:`analyze_trial` imports on first use."""
    from ..core import angles, clean, cycles, events, orient  # noqa: F401


#: Most trials a worker process takes at a time: the results come back in chunks, so this
#: bounds how long the first ones (and progress, and writing) wait, and how long an early
#: stop waits for the chunks under way.
_MAX_CHUNK = 16


def _chunksize(n_trials: int, n_workers: int) -> int:
    return max(1, min(_MAX_CHUNK, n_trials // (8 * n_workers)))


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _progress(total: int, enabled: bool, unit: str):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, leave=False)


def analyze_cohort(
    manifest: str | Path | pd.DataFrame,
    out_dir: str | Path | None = None,
    *,
    config: AnalysisConfig | None = None,
    overwrite: bool = False,
    strict: bool = False,
    progress: bool = False,
    stats: bool = True,
    report: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> CohortResult:
    """Analyse every trial of a manifest and run the statistics.

    Trials that fail (unreadable file, no events, no full cycle...) are skipped and listed in
    ``problems`` (``problems.csv``) unless ``strict``, which raises the first problem.
    With ``out_dir`` the results are written there: ``cleaned/`` (DLC layout + flag tables,
    written as each trial's results come in; a file there that neither this run nor the
    interrupted run it resumes made stops it with :class:`OutputExistsError`, after removing
    the files both wrote there), ``events.csv``, ``cycles.csv`` (per-trial means: trial, view, side,
    bodypart, axis, pct, value), ``cycles_all.csv``, ``parameters.csv``, ``anova.csv``,
    ``problems.csv``, ``config.toml`` and the HTML report. Existing results are not replaced
    unless ``overwrite``, or unless the interrupted run this one resumes had begun writing them.
    An interrupted run resumes from the trials it finished (kept in ``.gaitint-partial/``, with
    the list of files it wrote). A run in which no trial gives a gait cycle
    (:attr:`CohortResult.failed`) writes only ``problems.csv``, ``config.toml`` (and the
    cleaned/ files of the views it could clean) and lists them there too, so the next run in
    the same folder (the corrected one) replaces them instead of refusing to start.
    """
    t0 = time.perf_counter()
    config = config or AnalysisConfig()
    table = manifest if isinstance(manifest, pd.DataFrame) else load_manifest(manifest)
    subjects = _subjects(table)  # (a table with subjects on some trials only: refused before any work)
    out_dir = Path(out_dir) if out_dir is not None else None
    cache = _TrialCache(out_dir / _CACHE_DIR if out_dir is not None else None, config)
    # the files an interrupted run of this analysis wrote (or was writing) are ours to replace
    ours = cache.claimed()
    final_overwrite = overwrite or _FINAL_CLAIM in ours
    if out_dir is not None:
        _check_outputs(out_dir, final_overwrite, ours)
    jobs = [(str(t), rows, config) for t, rows in table.groupby("trial", sort=True)]
    all_views = sorted(table["view"].astype(str).unique())
    cleaned_dir = out_dir / _CLEANED_DIR if out_dir is not None else None
    cleaned_names = _cleaned_names(table)
    outputs: dict[str, tuple[list[dict], list[dict]]] = {}
    todo = []
    for job in jobs:
        hit = cache.get(job)
        if hit is not None and all(_cleaned_written(v, cleaned_dir, cleaned_names) for v in hit[0]):
            outputs[job[0]] = hit
        else:
            todo.append(job)
    made: list[Path] = []
    for job, out in zip(todo, _map_jobs(todo, config, progress), strict=True):
        views, probs = out
        if strict and not views and probs:
            raise AnalysisError(f"trial {probs[0]['trial']}: {probs[0]['problem']}")
        try:
            for v in views:
                # written as each trial arrives (while the workers go on with the others),
                # then freed: the cleaned poses are only kept to be written
                if cleaned_dir is not None:
                    _write_cleaned(v, cleaned_dir, cleaned_names, made, cache, ours,
                                   overwrite=overwrite)
                v.pop("cleaned", None)
                v.pop("clean", None)
        except OutputExistsError:
            # a file neither this run nor the one it resumes made: take back what both wrote
            # in cleaned/ and the cache (a later run would take the files left for someone's)
            if not overwrite:
                theirs = [out_dir / n for n in ours if n.startswith(f"{_CLEANED_DIR}/")]
                for path in [*made, *theirs]:
                    path.unlink(missing_ok=True)
            cache.clear()
            raise
        cache.put(job, out)  # an interrupted run resumes from here
        outputs[job[0]] = out
        if on_progress is not None:
            on_progress(len(outputs), len(jobs))
    per_view = [v for job in jobs for v in outputs[job[0]][0]]
    problems = [p for job in jobs for p in outputs[job[0]][1]]
    for trial, rows, _ in jobs:
        lacking = [v for v in all_views if v not in set(rows["view"].astype(str))]
        if lacking:
            problems.append({"trial": trial, "view": ",".join(lacking),
                             "problem": f"the manifest has no {' or '.join(lacking)} view for this trial"})
    # (moves the cycle tables out of per_view)
    result = _collect(per_view, problems, config, subjects)
    result.resumed_trials = len(jobs) - len(todo)
    if out_dir is not None:
        cache.claim([_FINAL_CLAIM])
        _write_results(result, per_view, out_dir, config, overwrite=final_overwrite, stats=stats,
                       report=report, ours=ours)
        cache.clear()
        if result.failed:
            # nothing to show but the reasons: the next run in this folder (the corrected
            # one) replaces what this one wrote instead of refusing it
            written = {p.relative_to(out_dir).as_posix() for p in [*result.files.values(), *made]}
            written |= {n for n in ours if n != _FINAL_CLAIM}
            cache.claim(sorted(n for n in written if (out_dir / n).is_file()))
    elif stats:
        result.anova = _run_stats(result, config)
    result.seconds = time.perf_counter() - t0
    return result


_CLEANED_DIR = "cleaned"  # in the output folder: the views' cleaned predictions and flag tables


def _collect(per_view: list[dict], problems: list[dict], config: AnalysisConfig,
             subjects: Mapping[str, str] | None = None) -> CohortResult:
    """The cohort's tables from the views' (whose cycle tables it takes out of ``per_view``).

    The cycle tables get a ``unit`` column at the end (``px`` or ``m`` for x and y, ``deg``
    for the joint angles); with ``subjects`` (``{trial: subject}``, from the manifest's
    ``subject`` column) every table gets a ``subject`` column at the end.
    """
    from ..core.cycles import CYCLE_COLUMNS, MEAN_COLUMNS, mean_cycles

    def cat(key, columns=()):
        frames = [v[key] for v in per_view if len(v[key])]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))

    events = cat("events", ("trial", "view", "side", "event", "frame", "time_s"))
    # Each view's means from its own table (numpy on its regular layout: a groupby over the
    # whole cohort took seconds; the result is that of mean_cycles(cycles_all)), then the
    # tables are moved into cycles_all, freed as they are copied.
    means = [{"trial": v["trial"], "view": v["view"], "means": mean_cycles(v["cycles"])}
             for v in per_view if len(v["cycles"])]
    cycles_all = _concat_views(per_view, "cycles", CYCLE_COLUMNS, release=True)
    if len(cycles_all):
        cycles = _concat_views(means, "means", MEAN_COLUMNS)
    else:
        cycles = pd.DataFrame(columns=["trial", "view", "side", "bodypart", "axis", "pct", "value"])
    parameters = cat("parameters", ("trial", "view"))
    for table in (cycles, cycles_all):
        if len(table):
            table["unit"] = _relabel(table["axis"], lambda a: ANGLE_UNIT if a == ANGLE_AXIS else config.cycles_units)
    if subjects:
        for table in (events, cycles, cycles_all, parameters):
            if len(table):
                table["subject"] = _relabel(table["trial"], lambda t: subjects[str(t)])
    problems_df = pd.DataFrame(problems, columns=["trial", "view", "problem"])
    return CohortResult(None, events, cycles, cycles_all, parameters, None, problems_df)


def _subjects(table: pd.DataFrame) -> dict[str, str] | None:
    """``{trial: subject}`` from the manifest's ``subject`` column (None when it has none:
    each trial is then its own subject). A table not read from a file (napari's loaded
    trials) is checked as :func:`~napari_gaitint.workflow.manifest.read_manifest` checks files."""
    if "subject" not in table.columns or table["subject"].isna().all():
        return None
    from .manifest import validate_subjects

    path = table.attrs.get("path")
    validate_subjects(table, Path(path) if path else None)
    return {str(t): str(s) for t, s in zip(table["trial"], table["subject"], strict=True)}


def _run_stats(result: CohortResult, config: AnalysisConfig, *, out_dir: Path | None = None,
               report: bool = False, overwrite: bool = False) -> pd.DataFrame | None:
    """RM-ANOVA of the per-trial mean cycles (and, with ``out_dir``, agreement, figures and
    the report). A cohort the statistics cannot handle becomes a problem row, not a crash."""
    from ..core.stats import rm_anova

    def note(rows: list[dict]) -> None:
        result.problems = pd.concat([result.problems, pd.DataFrame(rows)], ignore_index=True)

    if result.cycles.empty:
        note([{"trial": "(cohort)", "view": "", "problem": "statistics: no gait cycles in any trial"}])
        return None
    try:
        if out_dir is None:
            anova = rm_anova(result.cycles, correction=config.correction, engine=config.stats_engine)
        else:
            from ..report.outputs import write_stats_outputs

            outputs = write_stats_outputs(
                out_dir, result.cycles, correction=config.correction, engine=config.stats_engine,
                report=report, figures=report, config=config.resolved().to_dict(),
                parameters=result.parameters, events=result.events, overwrite=overwrite,
            )
            result.files.update(outputs.files)
            anova = outputs.anova
    except AnalysisError as err:
        note([{"trial": "(cohort)", "view": "", "problem": f"statistics: {err}"}])
        return None
    dropped = pd.DataFrame(anova.attrs.get("dropped") or [], columns=["trial", "bodypart", "axis", "reason"])
    if len(dropped):
        rows = []
        subject = anova.attrs.get("unit") == "subject"
        for (trial, reason), g in dropped.groupby(["trial", "reason"], sort=False):
            parts = sorted({f"{b}/{a}" for b, a in zip(g["bodypart"], g["axis"], strict=True)})
            what = "all body parts" if len(parts) >= anova.groupby(["bodypart", "axis"], observed=True).ngroups else ", ".join(parts)
            rows.append({"trial": f"(subject {trial})" if subject else trial, "view": "",
                         "problem": f"statistics: left out of {what}: {reason}"})
        note(rows)
    return anova


_RESULT_FILES = ("events.csv", "cycles.csv", "cycles_all.csv", "parameters.csv", "anova.csv",
                 "problems.csv", "config.toml")


def _check_outputs(out_dir: Path, overwrite: bool, ours: set[str]) -> None:
    """Refuse to start when a result file is there that neither ``overwrite`` nor a claim
    of the run before (``ours``: an interrupted or failed run in this folder) lets us replace."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputFileError(out_dir, "output path is a file, not a folder")
    if overwrite:
        return
    existing = [n for n in _RESULT_FILES if (out_dir / n).exists() and n not in ours]
    if existing:
        raise OutputExistsError(out_dir / existing[0])


def _cleaned_names(table: pd.DataFrame) -> dict[tuple[str, str], str]:
    """``{(trial, view): path under cleaned/}`` of the views' cleaned predictions.

    Each keeps its predictions' file name (``.h5``): DeepLabCut's ``<video>DLC_<scorer>.h5``,
    which DeepLabCut's tools find when given ``destfolder=<out>/cleaned`` and, being in
    another folder than the video, never take instead of the original. Views whose
    predictions share a file name (same name in different folders) go into
    ``<trial>_<view>/`` subfolders so that none replaces another.
    """
    keys = [(str(t), str(v)) for t, v in zip(table["trial"], table["view"], strict=True)]
    names = [f"{Path(str(p)).stem}.h5" for p in table["predictions"]]
    counts = pd.Series(names).value_counts()
    return {k: (f"{k[0]}_{k[1]}/{n}" if counts[n] > 1 else n)
            for k, n in zip(keys, names, strict=True)}


def _cleaned_paths(view: dict, cleaned_dir: Path, names: dict[tuple[str, str], str]
                   ) -> tuple[Path, Path]:
    """Where a view's cleaned predictions (DLC layout, :func:`_cleaned_names`) and flag table
    (``<name>_flags.csv`` beside it) go (and DeepLabCut's ``<name>_meta.pickle``)."""
    from ..core.clean import flags_path

    pose_path = cleaned_dir / names[(str(view["trial"]), str(view["view"]))]
    return pose_path, flags_path(pose_path)


def _write_cleaned(view: dict, cleaned_dir: Path, cleaned_names: dict, made: list[Path],
                   cache: _TrialCache, ours: set[str], *, overwrite: bool) -> None:
    """Write a view's cleaned predictions and flag table, adding each path to ``made``.

    The files are claimed in ``cache`` first; an existing one is replaced with ``overwrite``
    or when the interrupted run this one resumes claimed it (``ours``).
    """
    from ..core.clean import flags_table

    pose_path, flags_path = _cleaned_paths(view, cleaned_dir, cleaned_names)
    meta_path = dlc_metadata_path(pose_path)  # DeepLabCut's tools need it beside predictions
    names = [f"{_CLEANED_DIR}/{p.relative_to(cleaned_dir).as_posix()}"
             for p in (pose_path, flags_path, meta_path)]
    cache.claim(names)
    made.append(save_pose(view["cleaned"], pose_path, overwrite=overwrite or names[0] in ours))
    made.append(write_csv(flags_path, flags_table(view["clean"]), overwrite=overwrite or names[1] in ours))
    made.append(write_dlc_metadata(pose_path, source=view["cleaned"].source, pose=view["cleaned"],
                                   overwrite=overwrite or names[2] in ours))


def _cleaned_written(view: dict, cleaned_dir: Path | None, names: dict) -> bool:
    """True if the view's cleaned files exist (a resumed run takes a trial from the cache
    only then: the cache keeps its tables, not its cleaned poses)."""
    return cleaned_dir is None or all(p.is_file() for p in _cleaned_paths(view, cleaned_dir, names))


def _write_results(result, per_view, out_dir: Path, config, *, overwrite: bool, stats: bool,
                   report: bool, ours: set[str] = frozenset()) -> None:
    """Write the cohort's tables, settings, statistics and report.

    A failed run (:attr:`CohortResult.failed`: no gait cycle in any trial) writes only
    ``problems.csv`` and ``config.toml``: no empty tables that look like results. A file
    named in ``ours`` (claimed by the run before, in this folder) is replaced.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = result.files
    if per_view:  # written by analyze_cohort as the trials came in
        files["cleaned"] = out_dir / _CLEANED_DIR

    def replace(name: str) -> bool:
        return overwrite or name in ours

    if not result.failed:
        for name, df in (
            ("events", result.events), ("cycles", result.cycles), ("cycles_all", result.cycles_all),
            ("parameters", result.parameters),
        ):
            files[name] = write_csv(out_dir / f"{name}.csv", df, overwrite=replace(f"{name}.csv"),
                                    n_jobs=config.n_jobs)
    files["config"] = write_text_atomic(out_dir / "config.toml", config_to_toml(config.resolved()),
                                        overwrite=replace("config.toml"))
    if stats:
        result.anova = _run_stats(result, config, out_dir=out_dir, report=report, overwrite=overwrite)
    files["problems"] = write_csv(out_dir / "problems.csv", result.problems, overwrite=replace("problems.csv"))
    result.out_dir = out_dir
