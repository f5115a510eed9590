"""Cohort pipeline: configuration, manifest checks, and a full run on the synthetic walker."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.errors import GaitintError, InputFileError, OutputExistsError
from napari_gaitint.workflow import cohort as cohort_module
from napari_gaitint.workflow._tables import _concat_views
from napari_gaitint.workflow.analyze import analyze_trial
from napari_gaitint.workflow.cohort import CohortResult, _count_cycles, _run_stats, analyze_cohort
from napari_gaitint.workflow.config import AnalysisConfig, config_to_toml, load_config
from napari_gaitint.workflow.manifest import load_manifest
from napari_gaitint.workflow.resume import _CACHE_DIR


def test_config_toml_round_trip(tmp_path):
    cfg = AnalysisConfig(
        clean={"likelihood_threshold": 0.4},
        events_method=None,
        correction="holm",
        bodyparts={"neck": "Neck"},
        px_per_m=812.5,
        n_jobs=2,
    )
    path = tmp_path / "c.toml"
    path.write_text(config_to_toml(cfg))
    assert load_config(path) == cfg


def test_config_unknown_key_names_it(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("n_point = 101\n")
    with pytest.raises(InputFileError, match="n_point"):
        load_config(path)


def test_config_bad_toml_names_file(tmp_path):
    path = tmp_path / "bad config.toml"
    path.write_text("n_points = = 3\n")
    with pytest.raises(InputFileError, match="bad config.toml"):
        load_config(path)


def test_manifest_missing_columns(tmp_path):
    path = tmp_path / "trials.csv"
    path.write_text("trial,view\nT1,C1\n")
    with pytest.raises(InputFileError, match="predictions"):
        load_manifest(path)


def test_manifest_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="manifest not found"):
        load_manifest(tmp_path / "trials.csv")
    with pytest.raises(InputFileError, match="no trials.csv and no DeepLabCut predictions named like"):
        load_manifest(tmp_path)  # an empty folder


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    out = tmp_path_factory.mktemp("cohort")
    manifest = write_synthetic_cohort(out, n_trials=4, seed=11, fps=25.0, video=False, bias_px=0.0)
    return manifest


def test_analyze_cohort_writes_everything(cohort, tmp_path):
    before = {p: file_sha256(p) for p in cohort.parent.rglob("*") if p.is_file()}
    res = analyze_cohort(cohort, tmp_path / "out", report=False)
    # sources untouched
    assert before == {p: file_sha256(p) for p in cohort.parent.rglob("*") if p.is_file()}
    for name in ("events.csv", "cycles.csv", "cycles_all.csv", "parameters.csv", "anova.csv", "config.toml"):
        assert (tmp_path / "out" / name).is_file(), name
    # config.toml spells out the cleaning defaults (a later version may change them) and repeats the run
    recorded = load_config(tmp_path / "out" / "config.toml")
    assert {"margin_leg", "max_lag_s", "likelihood_threshold", "leg_chain"} <= set(recorded.clean)
    assert recorded.clean_config() == AnalysisConfig().clean_config()
    from napari_gaitint.core.config import DEFAULT_METHOD

    assert recorded.events_method == DEFAULT_METHOD  # the detector used, spelt out
    cycles = pd.read_csv(tmp_path / "out" / "cycles.csv")
    assert {"trial", "view", "side", "bodypart", "axis", "pct", "value"} <= set(cycles.columns)
    assert cycles["trial"].nunique() == 4
    assert set(cycles["view"]) == {"C1", "C3"}
    assert sorted(cycles["pct"].unique()) == list(range(101))
    anova = pd.read_csv(tmp_path / "out" / "anova.csv")
    assert set(anova["effect"]) == {"time", "perspective", "time*perspective"}
    assert (anova["n"] == 4).all()
    # the time effect on a gait cycle is overwhelming for the moving limbs
    knee_x_time = anova[(anova.bodypart == "ankle") & (anova.axis == "x") & (anova.effect == "time")]
    assert knee_x_time["p_unc"].iloc[0] < 1e-6
    # events against the truth: detected heel strikes and toe offs within 1 frame of a true
    # one (median)
    truth = pd.read_csv(cohort.parent / "truth" / "events.csv")
    ev = res.events
    assert {"confidence", "why"} <= set(ev.columns)
    for (trial, view, event), t in truth.groupby(["trial", "view", "event"]):
        d = ev[(ev.trial == trial) & (ev.view == view) & (ev.event == event)]
        if len(d) == 0:
            continue
        nearest = np.abs(d["frame"].to_numpy()[:, None] - t["frame"].to_numpy()[None, :]).min(axis=1)
        assert np.median(nearest) <= 1.0, (trial, view, event)
    # steps measured with both views: the other leg's heel strike from the other camera
    params = pd.read_csv(tmp_path / "out" / "parameters.csv")
    assert params["steps_from_both_views"].all() and (params["n_steps"] >= 1).all()
    np.testing.assert_allclose(params["step_time_s"], params["stride_time_s"] / 2, atol=0.04)
    # heel to heel at the heel strike: the landing heel has 1-2 cm still to slide and the
    # trailing heel is already up (the walker's feet, calibrated on real walking), so steps
    # are ~4 % shorter than half the stride on this walker (0.84-1.05 per step in the world)
    np.testing.assert_allclose(params["step_length_px"], 0.96 * params["stride_length_px"] / 2, rtol=0.1)
    # a second run refuses to overwrite, and --overwrite works
    with pytest.raises(OutputExistsError):
        analyze_cohort(cohort, tmp_path / "out", report=False)
    analyze_cohort(cohort, tmp_path / "out", report=False, overwrite=True)


def test_analyze_cohort_reports_failing_trial(cohort, tmp_path):
    table = load_manifest(cohort)
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not an hdf5 file at all")
    table.loc[0, "predictions"] = str(broken)
    res = analyze_cohort(table, None, report=False)
    assert len(res.problems) == 1
    assert "broken.h5" in res.problems["problem"].iloc[0]
    assert res.cycles["trial"].nunique() == 3
    with pytest.raises(GaitintError, match="broken.h5"):
        analyze_cohort(table, None, report=False, strict=True)


def test_unsynchronised_views_are_reported_and_still_analysed(cohort, tmp_path):
    """A camera that started 3 frames late: the lag is found from the trunk tracks, the far
    leg is taken from the matching frames, and problems.csv says the views are out of sync."""
    from napari_gaitint.core.io import load_pose, save_pose

    table = load_manifest(cohort)
    row = table.index[(table["trial"] == table["trial"].iloc[0]) & (table["view"] == "C3")][0]
    pose = load_pose(table.loc[row, "predictions"])
    late = pose.copy()
    late.values[:] = np.nan
    late.values[:-3] = pose.values[3:]
    table.loc[row, "predictions"] = str(save_pose(late, tmp_path / "late_C3.h5"))
    res = analyze_cohort(table, None, report=False)
    notes = res.problems[res.problems["problem"].str.contains("synchronis")]
    assert len(notes) == 2 and (notes["trial"] == table.loc[row, "trial"]).all()  # one per view
    assert "3 frames" in notes["problem"].iloc[0] and "late_C3.h5" in " ".join(notes["problem"])
    assert res.cycles["trial"].nunique() == 4
    # the steps pair the heel strikes of the same moments (3 frames = 0.12 s off otherwise)
    late_trial = res.parameters[res.parameters["trial"] == table.loc[row, "trial"]]
    assert late_trial["steps_from_both_views"].all()
    np.testing.assert_allclose(late_trial["step_time_s"], late_trial["stride_time_s"] / 2, atol=0.04)


def test_dlc_names_are_matched_without_a_mapping(cohort, tmp_path):
    """A DLC project that calls the parts Neck, LHip ... LBigToe in C1 and RHip ... in C3
    (both sides listed in each file) gives the same analysis as our role names, with no
    mapping: each camera's own side is taken."""
    from napari_gaitint.core.io import load_pose, save_pose

    table = load_manifest(cohort)
    ours = analyze_cohort(table, None, stats=False)
    names = {"neck": "Neck", "hip": "Hip", "knee": "Knee", "ankle": "Ankle", "heel": "Heel", "toe": "BigToe"}
    for i, row in table.iterrows():
        pose = load_pose(row["predictions"])
        me, them = ("L", "R") if row["view"] == "C1" else ("R", "L")
        values = np.concatenate([pose.values, pose.values[:, 1:]], axis=1)  # far side: junk copies
        values[:, len(pose.bodyparts):, :2] += 200.0
        both = pose.replace(values=values, bodyparts=(
            "Neck", *(me + names[b] for b in pose.bodyparts[1:]), *(them + names[b] for b in pose.bodyparts[1:])))
        table.loc[i, "predictions"] = str(save_pose(both, tmp_path / f"{row['trial']}_{row['view']}.h5"))
    theirs = analyze_cohort(table, None, stats=False)
    assert theirs.problems.empty
    pd.testing.assert_frame_equal(theirs.events, ours.events)
    pd.testing.assert_frame_equal(theirs.cycles, ours.cycles)


