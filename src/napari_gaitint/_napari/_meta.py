"""Our layer metadata, ``layer.metadata["gaitint"]``: read and written here only.

Every layer the plugin makes carries a dict under :data:`KEY`; its ``kind`` says what the layer
is (:data:`KINDS`) and the other keys say where it comes from (``trial``, ``view``, ``side``,
``mirrored``, ``manifest_row``, ``source``...). The dict is stored as it is (our writer, our
docks and other plugins read the same keys); :func:`layer_info` reads it as a typed, frozen
:class:`GaitintLayerInfo`, :func:`set_layer_info` writes it whole. No Qt, no napari import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.pose import side_of_view

#: The key of our dict in ``layer.metadata``.
KEY = "gaitint"

#: Layer kinds: DLC keypoints (read, or cleaned: ``cleaned`` True), their tracks, a video, the
#: events of the Detect-events dock, the editable events of the annotator, the editable
#: keypoints of Label QA and its far-leg estimate.
KEYPOINTS = "keypoints"
TRACKS = "tracks"
VIDEO = "video"
EVENTS = "events"
EVENTS_EDIT = "events_edit"
QA = "qa"
FAR_LEG = "far_leg"
KINDS = (KEYPOINTS, TRACKS, VIDEO, EVENTS, EVENTS_EDIT, QA, FAR_LEG)


@dataclass(frozen=True)
class GaitintLayerInfo:
    """Our metadata of one layer, typed (a key the layer does not have reads as ``None``).

    Attributes
    ----------
    kind
        One of :data:`KINDS`; ``None`` for a layer we did not make.
    trial, view, side
        The trial (``"T01"``), camera view (``"C1"``) and the leg it sees (``"left"``).
    mirrored
        Whether the view is shown mirrored (its subject walked right to left).
    cleaned
        Whether a keypoints layer holds cleaned data (made by the Clean dock).
    source
        The file the layer was read from (protected from overwriting); ``None`` if derived.
    manifest_row
        The ``trials.csv`` row the layer was loaded from, as a dict.
    pose
        The :class:`~napari_gaitint.core.io.Pose` the layer was made from, if one.
    fps, frame_size, n_frames, bodyparts, index
        Frame rate (Hz), video size ``(width_px, height_px)``, frame count, body parts and DLC
        frame index of the keypoints.
    raw
        The stored dict itself, for the keys not listed here (``events``, ``track_window``...).
    """

    kind: str | None = None
    trial: str | None = None
    view: str | None = None
    side: str | None = None
    mirrored: bool = False
    cleaned: bool = False
    source: str | None = None
    manifest_row: dict | None = None
    pose: Any = None
    fps: float | None = None
    frame_size: tuple[int, int] | None = None
    n_frames: int | None = None
    bodyparts: list[str] | None = None
    index: Any = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_mapping(cls, info: Mapping[str, Any]) -> GaitintLayerInfo:
        """The typed view of a stored ``metadata["gaitint"]`` dict."""
        return cls(
            kind=info.get("kind"), trial=info.get("trial"), view=info.get("view"), side=info.get("side"),
            mirrored=bool(info.get("mirrored")), cleaned=bool(info.get("cleaned")), source=info.get("source"),
            manifest_row=info.get("manifest_row"), pose=info.get("pose"), fps=info.get("fps"),
            frame_size=info.get("frame_size"), n_frames=info.get("n_frames"), bodyparts=info.get("bodyparts"),
            index=info.get("index"), raw=info,
        )

    def get(self, key: str, default: Any = None) -> Any:
        """A stored value by key (for the keys without an attribute)."""
        return self.raw.get(key, default)


def metadata_info(metadata: Mapping | None) -> dict:
    """The stored dict in a layer's (or a LayerDataTuple's) ``metadata``, itself, not a copy:
    changes to it change the layer. ``{}`` when there is none."""
    info = (metadata or {}).get(KEY)
    return info if isinstance(info, dict) else {}


def info_dict(layer) -> dict:
    """The stored ``metadata["gaitint"]`` dict of a layer (itself; ``{}`` when it has none)."""
    return metadata_info(getattr(layer, "metadata", None))


def kwargs_info(kwargs: Mapping) -> dict:
    """The stored dict in the ``metadata`` of LayerDataTuple kwargs (itself, not a copy)."""
    return metadata_info(kwargs.get("metadata"))


def layer_info(layer) -> GaitintLayerInfo:
    """Our metadata of ``layer``, typed; all ``None`` for a layer we did not make."""
    return GaitintLayerInfo.from_mapping(info_dict(layer))


def has_info(metadata: Mapping | None) -> bool:
    """Whether a layer's ``metadata`` holds ours (a layer the plugin made)."""
    return KEY in (metadata or {})


def set_layer_info(layer, info: Mapping[str, Any]) -> None:
    """Store ``info`` (a copy) as ``layer``'s ``metadata["gaitint"]``, replacing what was there."""
    layer.metadata[KEY] = dict(info)


def copy_info(layer, *, keep: Iterable[str] | None = None, drop: Iterable[str] = ()) -> dict:
    """A copy of ``layer``'s stored dict for a layer made from it: only the keys in ``keep``
    (all when ``None``), without those in ``drop``; in stored order."""
    keep = None if keep is None else set(keep)
    drop = set(drop)
    return {k: v for k, v in info_dict(layer).items() if (keep is None or k in keep) and k not in drop}


def is_keypoints(layer) -> bool:
    """Whether ``layer`` is a Points layer of DLC keypoints we made (read or cleaned)."""
    return layer.__class__.__name__ == "Points" and info_dict(layer).get("kind") == KEYPOINTS


def keypoint_layers(viewer, *, raw: bool = False) -> list:
    """The keypoints layers in the viewer (:func:`is_keypoints`); ``raw``: only those holding
    predictions as read (not cleaned)."""
    return [lay for lay in viewer.layers if is_keypoints(lay) and not (raw and info_dict(lay).get("cleaned"))]


def view_side(layer) -> str | None:
    """The leg the layer's camera sees (its side, else C1/C3); None when unknown."""
    info = layer_info(layer)
    return side_of_view(str(info.get("view", "")), info.side)
