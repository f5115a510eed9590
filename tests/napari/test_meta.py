"""Typed accessors of our layer metadata (``layer.metadata["gaitint"]``), without a viewer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from napari.layers import Layer, Points

from napari_gaitint._napari import _meta
from napari_gaitint._napari._layers import view_layers
from napari_gaitint.core.config import ROLES
from napari_gaitint.core.pose import Pose


@pytest.fixture
def pose():
    rng = np.random.default_rng(5)
    values = np.column_stack([rng.uniform(0, 960, 48), rng.uniform(0, 540, 48), rng.uniform(0.7, 1, 48)])
    return Pose(values.reshape(8, 6, 3), ROLES, fps=25.0, frame_size=(960, 540), scorer="DLC_test",
                source="/data/T01_C1DLC.h5")


@pytest.fixture
def layers(pose):
    """The keypoints and tracks layers the loader makes for one view (no video)."""
    tuples = view_layers(pose, trial="T01", view="C1", side="left", mirror=True,
                         extra_metadata={"manifest_row": {"trial": "T01", "view": "C1"}})
    return {kind: Layer.create(data, kw, kind) for data, kw, kind in tuples}


def test_layer_info_reads_the_loaders_keys_typed(layers, pose):
    info = _meta.layer_info(layers["points"])
    assert (info.kind, info.trial, info.view, info.side) == (_meta.KEYPOINTS, "T01", "C1", "left")
    assert info.mirrored is True and info.cleaned is False
    assert info.source == "/data/T01_C1DLC.h5"
    assert info.manifest_row == {"trial": "T01", "view": "C1"}
    assert info.pose is layers["points"].metadata["gaitint"]["pose"]
    assert (info.fps, tuple(info.frame_size), info.n_frames, info.bodyparts) == (25.0, (960, 540), 8, list(ROLES))
    assert info.get("offset_px") == 0.0 and info.get("no such key", "x") == "x"
    assert _meta.layer_info(layers["tracks"]).kind == _meta.TRACKS
    with pytest.raises(AttributeError):  # frozen
        info.trial = "T02"


def test_a_layer_we_did_not_make_has_empty_info():
    foreign = Points(np.zeros((2, 3)), metadata={"header": "not ours"})
    assert _meta.layer_info(foreign) == _meta.GaitintLayerInfo()
    assert _meta.info_dict(foreign) == {} and not _meta.has_info(foreign.metadata)
    assert not _meta.is_keypoints(foreign)
    assert _meta.metadata_info(None) == {} and _meta.metadata_info({"gaitint": None}) == {}


def test_set_layer_info_stores_a_plain_dict_under_the_same_key(layers):
    far = Points(np.zeros((1, 3)))
    wanted = {"kind": _meta.FAR_LEG, "view": "C1", "trial": "T01"}
    _meta.set_layer_info(far, wanted)
    assert far.metadata["gaitint"] == wanted and far.metadata["gaitint"] is not wanted
    assert _meta.has_info(far.metadata) and not _meta.is_keypoints(far)
    # the stored dict is returned itself: a change through it changes the layer
    _meta.info_dict(far)["cleaned"] = True
    assert _meta.layer_info(far).cleaned is True


def test_copy_info_keeps_and_drops_keys_in_stored_order(layers):
    src = layers["points"]
    stored = list(src.metadata["gaitint"])
    kept = _meta.copy_info(src, keep=("view", "trial", "side", "mirrored"))
    assert list(kept) == [k for k in stored if k in ("trial", "view", "side", "mirrored")]
    dropped = _meta.copy_info(src, drop=("pose", "kind", "source"))
    assert list(dropped) == [k for k in stored if k not in ("pose", "kind", "source")]
    dropped["trial"] = "changed"
    assert src.metadata["gaitint"]["trial"] == "T01"  # a copy


def test_keypoint_layers_and_raw_ones(layers, pose):
    cleaned = Points(np.zeros((1, 3)), metadata={"gaitint": {"kind": "keypoints", "cleaned": True}})
    viewer = SimpleNamespace(layers=[layers["tracks"], layers["points"], cleaned])
    assert _meta.keypoint_layers(viewer) == [layers["points"], cleaned]
    assert _meta.keypoint_layers(viewer, raw=True) == [layers["points"]]


def test_kwargs_info_is_the_tuples_own_dict(pose):
    (data, kw, kind), *_ = view_layers(pose, trial="T01", view="C3", tracks=False)
    assert _meta.kwargs_info(kw) is kw["metadata"]["gaitint"]
    assert _meta.kwargs_info({}) == {}


@pytest.mark.parametrize(("stored", "side"), [
    ({"view": "C1"}, "left"), ({"view": "C3"}, "right"), ({"view": "C3", "side": "left"}, "left"),
    ({"view": "cam2"}, None), ({}, None),
])
def test_view_side(stored, side):
    assert _meta.view_side(Points(np.zeros((1, 3)), metadata={"gaitint": stored})) == side
