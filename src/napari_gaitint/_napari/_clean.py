"""Clean keypoints dock: :func:`~napari_gaitint.core.clean.clean_pose` on a keypoints layer.

The other view of the same trial, if loaded, is the far-leg reference; the result is a new
``<layer> cleaned`` points + tracks pair (the original layer is not touched).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from magicgui import magic_factory

from ..core.config import CleanConfig
from ..core.errors import GaitintError
from ._layers import layer_placement, layer_pose, partner_layer
from ._meta import copy_info, kwargs_info, view_side

if TYPE_CHECKING:  # `import napari.layers` binds `napari` too
    import napari.layers
    import napari.types
    import napari.viewer


def _clean_choices(name: str) -> list[str]:
    from ..core import config

    return list(getattr(config, name))


@magic_factory(
    method={"choices": lambda _w: _clean_choices("CLEAN_METHODS")},
    filter={"choices": lambda _w: _clean_choices("FILTERS")},
    likelihood_threshold={"min": 0.0, "max": 1.0, "step": 0.05},
    margin_px={"min": 0.0, "max": 500.0, "label": "margin px (0: from leg length)"},
    max_gap_s={"min": 0.0, "max": 10.0, "step": 0.05},
    cutoff_hz={"min": 0.1, "max": 100.0, "step": 0.5},
    call_button="Clean",
)
def clean_widget(
    layer: napari.layers.Points,
    viewer: napari.viewer.Viewer,
    likelihood_threshold: float = CleanConfig.likelihood_threshold,
    method: str = CleanConfig.method,
    margin_px: float = 0.0,
    max_gap_s: float = CleanConfig.max_gap_s,
    filter: str = CleanConfig.filter,
    cutoff_hz: float = CleanConfig.cutoff_hz,
) -> list[napari.types.LayerDataTuple]:
    """Clean a keypoints layer; adds ``<name> cleaned`` points + tracks (original untouched).

    The other view of the same trial, if loaded, is the far-leg reference for wrong-limb
    repair. Changed points carry their flags in the ``flags``/``status`` features and are
    coloured by status (red: wrong limb repaired, white: gap filled, orange: outlier).
    """
    from ..core.clean import clean_pose, config_for_names

    if layer is None:
        raise GaitintError("choose a keypoints layer to clean")
    pose = layer_pose(layer)
    other_layer = partner_layer(viewer, layer) if viewer is not None else None
    other = layer_pose(other_layer) if other_layer is not None else None
    # the file's own names for our roles (Neck, LHeel...); the other view renamed to match
    config, other = config_for_names(
        pose, other, side=view_side(layer), likelihood_threshold=likelihood_threshold,
        method=method, margin_px=margin_px or None, max_gap_s=max_gap_s, filter=filter,
        cutoff_hz=cutoff_hz,
    )
    result = clean_pose(pose, other=other, config=config)
    tuples = cleaned_layer_tuples(layer, result)
    if viewer is not None:
        from ._reader import connect_track_windows

        connect_track_windows(viewer)  # a long recording's tracks follow the slider
    return tuples


def cleaned_layer_tuples(layer, result) -> list[tuple]:
    """Points + tracks LayerDataTuples of a :class:`~napari_gaitint.core.clean.CleanResult`."""
    from ._reader import keypoint_layer_kwargs, tracks_for_display

    info = copy_info(layer, drop=("pose", "kind", "source"))
    info.update(cleaned=True, source_layer=layer.name, clean_summary=result.summary)
    name = f"{layer.name} cleaned"
    data, kw = keypoint_layer_kwargs(result.pose, name=name, flags=result.flags, extra_metadata=info)
    kwargs_info(kw)["source"] = None  # a derived layer has no source file to protect
    kw.update(layer_placement(layer))
    tdata, tkw = tracks_for_display([result.pose], name=f"{name} tracks", extra_metadata=info)
    tkw.update(layer_placement(layer))
    return [(data, kw, "points"), (tdata, tkw, "tracks")]

