"""napari writer: a keypoints Points layer -> DeepLabCut ``.h5``/``.csv``.

napari hands every points layer saved to ``.h5`` to the first writer it lists, which may be
ours even for a layer another plugin made, so the writer takes three kinds of layer:

* our layers (``metadata["gaitint"]``): turned back into poses by
  :func:`._convert.points_to_pose` (moved, added and deleted points included) and written
  by :func:`napari_gaitint.core.io.write_dlc_table`;
* layers with a DeepLabCut header (``metadata["header"]``, as napari-deeplabcut makes
  them): written by :func:`._convert.header_points_to_dlc_table` with exactly the header's
  scorer, individuals, body parts and coords and the rows of the file they were read from
  (image paths of label files, every frame of predictions), under DLC's key
  ``df_with_missing``;
* anything else is refused with a message: without a header nobody can tell what table
  the points belong to, and a guessed one would lose data.

The file a layer was read from is never replaced (for our layers unless
``metadata["gaitint"]["overwrite_source"]`` is True).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import GaitintError, OutputExistsError, UnsafeWriteError
from ..core.io import DLC_H5_KEY, poses_to_dlc_table, read_dlc_table, write_dlc_table
from ..core.pose import Pose
from . import _convert
from ._meta import KEY, has_info, metadata_info


def layer_to_poses(data: np.ndarray, meta: dict) -> list[Pose]:
    """Poses (one per individual) from a points layer's data and its ``_get_state`` dict."""
    features = meta.get("features")
    if features is None or len(features) == 0:
        features = pd.DataFrame(meta.get("properties") or {})
    info = metadata_info(meta.get("metadata"))
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
    layer_meta = meta.get("metadata") or {}
    if not has_info(layer_meta):
        return [str(write_header_layer(out, data, meta))]
    info = layer_meta[KEY]
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
    ``overwrite`` is True as well (a layer we did not make: never its source). Layers we did
    not make are written as :func:`write_points` writes them.
    """
    out = Path(path)
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    meta = {"name": layer.name, "features": layer.features, "metadata": layer.metadata}
    if not has_info(layer.metadata):
        return write_header_layer(out, np.asarray(layer.data), meta, overwrite=overwrite)
    poses = layer_to_poses(np.asarray(layer.data), meta)
    return write_dlc_table(poses_to_dlc_table(poses), out, overwrite=overwrite)


# ---------------------------------------------------------------------------------------
# Layers we did not make
# ---------------------------------------------------------------------------------------
def layer_source_file(layer_meta: dict) -> Path | None:
    """The DLC file a napari-deeplabcut layer was read from (its provenance), if known."""
    io = layer_meta.get("io")
    io = io if isinstance(io, dict) else getattr(io, "__dict__", None) or {}
    root, rel = io.get("project_root"), io.get("source_relpath_posix")
    if root and rel:
        return Path(root).joinpath(*str(rel).replace("\\", "/").split("/"))
    src = layer_meta.get("source_h5")
    return Path(src) if isinstance(src, str) and src else None


def _features_of(meta: dict) -> pd.DataFrame:
    features = meta.get("features")
    if features is None or len(features) == 0:
        features = pd.DataFrame(meta.get("properties") or {})
    return features


def header_layer_table(data, meta: dict, *, out: Path | None = None) -> pd.DataFrame:
    """The DLC table of a points layer carrying a DLC header (see the module docstring).

    Raises :class:`~napari_gaitint.core.errors.UnsafeWriteError` naming ``out`` when the
    layer has no usable header or its points do not fit it.
    """
    layer_meta = meta.get("metadata") or {}
    name = meta.get("name") or layer_meta.get("name") or "this layer"
    columns = _convert.dlc_header_columns(layer_meta.get("header"))
    if columns is None:
        raise UnsafeWriteError(
            out, f"points layer {name!r} was not made by napari-gaitint and has no DeepLabCut "
            "header (layer.metadata['header']), so its scorer, individuals and body parts are "
            "unknown; napari-gaitint writes no table it would have to guess. Save it with the "
            "plugin that made it, or open the DLC file with napari-gaitint and edit that layer",
        )
    source = layer_source_file(layer_meta)
    template = None
    if source is not None and source.is_file():
        try:
            template = read_dlc_table(source)
        except (GaitintError, OSError, ValueError):
            template = None  # moved or changed since: the layer alone decides the rows
    try:
        return _convert.header_points_to_dlc_table(
            np.asarray(data), _features_of(meta), columns,
            paths=list(layer_meta.get("paths") or []), template=template,
        )
    except ValueError as err:
        raise UnsafeWriteError(
            out, f"points layer {name!r} does not fit its DeepLabCut header ({err}); nothing "
            "was written",
        ) from None


def write_header_layer(out: Path, data, meta: dict, *, overwrite: bool | None = None) -> Path:
    """Write a layer that carries a DLC header (napari-deeplabcut's) to ``out`` faithfully.

    Never onto the file the layer was read from; other existing files are replaced when
    ``overwrite`` is True (default: when ``out`` exists, napari's save dialog having asked).
    """
    layer_meta = meta.get("metadata") or {}
    source = layer_source_file(layer_meta)
    if source is not None and out.exists() and source.exists() and out.samefile(source):
        raise UnsafeWriteError(
            out, "is the file this layer was read from; napari-gaitint never replaces a "
            "source file. Save under another name, or with napari-deeplabcut's own save "
            "(which merges label edits into it)",
        )
    df = header_layer_table(data, meta, out=out)
    return write_dlc_table(df, out, overwrite=out.exists() if overwrite is None else overwrite,
                           key=DLC_H5_KEY)
