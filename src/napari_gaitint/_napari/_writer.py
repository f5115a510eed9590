"""napari writer: a keypoints Points layer -> DeepLabCut ``.h5``/``.csv``.

The layer is turned back into poses by :func:`._convert.points_to_pose` (moved, added and
deleted points included) and written by :func:`napari_gaitint.core.io.write_dlc_table`, in
the layout DeepLabCut and napari-deeplabcut read. The file the layer was read from is never
replaced unless the layer's ``metadata["gaitint"]["overwrite_source"]`` is True.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import OutputExistsError
from ..core.io import Pose, poses_to_dlc_table, write_dlc_table
from . import _convert


def layer_to_poses(data: np.ndarray, meta: dict) -> list[Pose]:
    """Poses (one per individual) from a points layer's data and its ``_get_state`` dict."""
    features = meta.get("features")
    if features is None or len(features) == 0:
        features = pd.DataFrame(meta.get("properties") or {})
    info = (meta.get("metadata") or {}).get("gaitint", {})
    template = info.get("pose")
    individuals = info.get("individuals") or [None]
    n_frames = info.get("n_frames")
    by_individual = info.get("bodyparts_by_individual") or {}
    poses = []
    for ind in individuals:
        if template is not None and len(individuals) == 1:
            pose = _convert.points_to_pose(data, features, template=template)
        else:
            pose = _convert.points_to_pose(
                data,
                features,
                n_frames=n_frames,
                bodyparts=by_individual.get(ind or "", info.get("bodyparts")),
                individual=ind or "",
            )
            pose = pose.replace(
                individual=ind,
                scorer=info.get("scorer") or pose.scorer,
                index=info.get("index") if info.get("index") is not None and len(info["index"]) == pose.n_frames else None,
                has_likelihood=info.get("has_likelihood", True),
            )
        poses.append(pose)
    return poses


def write_points(path: str, data, meta: dict) -> list[str]:
    """npe2 single-layer writer for points layers to DLC ``.h5``/``.csv``.

    napari asks before replacing an existing file; the layer's own source file is still
    protected (set ``metadata["gaitint"]["overwrite_source"] = True`` to allow it).
    """
    out = Path(path)
    info = (meta.get("metadata") or {}).get("gaitint", {})
    source = info.get("source")
    is_source = source is not None and out.exists() and Path(source).resolve() == out.resolve()
    if is_source and not info.get("overwrite_source", False):
        raise OutputExistsError(out)
    poses = layer_to_poses(np.asarray(data), meta)
    # Other existing files: napari's save dialog has already asked the user.
    write_dlc_table(poses_to_dlc_table(poses), out, overwrite=out.exists())
    return [str(out)]


def save_points_layer(layer, path: str | Path, *, overwrite: bool = False) -> Path:
    """Save a keypoints layer to DLC ``.h5``/``.csv`` from code (no napari dialog).

    Refuses an existing file unless ``overwrite`` is True; never the layer's source unless
    ``overwrite`` is True as well.
    """
    out = Path(path)
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    poses = layer_to_poses(np.asarray(layer.data), {"features": layer.features, "metadata": layer.metadata})
    return write_dlc_table(poses_to_dlc_table(poses), out, overwrite=overwrite)
