"""The npe2 manifest at the repository root is what both kinds of install expose."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_editable_install_finds_root_manifest():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("napari-gaitint")
    root = PluginManifest.from_file(ROOT / "napari.yaml")
    assert manifest.name == root.name == "napari-gaitint"
    assert [c.id for c in manifest.contributions.commands] == [c.id for c in root.contributions.commands]
    assert manifest.contributions.readers and manifest.contributions.widgets
    assert manifest.contributions.sample_data and manifest.contributions.writers


def test_manifest_commands_import():
    """Every command's python_name resolves (what ``npe2 validate --imports`` checks)."""
    from npe2 import PluginManifest

    manifest = PluginManifest.from_file(ROOT / "napari.yaml")
    manifest.validate_imports()


def test_video_reader_patterns_are_the_video_suffixes():
    from npe2 import PluginManifest

    from napari_gaitint.core.video import VIDEO_SUFFIXES

    manifest = PluginManifest.from_file(ROOT / "napari.yaml")
    video = [r for r in manifest.contributions.readers if r.command.endswith("get_video_reader")]
    assert len(video) == 1
    assert sorted(video[0].filename_patterns) == sorted(f"*{s}" for s in VIDEO_SUFFIXES)


@pytest.mark.slow
def test_wheel_contains_the_root_manifest(tmp_path):
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not running from a source checkout")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("napari_gaitint-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        packaged = zf.read("napari_gaitint/napari.yaml")
        entry_points = zf.read(next(n for n in zf.namelist() if n.endswith("entry_points.txt")))
    assert packaged == (ROOT / "napari.yaml").read_bytes()
    assert b"napari_gaitint:napari.yaml" in entry_points
