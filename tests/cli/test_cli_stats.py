"""``gaitint stats`` on a cycles table: every planned output, refusals, --overwrite; a table
lacking columns is named."""

from __future__ import annotations

import pandas as pd
from numpy.testing import assert_allclose

from napari_gaitint.cli import main
from napari_gaitint.core import stats
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.agreement import AGREEMENT_COLUMNS, DIFFERENCE_COLUMNS
from napari_gaitint.report.outputs import planned_outputs
from report_checks import PNG_MAGIC, assert_self_contained, small_cohort  # tests/report_checks.py


def test_cli_stats_end_to_end(tmp_path, capsys):
    csv = tmp_path / "cycles.csv"
    small_cohort(seed=3, n=5, t=11, bias=3.0, drop_view_of="T4").to_csv(csv, index=False)
    out = tmp_path / "out"
    assert main(["stats", str(csv), "--out", str(out), "--correction", "fdr_bh"]) == 0
    printed = capsys.readouterr().out
    assert "trial T4: no data in view(s) C3" in printed
    for path in planned_outputs(out).values():
        assert path.is_file() and path.stat().st_size > 0, path
    assert (out / "figures" / "mean_cycles.png").read_bytes()[:8] == PNG_MAGIC
    assert "<svg" in (out / "figures" / "bland_altman.svg").read_text()[:2000]
    assert_self_contained((out / "report.html").read_text(encoding="utf-8"), 3)
    anova = pd.read_csv(out / "anova.csv")
    assert list(anova.columns) == [*stats.ANOVA_COLUMNS, "p_corr"]
    assert set(anova["effect"]) == set(stats.EFFECTS) and (anova["n"] == 4).all()
    assert list(pd.read_csv(out / "difference_curves.csv").columns) == list(DIFFERENCE_COLUMNS)
    assert list(pd.read_csv(out / "agreement.csv").columns) == list(AGREEMENT_COLUMNS)
    # a second run refuses and leaves the files alone
    before = file_sha256(out / "anova.csv")
    assert main(["stats", str(csv), "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert file_sha256(out / "anova.csv") == before
    # --overwrite replaces; --no-report / --no-figures skip the HTML / figures
    out2 = tmp_path / "out2"
    assert main(["stats", str(csv), "--out", str(out2), "--no-report", "--no-figures"]) == 0
    assert not (out2 / "report.html").exists() and not (out2 / "figures").exists()
    (out2 / "anova.csv").write_text("old")
    assert main(["stats", str(csv), "--out", str(out2), "--no-report", "--no-figures", "--overwrite"]) == 0
    assert_allclose(pd.read_csv(out2 / "anova.csv")["F"], anova["F"], rtol=1e-12)


def test_cli_stats_names_missing_columns(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    pd.DataFrame({"trial": ["T1"], "view": ["C1"], "value": [1.0]}).to_csv(csv, index=False)
    assert main(["stats", str(csv), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'bodypart', 'axis', 'pct'" in err and "bad.csv" in err
    assert not (tmp_path / "o").exists()
