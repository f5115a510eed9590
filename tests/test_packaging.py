"""The npe2 manifest at the repository root is what both kinds of install expose."""

from __future__ import annotations

import os
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


# ---------------------------------------------------------------------------------------
# dependencies: napari's plugin guidance (no Qt binding in the default dependencies)
# ---------------------------------------------------------------------------------------
#: What `pip install napari-gaitint` must not bring: napari and its GUI stack.
GUI_PACKAGES = ("napari", "magicgui", "npe2", "qtpy", "superqt", "vispy", "app_model",
                "PyQt5", "PyQt6", "PySide2", "PySide6")


def _requirement_name(req: str) -> str:
    import re

    return re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_default_dependencies_bring_no_napari_and_no_qt():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_requirement_name(r) for r in project["dependencies"]}
    assert not names & {p.lower().replace("_", "-") for p in GUI_PACKAGES}, names
    extras = project["optional-dependencies"]
    # [all]: napari with a Qt backend; the test tools run the plugin and movement too
    assert any(r.startswith("napari[") and "pyqt" in r.lower() for r in extras["all"])
    assert "napari-gaitint[all,movement]" in extras["testing"]
    assert {_requirement_name(r) for r in extras["movement"]} == {"movement"}


#: Run in a fresh interpreter where importing any GUI package fails, as if not installed.
_BLOCKED_RUN = r"""
import importlib, pkgutil, sys
BLOCKED = set(sys.argv[1].split(","))

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
        return None

sys.meta_path.insert(0, Block())
import napari_gaitint, napari_gaitint.cli, napari_gaitint.core, napari_gaitint.report
for pkg in (napari_gaitint.core, napari_gaitint.report):
    for mod in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(mod.name)
from napari_gaitint import cli
out = sys.argv[2]
assert cli.main(["synth", out + "/cohort", "--trials", "2", "--no-video"]) == 0
assert cli.main(["analyze", out + "/cohort", "--out", out + "/results"]) == 0
assert cli.main(["demo", out + "/demo", "--gui"]) == 2  # says what to install, does no work
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
assert not loaded, loaded
print("ok")
"""


def test_core_and_cli_work_without_napari_qt_or_magicgui(tmp_path):
    run = subprocess.run([sys.executable, "-c", _BLOCKED_RUN, ",".join(GUI_PACKAGES), str(tmp_path)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.strip().endswith("ok")
    assert "gaitint demo: error: --gui needs napari and magicgui and a Qt binding" in run.stderr
    assert "pip install 'napari-gaitint[all]'" in run.stderr
    assert (tmp_path / "results" / "report.html").is_file()
    assert not (tmp_path / "demo").exists()


def test_npe2_validate_imports():
    """`npe2 validate --imports napari-gaitint` on the installed distribution, as napari's
    plugin checks run it."""
    npe2 = Path(sys.executable).with_name("npe2")
    if not npe2.is_file():
        pytest.skip("npe2 command not installed next to this Python")
    run = subprocess.run([str(npe2), "validate", "napari-gaitint", "--imports"], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid!" in run.stdout


@pytest.mark.slow
@pytest.mark.skipif(not (os.environ.get("CI") or os.environ.get("GAITINT_INSTALL_TEST")),
                    reason="installs the package into a new environment from the package index "
                    "(~1.5 min): runs in CI (CI=true) or with GAITINT_INSTALL_TEST=1")
def test_plain_pip_install_brings_no_qt_and_the_cli_works(tmp_path):
    """`pip install napari-gaitint` in a fresh environment: the core and the CLI, no napari, no
    Qt binding, no magicgui (napari's plugin guidance)."""
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not running from a source checkout")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)],
                             capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True,
                            text=True, check=True).stdout.lower().replace("_", "-")
    installed = {line.split("==")[0] for line in listed.splitlines()}
    assert "napari-gaitint" in installed
    assert not installed & {p.lower().replace("_", "-") for p in GUI_PACKAGES}, installed
    gaitint = venv / "bin" / "gaitint"
    synth = subprocess.run([str(gaitint), "synth", str(tmp_path / "c"), "--trials", "2", "--no-video"],
                           capture_output=True, text=True, timeout=600)
    assert synth.returncode == 0, synth.stderr
    analyze = subprocess.run([str(gaitint), "analyze", str(tmp_path / "c"), "--out", str(tmp_path / "r"),
                              "--no-report"], capture_output=True, text=True, timeout=600)
    assert analyze.returncode == 0, analyze.stderr
    assert (tmp_path / "r" / "anova.csv").is_file()


def test_public_names_are_the_core_and_workflow_functions():
    """Every name in ``napari_gaitint.__all__`` resolves, to the function of its own module."""
    import napari_gaitint
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.core.stats import rm_anova
    from napari_gaitint.workflow.cohort import analyze_cohort

    missing = [name for name in napari_gaitint.__all__ if not hasattr(napari_gaitint, name)]
    assert missing == []
    assert napari_gaitint.clean_pose is clean_pose
    assert napari_gaitint.rm_anova is rm_anova
    assert napari_gaitint.analyze_cohort is analyze_cohort
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        napari_gaitint.not_a_name  # noqa: B018
