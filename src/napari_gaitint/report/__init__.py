"""Figures and the self-contained HTML report of a cohort analysis.

matplotlib and pingouin are imported only when a figure or statistic is computed.
"""

from .figures import (
    make_figures,
    plot_bland_altman,
    plot_difference_curves,
    plot_mean_cycles,
    save_figure,
    write_figures,
)
from .html import build_report, package_versions

__all__ = [
    "build_report",
    "make_figures",
    "package_versions",
    "plot_bland_altman",
    "plot_difference_curves",
    "plot_mean_cycles",
    "save_figure",
    "write_figures",
]
