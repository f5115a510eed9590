"""The synthetic walker's feet against real walking (../shared/realgait, skipped without it):
its parameters are the real fits, and the event detectors rank on it as on real walking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.synthetic.walker import WalkerParams


@pytest.fixture(scope="module")
def calib(realgait_script):
    """validation/calibrate_synthetic_feet.py as a module; skips without the real data."""
    return realgait_script("calibrate_synthetic_feet")


@pytest.fixture(scope="module")
def real_profiles(calib):
    return calib.event_profiles(calib.load_real_tracks(calib.REALGAIT))


def test_walker_defaults_are_the_fits_to_real_walking(calib, real_profiles):
    """Every fitted foot and body parameter of WalkerParams lies within the range of the fits
    that leave one lab out (widened by a quarter of that range): the defaults were set from
    these fits, and neither the data nor the fit moved."""
    leg_m, stride_m = calib.walker_scale_lengths()

    def fit(prof):
        foot = calib.fit_foot(prof, leg_m=leg_m)
        return {**foot, **calib.fit_body(prof, foot, leg_m=leg_m, stride_m=stride_m,
                                         trunk_m=WalkerParams().trunk_m)}

    labs = sorted(real_profiles.lab.unique())
    assert len(labs) == 10
    lolo = pd.DataFrame([fit(calib.mean_profiles(real_profiles, exclude_lab=lab)) for lab in labs])
    walker = WalkerParams()
    for name in lolo.columns:
        lo, hi = lolo[name].min(), lolo[name].max()
        margin = 0.25 * (hi - lo) + 1e-3 * abs(hi)
        assert lo - margin <= getattr(walker, name) <= hi + margin, (name, getattr(walker, name), lo, hi)


def test_detectors_rank_on_the_walker_as_on_real_walking(calib):
    """25 Hz, nearest detection within 200 ms, all five methods: per event the best methods
    are the same on real walking and on the walker's true keypoints (the default ``foot``
    best at both; at toe off it is ``zeni``'s, so the two tie) and so is the worst, each
    method's bias has the same sign where the real one is beyond 10 ms, and the biases agree
    within 15 ms (docs/methods/synthetic.md has the full tables)."""
    real = calib.summarise(calib.detect_real(calib.REALGAIT)).set_index(["method", "event"])
    synth = calib.summarise(calib.detect_synthetic(8)).query("input == 'true'").set_index(["method", "event"])
    assert set(real.index.get_level_values("method")) == set(calib.METHODS) >= {"foot", "velocity"}
    assert (synth["found"] == synth["n"]).all()

    def best(mae):
        return set(mae.index[mae <= mae.min() + 1e-6])

    for event in ("HS", "TO"):
        r = real.xs(event, level="event")["mae_ms"]
        s = synth.xs(event, level="event")["mae_ms"]
        assert best(r) == best(s) and "foot" in best(r), event
        assert r.idxmax() == s.idxmax(), event
    bias_real, bias_synth = real["bias_ms"], synth.loc[real.index, "bias_ms"]
    strong = bias_real.abs() > 10
    assert (np.sign(bias_real[strong]) == np.sign(bias_synth[strong])).all()
    assert ((bias_real - bias_synth).abs() < 15).all(), pd.DataFrame({"real": bias_real, "walker": bias_synth})
