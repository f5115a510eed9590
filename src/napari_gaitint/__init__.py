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

__all__ = [
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
