"""Trial pairs and cohorts above the analysis steps: the manifest, one trial's chain, cohort runs.

:mod:`.config` (the settings of a run and their TOML file), :mod:`.manifest` (``trials.csv``:
columns, view tokens, names, finding, reading, writing), :mod:`.analyze` (one trial: the
chain of steps), :mod:`.cohort` (every trial of a manifest, the statistics, the result files),
:mod:`.resume` (an interrupted run resumed) and :mod:`.distributed` (dask).
"""

from .analyze import ViewResult, analyze_trial
from .cohort import CohortResult, analyze_cohort
from .config import AnalysisConfig, config_to_toml, load_config
from .manifest import find_trials, load_manifest, read_manifest, write_manifest

__all__ = [
    "AnalysisConfig",
    "CohortResult",
    "ViewResult",
    "analyze_cohort",
    "analyze_trial",
    "config_to_toml",
    "find_trials",
    "load_config",
    "load_manifest",
    "read_manifest",
    "write_manifest",
]
