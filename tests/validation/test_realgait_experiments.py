"""What ``validation/realgait_experiments.py`` reports in docs/methods/events.md (*Tried*),
checked on ../shared/realgait where it is present (skipped otherwise)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def covariates(realgait_script):
    exp = realgait_script("realgait_experiments")
    vr = exp.vr
    views = vr.load_realgait(vr.DEFAULT_ROOT, rates=("native",), groups=("walk_overground",))
    matches = vr.evaluate(views, (vr.DEFAULT_METHOD,), ("plain",), pairs=())
    return exp.covariate_table(views, matches).set_index(["event", "covariates"]), matches


def test_a_legs_offset_is_not_predicted_from_the_view(covariates):
    """Experiment 8: no per-view covariate predicts the heel strike's offset held out; the
    toe off's follows speed, to about 10 ms and no further (the docs' table)."""
    table, matches = covariates
    timed = matches[matches["err_ms"].notna() & ~matches["optional"]]
    for kind, g in timed.groupby("event"):
        assert np.allclose(table.loc[kind, "as is"], g["err_ms"].abs().mean())
    hs = table.loc["heel_strike"]
    assert (hs["leave one lab out"] > hs["as is"]).all()
    assert (hs["leave one trial out"] > hs["as is"]).all()
    speed = table.loc[("toe_off", "speed")]
    assert speed["leave one lab out"] < speed["as is"]
    assert 9.0 < speed["leave one lab out"] < 10.5 and 9.0 < speed["leave one trial out"] < 10.5