def test_manifest_individual_column_chooses_the_subject(cohort, tmp_path):
    """A multi-animal file with the walker and someone else: the manifest's individual
    column picks the walker; without it the one with the most frames is used, with a note."""
    from napari_gaitint.core.io import load_pose, poses_to_dlc_table, write_dlc_table

    table = load_manifest(cohort).iloc[:2].copy()
    for i, row in table.iterrows():
        walker = load_pose(row["predictions"])
        walker.individual = "walker"
        other = walker.copy()
        other.individual = "assistant"
        other.values[:, :, 0] += 37.0  # someone else, in every frame
        path = tmp_path / Path(row["predictions"]).name
        write_dlc_table(poses_to_dlc_table([other, walker]), path)
        table.loc[i, "predictions"] = str(path)
    ours = analyze_cohort(load_manifest(cohort).iloc[:2], None, stats=False)
    table["individual"] = "walker"
    chosen = analyze_cohort(table, None, stats=False)
    pd.testing.assert_frame_equal(chosen.events, ours.events)
    table["individual"] = np.nan
    guessed = analyze_cohort(table, None, stats=False)
    assert guessed.problems["problem"].str.contains("individuals have data at the same time").any()


def test_parallel_matches_serial(cohort):
    serial = analyze_cohort(cohort, None, stats=False)
    par = analyze_cohort(
        cohort, None, stats=False, config=dataclasses.replace(AnalysisConfig(), n_jobs=2)
    )
    pd.testing.assert_frame_equal(serial.cycles, par.cycles)
    pd.testing.assert_frame_equal(serial.events, par.events)


