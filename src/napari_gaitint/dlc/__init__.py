"""DeepLabCut integration: run DeepLabCut 3.x on trial pairs, send corrected labels back.

Everything here needs the optional extra ``pip install 'napari-gaitint[dlc]'`` except the
mirroring (:mod:`.mirror`, pure PyAV) and the label export (:mod:`.labels`, pure pandas).
``deeplabcut`` and ``torch`` are imported only inside the functions that call them, so
importing this package is cheap and works without DeepLabCut; a missing install raises
:class:`DLCNotInstalledError` saying how to install it.

:mod:`.project` (the installation and a project's config), :mod:`.mirror` (mirrored copies of
videos and predictions), :mod:`.analyze` (analysing trial pairs and folders, writing the
manifest) and :mod:`.labels` (corrected frames into the project's labelled data).
"""

from .analyze import PairAnalysis, analyze_folder, analyze_trial_pair, load_trial_predictions
from .labels import (
    LabelExport,
    export_corrected_labels,
    export_labels_mirrored,
    export_labels_to_project,
    write_labels,
)
from .mirror import mirror_pose_x, mirror_video, mirrored_video_path
from .project import (
    INSTALL_HINT,
    DLCNotInstalledError,
    dlc_available,
    import_deeplabcut,
    read_project_config,
)

__all__ = [
    "INSTALL_HINT",
    "DLCNotInstalledError",
    "LabelExport",
    "PairAnalysis",
    "analyze_folder",
    "analyze_trial_pair",
    "dlc_available",
    "export_corrected_labels",
    "export_labels_mirrored",
    "export_labels_to_project",
    "import_deeplabcut",
    "load_trial_predictions",
    "mirror_pose_x",
    "mirror_video",
    "mirrored_video_path",
    "read_project_config",
    "write_labels",
]
