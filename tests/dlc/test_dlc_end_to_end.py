"""From videos to statistics with a REAL DeepLabCut network (marked ``dlc``).

A tiny DeepLabCut 3 (PyTorch) project is built from the synthetic walker's rendered videos:
labels from the generator's ground truth go in through :func:`export_labels_to_project`, a
ResNet-18 is trained from random initialisation on the CPU for a few minutes, and then

    gaitint dlc analyze-folder CONFIG VIDEOS --mirror C3   (two held-out trial pairs)
    gaitint dlc analyze CONFIG T01_C1.mp4 T01_C3.mp4 ...   (the single-pair form)
    gaitint analyze trials.csv --out results

run on held-out trials. The tests check the prediction files' layout, that the mirrored view's
predictions land on the ORIGINAL video (x -> width - 1 - x, exactly), the keypoint error
against the truth (far better than a no-information guess) and that gait events are found.

Run with ``bash scripts/dlc_test.sh`` (makes the DeepLabCut environment). Knobs (environment):
``GAITINT_DLC_EPOCHS`` (default 12), ``GAITINT_DLC_REPORT`` (a JSON file for the measured
numbers). Without DeepLabCut the module is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tables
from numpy.testing import assert_array_equal

pytestmark = pytest.mark.dlc

if importlib.util.find_spec("deeplabcut") is None:  # cheap check; no 8-s import at collection
    pytest.skip("DeepLabCut not installed (pip install 'napari-gaitint[dlc]')", allow_module_level=True)

from napari_gaitint import dlc  # noqa: E402
from napari_gaitint.cli import main  # noqa: E402
from napari_gaitint.core.config import ROLES  # noqa: E402
from napari_gaitint.core.corrections import PoseEditor, save_refined  # noqa: E402
from napari_gaitint.core.io import read_dlc_table  # noqa: E402
from napari_gaitint.core.pose import VIEW_SIDES  # noqa: E402
from napari_gaitint.workflow.manifest import _PAIR_COLUMNS, MIRROR_SUFFIX  # noqa: E402

FRAME_SIZE = (192, 108)  # small frames: training on 2 CPU cores in minutes
EPOCHS = int(os.environ.get("GAITINT_DLC_EPOCHS", "12"))
BATCH = 8
SAVE_EVERY = int(os.environ.get("GAITINT_DLC_SAVE_EVERY", "0"))  # >0: keep intermediate snapshots
TRAIN_SEEDS = (101, 102, 103)
TEST_SEEDS = {"T01": 7, "T02": 8}
LABEL_STEP = 6  # every 6th frame of each training video (~70 labelled frames)


def _inside(xy, size, margin=2.0):
    w, h = size
    return (xy[..., 0] >= margin) & (xy[..., 0] <= w - 1 - margin) & (xy[..., 1] >= margin) & (
        xy[..., 1] <= h - 1 - margin)


def _render_view(view, path):
    from napari_gaitint.synthetic.render import render_video

    return render_video(view, path)


def _patch_pytorch_config(path: Path, *, epochs: int) -> dict:
    """Small, fast model: ResNet-18 backbone, no crop sampling, milder augmentation."""
    import yaml

    pc = yaml.safe_load(path.read_text())
    pc["model"]["backbone"]["model_name"] = "resnet18"
    pc["model"]["backbone_output_channels"] = 512
    for head in pc["model"]["heads"].values():
        for key in ("heatmap_config", "locref_config"):
            if key in head:
                head[key]["channels"][0] = 512
    train = pc["data"]["train"]
    train.pop("crop_sampling", None)  # images smaller than the 448-px crops
    train["affine"] = {"p": 0.5, "rotation": 10, "scaling": [0.85, 1.15], "translation": 0}
    train["motion_blur"] = False
    pc["train_settings"]["epochs"] = epochs
    pc["train_settings"]["batch_size"] = BATCH
    pc["runner"]["snapshots"]["save_epochs"] = SAVE_EVERY or epochs
    pc["runner"]["snapshots"]["max_snapshots"] = 1 if not SAVE_EVERY else 100
    pc["runner"]["eval_interval"] = epochs
    pc["runner"]["optimizer"] = {"type": "AdamW", "params": {"lr": 1e-3}}
    pc["runner"]["scheduler"] = {"type": "LRListScheduler",
                                 "params": {"lr_list": [[1e-4]], "milestones": [int(epochs * 0.8)]}}
    path.write_text(yaml.safe_dump(pc))
    return pc


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """Build, train and run everything once; the tests below check the outputs."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no model hub here: fail fast, never hang
    from napari_gaitint.synthetic.trial import generate_trial

    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    root = tmp_path_factory.mktemp("dlc_e2e")
    raw = root / "raw"
    raw.mkdir()
    width, height = FRAME_SIZE

    # 1. training videos: C1 as filmed, C3 mirrored (so both walk the same image direction)
    t = time.perf_counter()
    train_videos, train_truth = [], {}
    for i, seed in enumerate(TRAIN_SEEDS):
        trial = generate_trial(seed, trial=f"train{i + 1}", frame_size=FRAME_SIZE)
        c1 = _render_view(trial.views["C1"], raw / f"train{i + 1}_C1.mp4")
        c3 = _render_view(trial.views["C3"], raw / f"train{i + 1}_C3.mp4")
        c3m = dlc.mirror_video(c3, dlc.mirrored_video_path(c3))
        train_videos += [c1, c3m]
        train_truth[c1.stem] = trial.views["C1"].true_pose.select(ROLES)
        train_truth[c3m.stem] = dlc.mirror_pose_x(trial.views["C3"].true_pose.select(ROLES), width)
    # held-out trial pairs, as a user's folder of videos
    videos = root / "videos"
    videos.mkdir()
    test_truth = {}
    for name, seed in TEST_SEEDS.items():
        trial = generate_trial(seed, trial=name, frame_size=FRAME_SIZE)
        for view in ("C1", "C3"):
            _render_view(trial.views[view], videos / f"{name}_{view}.mp4")
            test_truth[(name, view)] = trial.views[view]
    timings["render_s"] = time.perf_counter() - t

    # 2. DLC project + labels from the ground truth (through our own export)
    t = time.perf_counter()
    import deeplabcut
    from deeplabcut.utils import auxiliaryfunctions

    timings["import_deeplabcut_s"] = time.perf_counter() - t
    t = time.perf_counter()
    config = Path(deeplabcut.create_new_project("gait", "truth", [str(v) for v in train_videos],
                                                working_directory=str(root), copy_videos=True))
    cfg = auxiliaryfunctions.read_config(str(config))
    cfg["bodyparts"] = list(ROLES)
    cfg["skeleton"] = [["neck", "hip"], ["hip", "knee"], ["knee", "ankle"], ["ankle", "heel"],
                       ["heel", "toe"]]
    auxiliaryfunctions.write_config(str(config), cfg)
    n_labelled = 0
    for stem, pose in train_truth.items():
        ok = _inside(pose.xy, FRAME_SIZE).all(axis=1)
        frames = np.flatnonzero(ok)[::LABEL_STEP]
        res = dlc.export_labels_to_project(config, stem, pose, frames=frames)
        assert res.n_new == len(frames) and res.n_total == len(frames)
        n_labelled += len(frames)
    deeplabcut.create_training_dataset(str(config), net_type="resnet_50", userfeedback=False)
    model_dir = next(config.parent.glob("dlc-models-pytorch/iteration-0/*shuffle1"))
    pc = _patch_pytorch_config(model_dir / "train" / "pytorch_config.yaml", epochs=EPOCHS)

    # random initialisation (no ImageNet weights download on this machine)
    import torch
    from deeplabcut.pose_estimation_pytorch.models import PoseModel

    torch.manual_seed(0)
    init = root / "random-init.pt"
    torch.save({"model": PoseModel.build(pc["model"], pretrained_backbone=False).state_dict()}, init)
    timings["project_s"] = time.perf_counter() - t

    # 3. train
    t, cpu = time.perf_counter(), time.process_time()
    deeplabcut.train_network(str(config), shuffle=1, device="cpu", snapshot_path=str(init),
                             epochs=EPOCHS, batch_size=BATCH, save_epochs=SAVE_EVERY or EPOCHS,
                             max_snapshots_to_keep=None if SAVE_EVERY else 1)
    timings["train_s"] = time.perf_counter() - t
    timings["train_cpu_s"] = time.process_time() - cpu  # both cores: ~2x the wall time when idle

    # 4. gaitint dlc analyze-folder (both trial pairs, C3 mirrored), then the single-pair form
    out = root / "predictions"
    t = time.perf_counter()
    assert main(["dlc", "analyze-folder", str(config), str(videos), "--mirror", "C3",
                 "--out", str(out), "--device", "cpu"]) == 0
    timings["dlc_analyze_folder_s"] = time.perf_counter() - t
    single = root / "single"
    t = time.perf_counter()
    assert main(["dlc", "analyze", str(config), str(videos / "T01_C1.mp4"), str(videos / "T01_C3.mp4"),
                 "--mirror", "C3", "--snapshot", "-1", "--out", str(single), "--device", "cpu"]) == 0
    timings["dlc_analyze_pair_s"] = time.perf_counter() - t

    # 5. gaitint analyze on the manifest DLC wrote
    results = root / "results"
    t = time.perf_counter()
    status = main(["analyze", str(out / "trials.csv"), "--out", str(results), "--no-report"])
    timings["gaitint_analyze_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all
    return {
        "root": root, "config": config, "out": out, "single": single, "results": results,
        "analyze_status": status, "timings": timings, "test_truth": test_truth,
        "n_labelled": n_labelled, "videos": videos,
    }


@pytest.fixture(scope="module")
def report(e2e):
    """Measured numbers, printed at the end and written to $GAITINT_DLC_REPORT if set."""
    data = {"epochs": EPOCHS, "frame_size": FRAME_SIZE, "n_labelled_frames": e2e["n_labelled"],
            "timings": {k: round(v, 1) for k, v in e2e["timings"].items()}}
    yield data
    text = json.dumps(data, indent=2, default=float)
    print("\nDLC end-to-end report:\n" + text)
    target = os.environ.get("GAITINT_DLC_REPORT")
    if target:
        Path(target).write_text(text)


def _manifest(e2e, which="out") -> pd.DataFrame:
    return pd.read_csv(e2e[which] / "trials.csv", dtype={"trial": str, "view": str})


def test_manifest_rows_and_prediction_layout(e2e):
    man = _manifest(e2e)
    assert sorted(zip(man.trial, man.view, strict=True)) == [
        ("T01", "C1"), ("T01", "C3"), ("T02", "C1"), ("T02", "C3")]
    assert list(man.columns[:9]) == list(_PAIR_COLUMNS)
    for _, row in man.iterrows():
        assert row["side"] == VIEW_SIDES[row["view"]]
        assert str(row["mirrored"]) == str(row["view"] == "C3")
        assert (row["width"], row["height"]) == FRAME_SIZE and row["fps"] == pytest.approx(25.0)
        video = e2e["out"] / row["video"]
        assert video.resolve() == (e2e["videos"] / f"{row['trial']}_{row['view']}.mp4").resolve()
        df = read_dlc_table(e2e["out"] / row["predictions"])
        assert df.columns.names == ["scorer", "bodyparts", "coords"]
        assert list(dict.fromkeys(df.columns.get_level_values("bodyparts"))) == list(ROLES)
        assert list(dict.fromkeys(df.columns.get_level_values("coords"))) == ["x", "y", "likelihood"]
        assert len(df) == e2e["test_truth"][(row["trial"], row["view"])].n_frames
        assert df.index.tolist() == list(range(len(df)))
        lh = df.xs("likelihood", axis=1, level="coords").to_numpy()
        assert np.all((lh >= 0) & (lh <= 1))
        with tables.open_file(e2e["out"] / row["predictions"], mode="r") as h5:  # as DLC's own
            assert "/df_with_missing/_i_table/index" in h5
    single = _manifest(e2e, "single")
    assert sorted(single.view) == ["C1", "C3"] and set(single.trial) == {"T01"}


def test_mirrored_view_maps_back_exactly(e2e):
    width = FRAME_SIZE[0]
    raw_dir = e2e["out"] / "dlc-raw"
    for trial in TEST_SEEDS:
        raw = next(raw_dir.glob(f"{trial}_C3{MIRROR_SUFFIX}DLC*.h5"))
        mapped = next(e2e["out"].glob(f"{trial}_C3DLC*.h5"))
        a, b = read_dlc_table(raw), read_dlc_table(mapped)
        ax, bx = a.xs("x", axis=1, level="coords"), b.xs("x", axis=1, level="coords")
        # DLC writes float32; ours is float64 so the map is exact (compare in float64)
        assert_array_equal(bx.to_numpy(dtype=float), (width - 1.0) - ax.to_numpy(dtype=float))
        for c in ("y", "likelihood"):
            assert_array_equal(a.xs(c, axis=1, level="coords").to_numpy(), b.xs(c, axis=1, level="coords").to_numpy())
        # the C1 view was analysed as filmed: DLC's file and ours agree
        raw1 = next(raw_dir.glob(f"{trial}_C1DLC*.h5"))
        pd.testing.assert_frame_equal(read_dlc_table(raw1), read_dlc_table(next(e2e["out"].glob(f"{trial}_C1DLC*.h5"))))


def _errors(e2e, trial, view, *, unmapped=False):
    """Per-point error (px) vs truth where the true point is inside the frame."""
    man = _manifest(e2e).set_index(["trial", "view"])
    path = e2e["out"] / man.loc[(trial, view), "predictions"]
    if unmapped:
        path = next((e2e["out"] / "dlc-raw").glob(f"{trial}_{view}{MIRROR_SUFFIX}DLC*.h5"))
    pred = read_dlc_table(path).to_numpy(dtype=float).reshape(-1, len(ROLES), 3)[..., :2]
    sv = e2e["test_truth"][(trial, view)]
    truth = sv.true_pose.select(ROLES).xy
    ok = _inside(truth, FRAME_SIZE)
    err = np.linalg.norm(pred - truth, axis=-1)
    # no-information guess: each body part at its mean true position over the trial
    chance = np.linalg.norm(truth - np.nanmean(np.where(ok[..., None], truth, np.nan), axis=0), axis=-1)
    return err[ok], chance[ok], err, ok


def test_keypoint_error_far_better_than_chance(e2e, report):
    rows = {}
    for trial in TEST_SEEDS:
        for view in ("C1", "C3"):
            err, chance, full, ok = _errors(e2e, trial, view)
            per_bp = {bp: round(float(np.median(full[ok[:, j], j])), 2) for j, bp in enumerate(ROLES)}
            rows[f"{trial}_{view}"] = {
                "median_px": round(float(np.median(err)), 2),
                "p90_px": round(float(np.percentile(err, 90)), 2),
                "chance_median_px": round(float(np.median(chance)), 2),
                "per_bodypart_median_px": per_bp,
            }
    report["keypoint_error"] = rows
    for key, r in rows.items():
        assert r["median_px"] < 0.25 * r["chance_median_px"], (key, r)
        assert r["median_px"] < 6.0, (key, r)


def test_mirroring_is_what_makes_the_opposite_view_right(e2e, report):
    """Without the map back, the mirrored view's predictions are far from the truth."""
    out = {}
    for trial in TEST_SEEDS:
        mapped, _, _, _ = _errors(e2e, trial, "C3")
        unmapped, _, _, _ = _errors(e2e, trial, "C3", unmapped=True)
        out[trial] = (float(np.median(mapped)), float(np.median(unmapped)))
        assert np.median(mapped) < 0.2 * np.median(unmapped)
    report["c3_median_px_mapped_vs_unmapped"] = out


def test_gaitint_analyze_finds_events(e2e, report):
    assert e2e["analyze_status"] == 0
    events = pd.read_csv(e2e["results"] / "events.csv", dtype={"trial": str, "view": str})
    counts = events.groupby(["trial", "view", "event"]).size()
    report["events_found"] = {f"{t}_{v}_{e}": int(n) for (t, v, e), n in counts.items()}
    for trial in TEST_SEEDS:
        for view in ("C1", "C3"):
            sub = events[(events.trial == trial) & (events.view == view)]
            assert (sub.event == "heel_strike").sum() >= 1, (trial, view)
            assert (sub.event == "toe_off").sum() >= 1, (trial, view)
            # each found heel strike lies near a true one (within 3 frames = 0.12 s)
            true = e2e["test_truth"][(trial, view)].events
            true_hs = true.loc[true.event == "heel_strike", "frame"].to_numpy(float)
            found = sub.loc[sub.event == "heel_strike", "frame"].to_numpy(float)
            dist = np.abs(found[:, None] - true_hs[None, :]).min(axis=1)
            report.setdefault("heel_strike_abs_error_frames", {})[f"{trial}_{view}"] = [
                round(float(d), 2) for d in dist]
            assert np.median(dist) <= 3.0, (trial, view, dist)
    cycles = pd.read_csv(e2e["results"] / "cycles.csv", dtype={"trial": str, "view": str})
    assert set(cycles.trial) == set(TEST_SEEDS)


def test_run_deeplabcut_dock_loads_the_network_predictions(e2e, report, make_napari_viewer, qtbot,
                                                           tmp_path):
    """The napari dock runs the same analysis on the trial pair shown in the viewer."""
    from napari_gaitint._napari._dlc import RunDLCWidget
    from napari_gaitint._napari._load import LoadTrialPairWidget
    from napari_gaitint.workflow.manifest import load_manifest

    viewer = make_napari_viewer()
    loader = LoadTrialPairWidget(viewer)
    loader.manifest.value = str(e2e["single"] / "trials.csv")  # the CLI's single-pair output
    loader._on_manifest()
    loader._on_load_row()
    shown = {lay.name: lay for lay in viewer.layers}
    assert {"T01 C1 video", "T01 C3 video", "T01 C1 keypoints", "T01 C3 keypoints"} <= set(shown)

    dock = RunDLCWidget(viewer)
    assert Path(dock.video_c1.value).name == "T01_C1.mp4"  # taken from the viewer
    assert Path(dock.video_c3.value).name == "T01_C3.mp4"
    dock.config.value = str(e2e["config"])
    dock.snapshot.value = "-1"
    dock.out_dir.value = str(tmp_path / "dock")
    t = time.perf_counter()
    assert dock.start() is not None, dock.status.value
    qtbot.waitUntil(lambda: dock.run.enabled, timeout=900_000)  # enabled again when finished
    report["timings"]["napari_dock_analyze_s"] = round(time.perf_counter() - t, 1)
    assert dock.result is not None, dock.status.value
    assert dock.steps[0] == "importing DeepLabCut" and dock.steps[-1].startswith("wrote")
    assert dock.result.mirrored == "C3"
    rows = load_manifest(dock.result.manifest)
    assert sorted(rows["view"]) == ["C1", "C3"] and rows["mirrored"].astype(str).tolist() == ["False", "True"]

    new = [lay for lay in viewer.layers if lay.name not in shown]
    assert sorted(lay._type_string for lay in new) == ["points", "points", "tracks", "tracks"]
    for view in ("C1", "C3"):
        (pts,) = [lay for lay in new if lay._type_string == "points" and f" {view} " in lay.name]
        cli = shown[f"T01 {view} keypoints"]
        # placed on the video already shown, not a second copy of it
        np.testing.assert_allclose(pts.affine.affine_matrix, shown[f"T01 {view} video"].affine.affine_matrix)
        # same network and snapshot as `gaitint dlc analyze`: the same keypoints for the view
        # analysed as filmed; the mirrored view goes through a new lossy mirrored copy
        # (x264 at crf 17, whose output can differ slightly between runs): nearly the same
        assert_array_equal(pts.features["label"], cli.features["label"])
        if view == "C1":
            np.testing.assert_allclose(pts.data, cli.data, atol=1e-3)
        else:
            assert_array_equal(pts.data[:, 0], cli.data[:, 0])
            assert np.median(np.abs(pts.data[:, 1:] - cli.data[:, 1:])) < 0.25
        # and they are in the ORIGINAL video's coordinates (the mirrored view mapped back)
        sv = e2e["test_truth"][("T01", view)]
        truth = sv.true_pose.select(ROLES).xy
        frames = pts.data[:, 0].astype(int)
        bp = np.array([ROLES.index(b) for b in pts.features["label"]])
        err = np.linalg.norm(pts.data[:, [2, 1]] - truth[frames, bp], axis=1)
        ok = _inside(truth[frames, bp], FRAME_SIZE)
        assert np.median(err[ok]) < 6.0, (view, np.median(err[ok]))


def test_deeplabcut_tools_take_our_outputs_only_when_told(e2e, report, capsys):
    """DeepLabCut's own tools on what we write (docs/deeplabcut.md): `gaitint clean`'s
    cleaned/<video>DLC_<scorer>.h5, Label QA's refined/<same name> and `gaitint analyze`'s
    cleaned/. DLC finds them when given the folder (destfolder) and, looking beside the
    video as by default, takes the original alone (no "2 possible data files")."""
    import shutil

    import deeplabcut
    from deeplabcut.utils import auxiliaryfunctions

    from napari_gaitint.core.io import load_pose

    config = str(e2e["config"])
    work = e2e["root"] / "dlc-tools"
    work.mkdir()
    # a folder as DeepLabCut leaves it: the video and its predictions side by side
    video = work / "T01_C1.mp4"
    shutil.copy(e2e["videos"] / video.name, video)
    original = next(e2e["out"].glob("T01_C1DLC*.h5"))
    pred = work / original.name
    shutil.copy(original, pred)
    scorer = pred.stem[len(video.stem):]
    outcome: dict[str, str] = {}

    assert main(["clean", str(pred), "--fps", "25"]) == 0
    cleaned = work / "cleaned" / pred.name
    editor = PoseEditor(load_pose(pred))
    editor.move(5, "knee", x=50.0, y=40.0)
    refined = save_refined(editor)[0]
    assert refined == work / "refined" / pred.name
    capsys.readouterr()

    # load_analyzed_data, the lookup behind DLC's tools: beside the video only the original
    _, path, found_scorer, _ = auxiliaryfunctions.load_analyzed_data(str(work), video.stem, scorer)
    assert Path(path) == pred and found_scorer == scorer
    assert "possible data files" not in capsys.readouterr().out
    for folder, ours in ((work / "cleaned", cleaned), (work / "refined", refined)):
        _, path, _, _ = auxiliaryfunctions.load_analyzed_data(str(folder), video.stem, scorer)
        assert Path(path) == ours
    outcome["load_analyzed_data"] = "original beside the video; cleaned/ and refined/ when given"

    # filterpredictions reads refined/ and writes <name>_filtered.h5 there
    deeplabcut.filterpredictions(config, str(video), destfolder=str(work / "refined"))
    filtered = work / "refined" / f"{pred.stem}_filtered.h5"
    assert filtered.is_file()
    np.testing.assert_array_equal(read_dlc_table(filtered).columns, read_dlc_table(refined).columns)
    outcome["filterpredictions"] = "refined/<name>_filtered.h5 (+ .csv)"

    # create_labeled_video draws the cleaned predictions
    deeplabcut.create_labeled_video(config, [str(video)], destfolder=str(work / "cleaned"),
                                    max_workers=1)
    labeled = sorted((work / "cleaned").glob(f"{video.stem}*_labeled.mp4"))
    assert labeled and labeled[0].stat().st_size > 0
    outcome["create_labeled_video"] = labeled[0].name

    # analyze_videos_converth5_to_csv converts the .h5 of videos in a folder: pointed at the
    # cleaned/ folder of `gaitint analyze` with the video linked in
    analyzed = e2e["results"] / "cleaned"
    h5 = next(analyzed.glob("T01_C1DLC*.h5"))
    (analyzed / video.name).symlink_to(video)
    deeplabcut.analyze_videos_converth5_to_csv(str(analyzed), ".mp4")
    csv = h5.with_suffix(".csv")
    assert csv.is_file()
    pd.testing.assert_frame_equal(read_dlc_table(csv), read_dlc_table(h5), check_dtype=False)
    outcome["analyze_videos_converth5_to_csv"] = f"cleaned/{csv.name}"

    # plot_trajectories draws the cleaned predictions
    deeplabcut.plot_trajectories(config, [str(video)], destfolder=str(work / "cleaned"))
    plots = sorted(p.name for p in (work / "cleaned" / "plot-poses" / video.stem).glob("*.png"))
    assert "trajectory.png" in plots
    outcome["plot_trajectories"] = f"cleaned/plot-poses/{video.stem}/: {', '.join(plots)}"

    # converting a video folder's predictions touches the original only (not ours below it)
    deeplabcut.analyze_videos_converth5_to_csv(str(work), ".mp4")
    assert pred.with_suffix(".csv").is_file() and not cleaned.with_suffix(".csv").exists()

    # extract_outlier_frames takes the refined predictions and adds frames to the project
    deeplabcut.extract_outlier_frames(config, [str(video)], destfolder=str(work / "refined"),
                                      automatic=True, outlieralgorithm="jump", epsilon=1)
    machine = e2e["config"].parent / "labeled-data" / video.stem / "machinelabels-iter0.h5"
    assert machine.is_file()
    outcome["extract_outlier_frames"] = f"labeled-data/{video.stem}/{machine.name}"
    report["deeplabcut_tools"] = outcome