def test_cohort_cycle_tables_are_compact_and_equal_the_per_trial_ones(cohort):
    """Trial, view and the other labels are categorical (a code per row; ~10 million rows at
    2 000 pairs), rows ordered by trial then view even when the manifest lists C3 first, and
    the values are those of the per-trial analysis and of one mean over the whole table."""
    from napari_gaitint.core.cycles import mean_cycles

    table = load_manifest(cohort).iloc[:4]
    res = analyze_cohort(table.iloc[::-1], None, stats=False)
    for df in (res.cycles_all, res.cycles):
        for col in ("trial", "view", "side", "bodypart", "axis"):
            assert isinstance(df[col].dtype, pd.CategoricalDtype), col
        keys = list(zip(df["trial"].astype(str), df["view"].astype(str), strict=True))
        assert keys == sorted(keys)
    views = analyze_trial(table[table["trial"] == table["trial"].iloc[0]], AnalysisConfig())
    for v in views:
        mine = res.cycles_all[(res.cycles_all["trial"] == v.trial) & (res.cycles_all["view"] == v.view)]
        np.testing.assert_array_equal(mine["value"].to_numpy(), v.cycles["value"].to_numpy())
        assert list(mine["bodypart"].astype(str)) == list(v.cycles["bodypart"].astype(str))
    # (the unit, a label of the rows, is the last column of both tables)
    assert list(res.cycles.columns[-1:]) == list(res.cycles_all.columns[-1:]) == ["unit"]
    once = mean_cycles(res.cycles_all).sort_values(["trial", "view"], kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(res.cycles, once[res.cycles.columns], check_categorical=False)
    # the means are taken per view, to the bit those of one groupby over the cohort
    pd.testing.assert_frame_equal(res.cycles, mean_cycles(res.cycles_all)[res.cycles.columns], check_exact=True)
    assert set(zip(res.cycles["axis"], res.cycles["unit"], strict=True)) == {("x", "px"), ("y", "px"), ("angle", "deg")}
    text = res.cycles_all.astype({c: str for c in ("trial", "view", "side", "bodypart", "axis")})
    assert set(text["side"]) == {"left", "right"}


def _view_cycles(side: str, bodyparts: list[str], n_cycles: int, seed: int) -> pd.DataFrame:
    """A table in the layout of compute_cycles (3 points per cycle)."""
    n_bp = len(bodyparts)
    n = n_cycles * n_bp * 2 * 3
    return pd.DataFrame({
        "side": pd.Categorical([side] * n),
        "cycle": np.repeat(np.arange(1, n_cycles + 1), n_bp * 6),
        "bodypart": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(n_bp), 6), n_cycles), bodyparts),
        "axis": pd.Categorical.from_codes(np.tile(np.repeat([0, 1], 3), n_cycles * n_bp), ["x", "y"]),
        "pct": np.tile([0.0, 50.0, 100.0], n_cycles * n_bp * 2),
        "value": np.random.default_rng(seed).normal(0, 10, n),
    })


