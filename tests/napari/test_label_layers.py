"""A label file (CollectedData_*) in napari: labelled images, not a time series."""

from __future__ import annotations

import pytest

from napari_gaitint.core.errors import InputFileError

pytestmark = pytest.mark.napari


def test_widgets_refuse_a_label_layer(make_napari_viewer, dlc_fixtures):
    """Clean and Detect events say what the layer is instead of smoothing across images;
    the reader gave no Tracks layer."""
    from napari_gaitint._napari._clean import clean_widget
    from napari_gaitint._napari._detect import detect_events_widget

    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(dlc_fixtures / "labels" / "CollectedData_Mackenzie.h5"),
                           plugin="napari-gaitint")
    with pytest.raises(InputFileError, match="is a DeepLabCut label file"):
        clean_widget()(layer=layer, viewer=viewer)
    with pytest.raises(InputFileError, match="is a DeepLabCut label file"):
        detect_events_widget()(layer=layer, viewer=viewer, side="left")
    assert [lay.name for lay in viewer.layers] == ["CollectedData_Mackenzie"]
