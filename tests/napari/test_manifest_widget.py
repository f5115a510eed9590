"""The napari loader reads a spreadsheet's trials.csv through the same reader as the CLI."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from numpy.testing import assert_array_equal

pytestmark = pytest.mark.napari


def test_load_trial_pair_from_a_spreadsheet_manifest(make_napari_viewer, sample_manifest, tmp_path, qtbot):
    from napari_gaitint._napari._load import LoadTrialPairWidget

    folder = tmp_path / "Studie"
    shutil.copytree(sample_manifest.parent, folder)
    table = pd.read_csv(folder / "trials.csv", dtype=str, keep_default_na=False)
    lines = [";".join(c.capitalize() + " " for c in table.columns)]
    for _, row in table.iterrows():
        cells = [".\\" + v.replace("/", "\\") if c in ("predictions", "video") and v else v
                 for c, v in row.items()]
        lines.append(";".join(v.replace(".", ",") if c == "fps" else v
                              for c, v in zip(table.columns, cells, strict=True)))
    sheet = folder / "Versuche.csv"
    sheet.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    assert b"\\" in sheet.read_bytes() and b";25,0;" in sheet.read_bytes()

    viewer = make_napari_viewer()
    widget = LoadTrialPairWidget(viewer)
    widget.manifest.value = str(sheet)
    widget._on_manifest()
    assert list(widget.trial.choices) == ["T01"], widget.status.value
    widget.load_row.clicked.emit()  # the files are read in a worker: wait as a user does
    qtbot.waitUntil(lambda: not widget.loading and widget.load_row.enabled, timeout=30_000)
    names = {lay.name for lay in viewer.layers}
    assert {"T01 C1 keypoints", "T01 C3 keypoints", "T01 C1 video", "T01 C3 video"} <= names

    ours = make_napari_viewer()
    plain = LoadTrialPairWidget(ours)
    plain.manifest.value = str(sample_manifest)
    plain._on_manifest()
    plain.load_row.clicked.emit()
    qtbot.waitUntil(lambda: not plain.loading and plain.load_row.enabled, timeout=30_000)
    for name in ("T01 C1 keypoints", "T01 C3 keypoints"):
        assert_array_equal(viewer.layers[name].data, ours.layers[name].data)
        assert_array_equal(viewer.layers[name].affine.affine_matrix, ours.layers[name].affine.affine_matrix)
    assert viewer.layers["T01 C1 video"].data.shape == ours.layers["T01 C1 video"].data.shape


def test_a_bad_manifest_row_is_shown_in_the_dock(make_napari_viewer, tmp_path):
    from napari_gaitint._napari._load import LoadTrialPairWidget

    sheet = tmp_path / "trials.csv"
    sheet.write_text("Trial;View;Predictions\r\nT01;C1;.\\nowhere\\T01_C1.h5\r\n", encoding="utf-8-sig")
    widget = LoadTrialPairWidget(make_napari_viewer())
    widget.manifest.value = str(sheet)
    widget._on_manifest()
    assert "row 2, column predictions" in widget.status.value
    assert "nowhere/T01_C1.h5" in widget.status.value
