"""The synthetic two-view walker with exact ground truth: the embedded sample, the tests' truth.

:mod:`.walker` (the 2D sagittal walker in world metres), :mod:`.trial` (two cameras filming it
and DLC-like predictions with their errors recorded), :mod:`.files` (a cohort on disk:
predictions, ``trials.csv``, ``truth/``), :mod:`.render` (its videos) and :mod:`.demo`
(``gaitint demo``: the sample generated and analysed).
"""

from .files import (
    SyntheticTruth,
    load_truth,
    prediction_filename,
    write_synthetic_cohort,
    write_trial_files,
)
from .trial import (
    SCORER,
    VIEWS,
    WRONG_LIMB_RATES,
    Camera,
    SyntheticTrial,
    SyntheticView,
    generate_cohort,
    generate_trial,
    trial_names,
)
from .walker import Walker, WalkerParams, draw_walker_params

__all__ = [
    "SCORER",
    "VIEWS",
    "WRONG_LIMB_RATES",
    "Camera",
    "SyntheticTrial",
    "SyntheticTruth",
    "SyntheticView",
    "Walker",
    "WalkerParams",
    "draw_walker_params",
    "generate_cohort",
    "generate_trial",
    "load_truth",
    "prediction_filename",
    "trial_names",
    "write_synthetic_cohort",
    "write_trial_files",
]