def test_concat_views_equals_pandas_concat_and_frees_the_views():
    """The column-by-column copy against pd.concat / union_categoricals: views in trial, view
    order, categories united in order of appearance, empty tables left out, a column whose
    type differs between the views, and with ``release`` the views' tables taken out."""
    from pandas.api.types import union_categoricals

    def by_pandas(per_view, key):
        parts = sorted((v for v in per_view if len(v[key])), key=lambda v: (str(v["trial"]), str(v["view"])))
        frames = [v[key] for v in parts]
        lengths = [len(f) for f in frames]
        out = {}
        for name in ("trial", "view"):
            labels, codes = np.unique([str(v[name]) for v in parts], return_inverse=True)
            out[name] = pd.Categorical.from_codes(np.repeat(codes, lengths), categories=labels)
        for col in frames[0].columns:
            column = [f[col] for f in frames]
            if all(isinstance(c.dtype, pd.CategoricalDtype) for c in column):
                out[col] = union_categoricals(column, ignore_order=True)
            else:
                out[col] = pd.concat(column, ignore_index=True)
        return pd.DataFrame(out)

    six = ["neck", "hip", "knee", "ankle", "heel", "toe"]
    tables = {
        ("T2", "C3"): _view_cycles("right", six, 3, 1),
        ("T10", "C1"): _view_cycles("left", six[:-1], 2, 2),  # no toe
        ("T1", "C3"): _view_cycles("right", ["toe", *six[:-1]], 1, 3),  # another order
        ("T1", "C1"): _view_cycles("left", six, 4, 4).iloc[:0],  # no cycles
        ("T2", "C1"): _view_cycles("left", six, 2, 5).astype({"cycle": np.int32}),
    }
    tables[("T1", "C3")].loc[4, "bodypart"] = np.nan  # a missing label

    def views():
        return [{"trial": t, "view": v, "cycles": df.copy()} for (t, v), df in tables.items()]

    want = by_pandas(views(), "cycles")
    assert want["cycle"].dtype == np.int64  # (int32 and int64 pieces: pd.concat's type)
    per_view = views()
    for release in (False, True):
        got = _concat_views(per_view, "cycles", (), release=release)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        for col in ("trial", "view", "side", "bodypart", "axis"):
            assert got[col].cat.categories.equals(want[col].cat.categories), col
            assert got[col].cat.codes.dtype == want[col].cat.codes.dtype, col
    assert all("cycles" not in v for v in per_view)
    empty = _concat_views([{"trial": "T1", "view": "C1", "cycles": tables[("T1", "C1")]}],
                                   "cycles", ("side", "value"), release=True)
    assert list(empty.columns) == ["trial", "view", "side", "value"] and empty.empty


def test_summary_counts_the_cycles_as_a_groupby():
    a = _view_cycles("left", ["hip", "knee"], 3, 1).assign(trial="T1", view="C1")
    b = _view_cycles("right", ["hip", "knee"], 2, 2).assign(trial="T1", view="C3")
    c = _view_cycles("left", ["hip", "knee"], 2, 3).assign(trial="T2", view="C1")
    cycles_all = pd.concat([a, b, a.iloc[:5], c], ignore_index=True)  # a cycle in two runs
    cycles_all = cycles_all.astype({"trial": "category", "view": "category"})
    cycles_all.loc[len(cycles_all) - 3:, "trial"] = np.nan  # (no trial: not counted)
    n = cycles_all.groupby(["trial", "view", "cycle"], observed=True).ngroups
    assert _count_cycles(cycles_all) == n == 7
    assert _count_cycles(cycles_all.iloc[:0]) == 0
    res = CohortResult(None, pd.DataFrame(), pd.DataFrame(), cycles_all, pd.DataFrame(), None,
                                pd.DataFrame(columns=["trial", "view", "problem"]))
    assert " 7 gait cycles" in res.summary()


