"""``gaitint synth``: a synthetic study with its truth."""

from __future__ import annotations

import pandas as pd


def test_cli_synth(tmp_path, capsys):
    from napari_gaitint.cli import main

    out = tmp_path / "cli"
    assert main(["synth", str(out), "--trials", "2", "--seed", "1", "--no-video"]) == 0
    assert (out / "trials.csv").is_file()
    for name in ("events.csv", "wrong_limb.csv", "T01_C1_true.h5", "T02_C3_true.h5"):
        assert (out / "truth" / name).is_file(), name
    table = pd.read_csv(out / "trials.csv", keep_default_na=False)
    assert len(table) == 4 and (table.video == "").all()
    capsys.readouterr()
    assert main(["synth", str(out), "--trials", "2", "--no-video"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["synth", str(out), "--trials", "2", "--no-video", "--overwrite", "--bias-px", "5"]) == 0
