"""napari-gaitint: two-view 2D video gait analysis from DeepLabCut predictions.

The analysis lives in :mod:`napari_gaitint.core` and never imports napari or Qt; the napari
plugin (``napari_gaitint._napari``) and the ``gaitint`` command line are thin layers over it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("napari-gaitint")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from .core.config import ROLES
from .core.errors import AnalysisError, GaitintError, InputFileError, OutputExistsError
from .core.io import load_pose, load_poses, read_dlc_table, save_pose, write_dlc_table
from .core.movement_io import save_movement_dataset, to_movement_dataset
from .core.orient import detect_walking_direction, orient_pose
from .core.pose import Pose

#: The steps and the cohort run, imported on first use (``from napari_gaitint import clean_pose``)
#: so that importing the package stays as light as before.
_LAZY = {
    "AnalysisConfig": "napari_gaitint.workflow.config",
    "CleanConfig": "napari_gaitint.core.config",
    "analyze_cohort": "napari_gaitint.workflow.cohort",
    "analyze_trial": "napari_gaitint.workflow.analyze",
    "clean_pose": "napari_gaitint.core.clean",
    "compute_angles": "napari_gaitint.core.angles",
    "compute_cycles": "napari_gaitint.core.cycles",
    "detect_events": "napari_gaitint.core.events",
    "load_config": "napari_gaitint.workflow.config",
    "load_manifest": "napari_gaitint.workflow.manifest",
    "rm_anova": "napari_gaitint.core.stats",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'napari_gaitint' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    *sorted(_LAZY),
    "ROLES",
    "AnalysisError",
    "GaitintError",
    "InputFileError",
    "OutputExistsError",
    "Pose",
    "__version__",
    "detect_walking_direction",
    "load_pose",
    "load_poses",
    "orient_pose",
    "read_dlc_table",
    "save_movement_dataset",
    "save_pose",
    "to_movement_dataset",
    "write_dlc_table",
]