def test_dask_scheduler_matches_local(tmp_path):
    """8 trials on 2 workers (with 4 trials a serialisation failure of pandas 3 tables on the
    workers did not show)."""
    distributed = pytest.importorskip("distributed")
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    cohort = write_synthetic_cohort(tmp_path, n_trials=8, seed=5, video=False)
    local = analyze_cohort(cohort, None, stats=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        cfg = dataclasses.replace(AnalysisConfig(), scheduler=cluster.scheduler_address)
        remote = analyze_cohort(cohort, None, stats=False, config=cfg)
    pd.testing.assert_frame_equal(local.cycles, remote.cycles)
    pd.testing.assert_frame_equal(local.parameters, remote.parameters)


def test_unreachable_scheduler_is_a_clear_error(cohort):
    pytest.importorskip("distributed")
    cfg = dataclasses.replace(AnalysisConfig(), scheduler="tcp://127.0.0.1:9")
    with pytest.raises(GaitintError, match="cannot reach the dask scheduler"):
        analyze_cohort(cohort, None, stats=False, config=cfg)


def _interrupt_after_two_trials(cohort, out):
    """Run the cohort into ``out`` and stop it (as Ctrl-C would) when two trials are done."""
    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze_cohort(cohort, out, report=False, on_progress=interrupt)


def test_interrupted_run_leaves_no_results_and_resumes(cohort, tmp_path):
    out = tmp_path / "out"
    _interrupt_after_two_trials(cohort, out)
    assert not (out / "events.csv").exists() and not (out / "cycles.csv").exists()
    resumed = analyze_cohort(cohort, out, report=False)
    assert resumed.resumed_trials == 2
    assert not (out / _CACHE_DIR).exists()
    fresh = analyze_cohort(cohort, None, report=False)
    pd.testing.assert_frame_equal(resumed.cycles, fresh.cycles)
    pd.testing.assert_frame_equal(resumed.anova.reset_index(drop=True), fresh.anova.reset_index(drop=True))


def test_cleaned_files_hold_the_cleaned_poses_serial_and_in_processes(cohort, tmp_path):
    """``cleaned/`` gets every view's cleaned predictions (DLC layout) and flag table, written
    as the trials come in, the same from worker processes as from one process."""
    from napari_gaitint.core._csv import write_csv
    from napari_gaitint.core.clean import flags_table
    from napari_gaitint.core.io import pose_to_dlc_table, read_dlc_table

    table = load_manifest(cohort)
    first = table["trial"].iloc[0]
    views = analyze_trial(table[table["trial"] == first], AnalysisConfig())
    # each view's predictions' file name (DeepLabCut's <video>DLC_<scorer>), and its flags
    stem_of = {(t, v): Path(p).stem for t, v, p in zip(table["trial"], table["view"],
                                                         table["predictions"], strict=True)}
    expected = sorted(f"{s}{kind}" for s in stem_of.values()
                      for kind in (".h5", "_flags.csv", "_meta.pickle"))  # + DLC's metadata
    for n_jobs in (1, 2):
        out = tmp_path / f"jobs{n_jobs}"
        res = analyze_cohort(cohort, out, report=False, stats=False,
                                      config=dataclasses.replace(AnalysisConfig(), n_jobs=n_jobs))
        assert res.files["cleaned"] == out / "cleaned"
        assert sorted(p.name for p in (out / "cleaned").iterdir()) == expected
        for v in views:
            stem = out / "cleaned" / stem_of[(v.trial, v.view)]
            pd.testing.assert_frame_equal(read_dlc_table(f"{stem}.h5"), pose_to_dlc_table(v.cleaned))
            ref = write_csv(tmp_path / f"ref_{n_jobs}_{v.view}.csv", flags_table(v.clean))
            assert Path(f"{stem}_flags.csv").read_bytes() == ref.read_bytes()


def test_run_refuses_to_replace_a_cleaned_file_it_did_not_make(cohort, tmp_path):
    out = tmp_path / "out"
    last = load_manifest(cohort).iloc[-1]  # a later trial: earlier ones are written and cached first
    mine = out / "cleaned" / f"{Path(last['predictions']).stem}.h5"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my hand-corrected labels")
    for _ in range(2):  # the refusal leaves no cache that would let the next run replace it
        with pytest.raises(OutputExistsError, match=mine.name):
            analyze_cohort(cohort, out, report=False)
        assert mine.read_bytes() == b"my hand-corrected labels"
        assert not (out / _CACHE_DIR).exists()
        # and it takes back the files it had written for the trials before
        assert [p.name for p in (out / "cleaned").iterdir()] == [mine.name]
    analyze_cohort(cohort, out, report=False, overwrite=True)  # asked for: replaced
    assert mine.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"


def test_resumed_run_recomputes_a_trial_whose_cleaned_files_are_gone(cohort, tmp_path):
    out = tmp_path / "out"
    _interrupt_after_two_trials(cohort, out)
    written = sorted(p.name for p in (out / "cleaned").glob("*.h5"))
    assert len(written) == 4  # the two finished trials' views
    (out / "cleaned" / written[0]).unlink()
    resumed = analyze_cohort(cohort, out, report=False)
    assert resumed.resumed_trials == 1
    assert len(list((out / "cleaned").glob("*.h5"))) == 8


def test_resumed_run_replaces_its_own_files_and_no_one_elses(cohort, tmp_path):
    """The interrupted run lists the files it writes (before writing each): the run resuming
    it replaces those, even for a trial whose cache entry was lost (killed between writing
    the files and the entry), and stops at a file someone else put in ``cleaned/``."""
    from napari_gaitint.core.io import read_dlc_table

    out = tmp_path / "out"
    _interrupt_after_two_trials(cohort, out)
    written = {p.name: p.read_bytes() for p in (out / "cleaned").iterdir()}
    assert len(written) == 12  # two trials, two views, predictions, flags and DLC's metadata
    last = load_manifest(cohort).iloc[-1]
    mine = out / "cleaned" / f"{Path(last['predictions']).stem}_flags.csv"
    mine.write_bytes(b"my notes")
    with pytest.raises(OutputExistsError, match=mine.name):
        analyze_cohort(cohort, out, report=False)
    assert mine.read_bytes() == b"my notes"
    # it took back what both runs wrote there, and the cache: the folder is as the user left it
    assert [p.name for p in (out / "cleaned").iterdir()] == [mine.name]
    assert not (out / _CACHE_DIR).exists()
    mine.unlink()
    assert analyze_cohort(cohort, out, report=False).resumed_trials == 0

    again = tmp_path / "again"
    _interrupt_after_two_trials(cohort, again)
    for entry in (again / _CACHE_DIR).glob("*.pkl"):
        entry.unlink()  # as if killed before each entry was saved
    resumed = analyze_cohort(cohort, again, report=False)
    assert resumed.resumed_trials == 0  # every trial again, the first run's files replaced
    assert not (again / _CACHE_DIR).exists()
    for name, data in written.items():  # the same results as the first run's files
        path = again / "cleaned" / name
        if not name.endswith(".h5"):  # flags .csv, DeepLabCut's _meta.pickle
            assert path.read_bytes() == data
        else:
            first = tmp_path / name
            first.write_bytes(data)
            pd.testing.assert_frame_equal(read_dlc_table(path), read_dlc_table(first))


def test_resumed_run_keeps_result_tables_it_did_not_make(cohort, tmp_path, monkeypatch):
    """A results table in the folder of an interrupted run is replaced only if that run had
    begun writing its tables (killed then); otherwise the resumed run refuses to start and
    keeps its cache, so that it resumes once the file is moved."""
    out = tmp_path / "out"
    _interrupt_after_two_trials(cohort, out)
    (out / "events.csv").write_text("my events\n")
    with pytest.raises(OutputExistsError, match="events.csv"):
        analyze_cohort(cohort, out, report=False)
    assert (out / "events.csv").read_text() == "my events\n"
    (out / "events.csv").rename(tmp_path / "events.csv")
    real = _run_stats

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # after the tables are written

    monkeypatch.setattr(cohort_module, "_run_stats", killed)
    with pytest.raises(KeyboardInterrupt):
        analyze_cohort(cohort, out, report=False)
    assert (out / "events.csv").is_file() and (out / _CACHE_DIR).is_dir()
    monkeypatch.setattr(cohort_module, "_run_stats", real)
    resumed = analyze_cohort(cohort, out, report=False)
    assert resumed.resumed_trials == 4 and (out / "anova.csv").is_file()


def test_hand_edited_events_drive_the_cycles(cohort, tmp_path):
    """Events saved by the annotation widget (manifest column ``events``) replace detection."""
    from napari_gaitint.core.annotations import save_events

    table = load_manifest(cohort)
    detected = analyze_cohort(table, None, stats=False)
    row = table.iloc[0]
    ev = detected.events[(detected.events["trial"] == row["trial"]) & (detected.events["view"] == row["view"])].copy()
    hs = ev[ev.event == "heel_strike"].index
    assert len(hs) >= 3
    ev = ev.drop(index=hs[0])  # the user deleted the first heel strike
    ev["source"] = "manual"
    path = tmp_path / "edited events.csv"
    save_events(ev, path)
    table.loc[table.index[0], "events"] = str(path)
    edited = analyze_cohort(table, None, stats=False)
    def of_view(df):
        return df[(df["trial"] == row["trial"]) & (df["view"] == row["view"])]

    assert of_view(edited.cycles_all)["cycle"].nunique() == of_view(detected.cycles_all)["cycle"].nunique() - 1
    got = of_view(edited.events)
    assert (got["source"] == "manual").all()
    assert_frames = np.sort(got["frame"].to_numpy())
    np.testing.assert_allclose(assert_frames, np.sort(ev["frame"].to_numpy()))


def test_trial_missing_one_view_is_dropped_and_reported(cohort):
    table = load_manifest(cohort)
    lone = table.iloc[0]
    table = table[~((table["trial"] == lone["trial"]) & (table["view"] != lone["view"]))]
    with pytest.warns(UserWarning, match="dropped 1 trial"):
        res = analyze_cohort(table, None, report=False)
    assert (res.anova["n"] == 3).all()
    stats_rows = res.problems[res.problems["problem"].str.startswith("statistics")]
    assert set(stats_rows["trial"]) == {lone["trial"]}
    assert stats_rows["problem"].str.contains("no data in view").all()


def test_events_saved_by_the_annotator_are_found_next_to_the_predictions(tmp_path):
    from napari_gaitint.core.annotations import save_events
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    manifest = write_synthetic_cohort(tmp_path / "c", n_trials=2, seed=3, video=False)
    detected = analyze_cohort(manifest, None, stats=False)
    ev = detected.events[(detected.events.trial == "T01") & (detected.events.view == "C1")].copy()
    ev = ev.drop(index=ev[ev.event == "heel_strike"].index[0])
    ev["source"] = "manual"
    save_events(ev, manifest.parent / "T01_events.csv")
    table = load_manifest(manifest)
    assert table["events_auto"].sum() == 2  # both views of T01
    edited = analyze_cohort(table, None, stats=False)
    got = edited.events
    assert (got[(got.trial == "T01") & (got.view == "C1")]["source"] == "manual").all()
    # the view the file does not cover is detected as before
    c3 = got[(got.trial == "T01") & (got.view == "C3")]
    pd.testing.assert_frame_equal(
        c3.drop(columns="source").reset_index(drop=True),
        detected.events[(detected.events.trial == "T01") & (detected.events.view == "C3")].reset_index(drop=True),
        check_dtype=False,
    )


def test_rolled_cameras_are_levelled_before_the_views_are_compared(tmp_path):
    """Both cameras rolled the same way on screen (C1 by 2.5 degrees, C3 by 2): in gait
    coordinates their floors tilt opposite ways, which shows as a difference between the
    views. Parameters report each view's floor tilt; with levelling (the default) the views
    agree as well as with level cameras (same walks), without it they do not."""
    from napari_gaitint.core.agreement import compute_agreement
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    level = write_synthetic_cohort(tmp_path / "level", n_trials=4, seed=8, video=False)
    rolled = write_synthetic_cohort(tmp_path / "rolled", n_trials=4, seed=8, video=False,
                                    roll_deg={"C1": 2.5, "C3": 2.0})
    res = {
        "level": analyze_cohort(level, None, stats=False),
        "levelled": analyze_cohort(rolled, None, stats=False),
        "not levelled": analyze_cohort(
            rolled, None, stats=False, config=AnalysisConfig(level_floor=False)),
    }
    tilt = res["levelled"].parameters.groupby("view")["floor_tilt_deg"]
    assert np.allclose(tilt.mean(), [-2.5, 2.0], atol=0.3) and tilt.std().max() < 0.3
    assert res["level"].parameters["floor_tilt_deg"].abs().max() < 0.5
    assert res["not levelled"].parameters["floor_tilt_deg"].isna().all()
    parts = [("heel", "y"), ("knee", "x"), ("ankle", "x"), ("hip", "x")]
    rmse = {k: compute_agreement(r.cycles).set_index(["bodypart", "axis"])["rmse"].loc[parts]
            for k, r in res.items()}
    assert (rmse["levelled"] - rmse["level"]).max() < 1.5, rmse
    assert (rmse["not levelled"] - rmse["level"]).min() > 3.0, rmse


def test_cleaned_files_of_predictions_with_the_same_name_do_not_collide(cohort, tmp_path):
    """Two trials whose predictions have one file name (in different folders): each cleaned
    file goes into its own <trial>_<view>/ folder; none replaces another."""
    import shutil

    from napari_gaitint.core.io import read_dlc_table

    table = load_manifest(cohort)
    rows = []
    for trial, group in table.groupby("trial"):
        folder = tmp_path / "subjects" / trial
        folder.mkdir(parents=True)
        for _, row in group.iterrows():
            dst = folder / f"{row['view']}DLC_resnet50_x.h5"  # the same names in every folder
            shutil.copy(row["predictions"], dst)
            rows.append({**row.to_dict(), "predictions": str(dst)})
    manifest = tmp_path / "trials.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    out = tmp_path / "out"
    analyze_cohort(manifest, out, report=False, stats=False)
    written = sorted(p.relative_to(out / "cleaned").as_posix() for p in (out / "cleaned").rglob("*.h5"))
    assert written == sorted(f"{r['trial']}_{r['view']}/{r['view']}DLC_resnet50_x.h5" for r in rows)
    first, second = (out / "cleaned" / written[0]), (out / "cleaned" / written[2])  # T01_C1, T02_C1
    assert not read_dlc_table(first).equals(read_dlc_table(second))


def test_events_are_timed_before_the_low_pass_both_legs_together(cohort):
    """gaitint analyze times the events on each view's cleaned pose before its 6 Hz filter
    (the filter moves heel strikes late), in the view's gait coordinates, with the two legs
    checked against each other; cycles use the filtered pose. The results keep no second pose."""
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.core.config import likelihood_cutoff
    from napari_gaitint.core.orient import orient_like
    from napari_gaitint.core.phase import detect_events_both_legs

    table = load_manifest(cohort)
    rows = table[table["trial"] == table["trial"].iloc[0]]
    views = analyze_trial(rows, AnalysisConfig())
    poses = [v.raw for v in views]
    cleaned = [clean_pose(poses[i], other=poses[1 - i]) for i in (0, 1)]
    unfiltered = [orient_like(c.unfiltered, v.oriented) for c, v in zip(cleaned, views, strict=True)]
    want = detect_events_both_legs(tuple(unfiltered), sides=tuple(v.side for v in views),
                                   lag_frames=0, flags=(cleaned[0].flags, cleaned[1].flags),
                                   min_likelihood=likelihood_cutoff(cleaned=True))  # stated, not read
    for v, w in zip(views, want, strict=True):
        pd.testing.assert_frame_equal(v.events, w)
        assert v.events.attrs["leg_phase"]["checked"]
        assert v.clean.unfiltered is None and v.cleaned is v.clean.pose


def test_manifest_scale_gives_metres(cohort, tmp_path):
    """px_per_m per view in the manifest: stride, step and speed in metres with that view's
    scale; with cycles_units = "m" the x and y curves are in metres (angles stay degrees);
    a view without a scale is then a problem named for it."""
    table = load_manifest(cohort).iloc[:4].copy()
    scales = {"C1": 500.0, "C3": 400.0}
    table["px_per_m"] = table["view"].map(scales)
    px = analyze_cohort(load_manifest(cohort).iloc[:4], None, stats=False)
    m = analyze_cohort(table, None, stats=False, config=AnalysisConfig(cycles_units="m"))
    assert "px_per_m" not in px.parameters.columns
    scale = m.parameters["view"].map(scales)
    np.testing.assert_allclose(m.parameters["px_per_m"], scale)
    np.testing.assert_allclose(m.parameters["stride_length_m"], px.parameters["stride_length_px"] / scale)
    np.testing.assert_allclose(m.parameters["speed_m_per_s"], px.parameters["speed_px_per_s"] / scale)
    np.testing.assert_allclose(m.parameters["step_length_m"], px.parameters["step_length_px"] / scale)
    pos = m.cycles_all["axis"].isin(["x", "y"]).to_numpy()
    np.testing.assert_allclose(m.cycles_all["value"].to_numpy()[pos],
                               (px.cycles_all["value"] / px.cycles_all["view"].map(scales).astype(float)).to_numpy()[pos])
    np.testing.assert_array_equal(m.cycles_all["value"].to_numpy()[~pos], px.cycles_all["value"].to_numpy()[~pos])
    assert set(zip(m.cycles["axis"], m.cycles["unit"], strict=True)) == {("x", "m"), ("y", "m"), ("angle", "deg")}
    table.loc[table["view"] == "C3", "px_per_m"] = np.nan
    half = analyze_cohort(table, None, stats=False, config=AnalysisConfig(cycles_units="m"))
    assert half.failed
    assert half.problems["problem"].str.contains("view C3: cycles_units = 'm' needs its scale").all()


def test_config_checks_units_and_scale(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('cycles_units = "mm"\n')
    with pytest.raises(InputFileError, match=r"cycles_units must be one of \['px', 'm'\], not 'mm'"):
        load_config(path)
    path.write_text("px_per_m = -3.0\n")
    with pytest.raises(InputFileError, match="px_per_m must be a positive number"):
        load_config(path)


def test_trials_given_as_a_table_with_subjects_on_some_only_are_refused_before_any_work(cohort, monkeypatch):
    """napari passes the loaded trials as a table (not a file): it is checked as a file is."""
    table = load_manifest(cohort).iloc[:4].copy()
    table["subject"] = [np.nan, np.nan, "P1", "P1"]
    monkeypatch.setattr(cohort_module, "analyze_trial", lambda *a, **k: pytest.fail("analysed"))
    with pytest.raises(InputFileError, match="column subject: empty while other rows name a subject"):
        analyze_cohort(table, None, stats=False)
