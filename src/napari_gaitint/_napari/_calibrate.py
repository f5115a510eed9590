"""Calibrate a view's scale: a line over a known floor distance, its length in metres, saved
as ``px_per_m`` in ``trials.csv`` (a thin dock over
:func:`~napari_gaitint.core.cycles.compute_px_per_m` and
:func:`~napari_gaitint.workflow.manifest.save_manifest_values`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    PushButton,
)

from ..core.errors import GaitintError
from ..workflow.manifest import MANIFEST_FILE_FILTER
from ._meta import layer_info

if TYPE_CHECKING:
    import napari


def _view_layers(viewer) -> dict[str, object]:
    """``{"T01 C1": keypoints layer}`` of the trials loaded by the Load trial pair dock."""
    out = {}
    for layer in viewer.layers:
        info = layer_info(layer)
        if layer._type_string == "points" and info.trial is not None and info.view:
            out.setdefault(f"{info.trial} {info.view}", layer)
    return out


class CalibrateWidget(Container):
    """Draw a line over a known distance on a view, type its length, save ``px_per_m``."""

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self.view = ComboBox(label="view", choices=lambda _w=None: list(_view_layers(self._viewer)))
        self.draw = PushButton(text="Draw a line on this view")
        self.length_m = FloatSpinBox(label="length (m)", value=1.0, min=0.001, max=1000.0, step=0.01)
        self.manifest = FileEdit(label="trials.csv", filter=MANIFEST_FILE_FILTER, mode="r", value="")
        self.all_trials = CheckBox(label="all trials of this view", value=True,
                                   tooltip="The cameras did not move between the trials of trials.csv")
        self.save = PushButton(text="Save px_per_m to trials.csv")
        self.status = Label(value="")
        self.extend([self.view, self.draw, self.length_m, self.manifest, self.all_trials, self.save, self.status])
        self.draw.changed.connect(self.start_line)
        self.save.changed.connect(self._on_save)

    def shapes_layer(self, *, create: bool = False):
        """The chosen view's calibration layer (a Shapes layer placed like the view, so its
        coordinates are the view's image pixels)."""
        key = self.view.value
        if not key:
            raise GaitintError("load a trial first (Load trial pair)")
        name = f"calibration {key}"
        if name in self._viewer.layers:
            return self._viewer.layers[name]
        if not create:
            raise GaitintError(f"draw a line on {key} first")
        view = _view_layers(self._viewer)[key]
        return self._viewer.add_shapes(ndim=view.ndim, affine=view.affine.affine_matrix, name=name,
                                       edge_color="yellow", edge_width=3, shape_type="line")

    def start_line(self, *_):
        """Select the calibration layer of the view in line-drawing mode."""
        try:
            layer = self.shapes_layer(create=True)
        except GaitintError as err:
            self.status.value = str(err)
            return None
        self._viewer.layers.selection.active = layer
        layer.mode = "add_line"
        self.status.value = f"draw a line over a known floor distance on {self.view.value}"
        return layer

    def px_per_m(self) -> float:
        """The scale of the last line drawn on the chosen view."""
        from ..core.parameters import compute_px_per_m

        layer = self.shapes_layer()
        if not len(layer.data):
            raise GaitintError(f"draw a line on {self.view.value} first")
        return compute_px_per_m(layer.data[-1][[0, -1]], float(self.length_m.value))

    def save_to_manifest(self) -> float:
        """Write the chosen view's ``px_per_m`` into the manifest; returns it."""
        from ..workflow.manifest import read_manifest_cells, save_manifest_values

        path = Path(str(self.manifest.value))
        if not path.is_file():
            raise GaitintError("choose the trials.csv to save into")
        value = self.px_per_m()
        info = layer_info(_view_layers(self._viewer)[self.view.value])
        trial, view = str(info.trial), str(info.view)
        keys = [(trial, view)]
        if self.all_trials.value:
            cells = read_manifest_cells(path)
            keys = [(t, v) for t, v in zip(cells["trial"], cells["view"], strict=True) if v == view]
            if not keys:
                raise GaitintError(f"{path.name} has no row of view {view}")
        save_manifest_values(path, "px_per_m", dict.fromkeys(keys, round(value, 3)))
        self.status.value = f"{view}: {value:.1f} px/m saved to {path.name} ({len(keys)} row(s))"
        return value

    def _on_save(self, *_):
        try:
            self.save_to_manifest()
        except GaitintError as err:
            self.status.value = str(err)
