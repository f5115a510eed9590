"""Labels we export are read by DeepLabCut itself (marked ``dlc``; needs the [dlc] extra).

For a single- and a multi-animal project made by ``deeplabcut.create_new_project``, labels
exported by :func:`export_labels_to_project` go through ``deeplabcut.create_training_dataset``,
which reads every ``CollectedData`` file of the project: the training set it writes must hold
our coordinates. No training here (seconds).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

pytestmark = pytest.mark.dlc

if importlib.util.find_spec("deeplabcut") is None:
    pytest.skip("DeepLabCut not installed (pip install 'napari-gaitint[dlc]')", allow_module_level=True)

from napari_gaitint import dlc  # noqa: E402
from napari_gaitint.core.pose import Pose  # noqa: E402

BPS = ["neck", "hip", "knee", "ankle", "heel", "toe"]
W, H, N = 96, 64, 20


def _video(path: Path) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(N):
            img = np.full((H, W, 3), 40 + 5 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _labels(frames, seed):
    rng = np.random.default_rng(seed)
    values = np.full((N, len(BPS), 3), np.nan)
    values[frames, :, :2] = rng.uniform(5, 50, (len(frames), len(BPS), 2))
    return Pose(values, tuple(BPS), has_likelihood=False)


def _project(tmp_path, *, multianimal: bool):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import deeplabcut
    from deeplabcut.utils import auxiliaryfunctions

    video = _video(tmp_path / "T01_C1.mp4")
    config = Path(deeplabcut.create_new_project("gait", "alice", [str(video)], working_directory=str(tmp_path),
                                                copy_videos=True, multianimal=multianimal))
    cfg = auxiliaryfunctions.read_config(str(config))
    if multianimal:
        cfg["multianimalbodyparts"] = BPS
        cfg["individuals"] = ["subject1", "subject2"]
        cfg["uniquebodyparts"] = []
    else:
        cfg["bodyparts"] = BPS
    auxiliaryfunctions.write_config(str(config), cfg)
    return deeplabcut, config


def _training_labels(config: Path) -> pd.DataFrame:
    (h5,) = config.parent.glob("training-datasets/iteration-0/*/CollectedData_alice.h5")
    return pd.read_hdf(h5)


def test_deeplabcut_reads_single_animal_labels_we_export(tmp_path):
    deeplabcut, config = _project(tmp_path, multianimal=False)
    pose = _labels([2, 7, 11], seed=1)
    theirs = {b: b for b in BPS}
    dlc.export_labels_to_project(config, "T01_C1", pose, bodyparts=theirs)
    # a video the project does not list yet: registered in config.yaml by us, without DLC
    new_video = _video(tmp_path / "T02_C1.mp4")
    other = _labels([4], seed=4)
    assert dlc.export_labels_to_project(config, "T02_C1", other, video=new_video).video_registered
    deeplabcut.create_training_dataset(str(config), userfeedback=False)
    table = _training_labels(config)
    rows = [i for i in table.index if "T01_C1" in str(i)]
    assert len(rows) == 3
    assert_allclose(table.loc[rows].to_numpy(dtype=float).reshape(3, 6, 2), pose.xy[[2, 7, 11]], atol=1e-6)
    (row,) = [i for i in table.index if "T02_C1" in str(i)]
    assert_allclose(table.loc[row].to_numpy(dtype=float).reshape(6, 2), other.xy[4], atol=1e-6)


def test_deeplabcut_reads_multi_animal_labels_we_export(tmp_path):
    deeplabcut, config = _project(tmp_path, multianimal=True)
    one, two = _labels([3, 8], seed=2), _labels([8, 12], seed=3)
    dlc.export_labels_to_project(config, "T01_C1", one, individual="subject1")
    dlc.export_labels_to_project(config, "T01_C1", two, individual="subject2")
    deeplabcut.create_training_dataset(str(config), userfeedback=False)
    table = _training_labels(config)
    assert table.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
    rows = [i for i in table.index if "T01_C1" in str(i)]
    assert len(rows) == 3
    s1 = table.loc[rows].xs("subject1", axis=1, level="individuals").to_numpy(dtype=float).reshape(3, 6, 2)
    s2 = table.loc[rows].xs("subject2", axis=1, level="individuals").to_numpy(dtype=float).reshape(3, 6, 2)
    assert_allclose(s1[:2], one.xy[[3, 8]], atol=1e-6)
    assert np.isnan(s1[2]).all()
    assert_allclose(s2[1:], two.xy[[8, 12]], atol=1e-6)
    assert np.isnan(s2[0]).all()
