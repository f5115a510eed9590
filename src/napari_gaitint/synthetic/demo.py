"""The demo: the embedded synthetic sample, generated and analysed (``gaitint demo``).
"""

from __future__ import annotations

from pathlib import Path

from ..workflow.cohort import CohortResult, analyze_cohort

# demo
DEMO_TRIALS = 8
DEMO_SEED = 2026


def run_demo(out_dir: str | Path, *, overwrite: bool = False, progress: bool = False,
             n_jobs: int = 1) -> CohortResult:
    """Generate the embedded synthetic sample in ``out_dir/sample`` and analyse it into
    ``out_dir/results`` (events, cycles, ANOVA, report). Re-running reuses the sample.
    ``n_jobs`` processes write the sample's trials (0 or less: all cores; the same data)."""
    from .files import write_synthetic_cohort

    out_dir = Path(out_dir)
    sample = out_dir / "sample"
    manifest = sample / "trials.csv"
    if not manifest.exists():
        manifest = write_synthetic_cohort(
            sample, n_trials=DEMO_TRIALS, seed=DEMO_SEED, fps=25.0, video=True, bias_px=0.0,
            overwrite=False, progress=progress, n_jobs=n_jobs,
        )
    return analyze_cohort(manifest, out_dir / "results", overwrite=overwrite, progress=progress)
