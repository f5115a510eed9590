"""A small cycles table of a cohort and checks of the report, shared by the report tests
(tests/core/test_report.py) and ``gaitint stats`` (tests/cli/test_cli_stats.py)."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_cohort(seed=0, n=6, t=21, bias=1.0, drop_view_of=None):
    rng = np.random.default_rng(seed)
    pct = np.linspace(0, 100, t)
    rows = []
    for i in range(n):
        subj = rng.normal(0, 2)
        for view, off in (("C1", 0.0), ("C3", bias)):
            if drop_view_of == f"T{i}" and view == "C3":
                continue
            for bp in ("hip", "ankle"):
                for ax in ("x", "y"):
                    val = 20 * np.sin(2 * np.pi * pct / 100) + subj + off + rng.normal(0, 1, t)
                    rows.append(pd.DataFrame({"trial": f"T{i}", "view": view, "side": "left", "bodypart": bp,
                                              "axis": ax, "pct": pct, "value": val}))
    return pd.concat(rows, ignore_index=True)


def assert_self_contained(text, n_images):
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(imgs) == n_images
    assert all(base64.b64decode(b)[:8] == PNG_MAGIC for b in imgs)
    assert not re.search(r'(src|href)="https?://', text)  # nothing fetched from the network
