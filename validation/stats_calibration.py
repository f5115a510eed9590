"""Calibration of the perspective test of ``rm_anova``: type-I error rate and power.

Many synthetic cohorts of cycles-like curves are analysed with
:func:`napari_gaitint.core.stats.rm_anova`. Each cohort has ``n`` trials seen from two views
(C1, C3) at 101 points of the gait cycle:

    value[trial, view, pct] = mean_curve(pct)                   # a realistic joint trajectory (px)
                              + trial_curve(pct)                # smooth trial random effect, both views
                              + trial_offset                    # trial random intercept
                              + view_trial_offset               # per trial and view (camera/side), sd 2 px
                              + view_trial_curve(pct)           # smooth per trial and view, sd ~1.5 px
                              + noise(pct)                      # AR(1) keypoint jitter, sd 1.5 px
                              + bias_px * [view == C3]          # the injected perspective bias

With ``bias_px = 0`` the null hypothesis of the perspective effect is true, so its rejection
rate at alpha = 0.05 must be close to 5 %; with a bias, the rejection rate is the power. The
time x perspective interaction is also null here (no view-specific shape), so its GG-corrected
rejection rate must stay <= 5 % (uncorrected it is inflated, which is why GG is reported).

The model is deliberately simple (it is a valid null model for the ANOVA, not a gait
simulator). ``napari_gaitint.workflow.cohort.analyze_cohort`` on the synthetic walker can replace
:func:`simulate_cohort` once it exists.

Run::

    python validation/stats_calibration.py --quick   # CI: ~200 cohorts, exit 1 if miscalibrated
    python validation/stats_calibration.py           # full tables (a few minutes)
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from napari_gaitint.core.stats import rm_anova

PCT = np.linspace(0.0, 100.0, 101)
ALPHA = 0.05


def _smooth_curves(rng, n, sd, n_harmonics=4):
    """``(n, 101)`` smooth periodic random curves with pointwise SD about ``sd``."""
    phase = 2 * np.pi * PCT / 100.0
    k = np.arange(1, n_harmonics + 1)
    scale = sd / np.sqrt(np.sum(1.0 / k**2))  # harmonics decay as 1/k; pointwise var = scale^2 sum 1/k^2
    a = rng.normal(0, 1, (n, n_harmonics)) * scale / k
    b = rng.normal(0, 1, (n, n_harmonics)) * scale / k
    return a @ np.sin(np.outer(k, phase)) + b @ np.cos(np.outer(k, phase))


def _ar1_noise(rng, shape, sd, rho=0.6):
    e = rng.normal(0, sd * np.sqrt(1 - rho**2), shape)
    out = np.empty(shape)
    out[..., 0] = rng.normal(0, sd, shape[:-1])
    for i in range(1, shape[-1]):
        out[..., i] = rho * out[..., i - 1] + e[..., i]
    return out


def mean_curve_px() -> np.ndarray:
    """A heel-height-like trajectory in pixels: flat stance, a 45 px swing bump."""
    x = PCT / 100.0
    return 380.0 + 45.0 * np.exp(-0.5 * ((x - 0.78) / 0.09) ** 2) + 6.0 * np.sin(2 * np.pi * x)


def simulate_cohort(rng, n_trials: int, *, bias_px: float = 0.0) -> pd.DataFrame:
    """A long cycles table (trial, view, bodypart, axis, pct, value) for one body part/axis."""
    n, t = n_trials, len(PCT)
    base = mean_curve_px()[None, None, :]
    trial_curve = _smooth_curves(rng, n, sd=5.0)[:, None, :]
    trial_off = rng.normal(0, 8.0, (n, 1, 1))
    view_trial_off = rng.normal(0, 2.0, (n, 2, 1))
    view_trial_curve = _smooth_curves(rng, 2 * n, sd=1.5).reshape(n, 2, t)
    noise = _ar1_noise(rng, (n, 2, t), sd=1.5)
    bias = np.array([0.0, bias_px])[None, :, None]
    cube = base + trial_curve + trial_off + view_trial_off + view_trial_curve + noise + bias
    return pd.DataFrame({
        "trial": np.repeat([f"T{i:03d}" for i in range(n)], 2 * t),
        "view": np.tile(np.repeat(["C1", "C3"], t), n),
        "bodypart": "heel",
        "axis": "y",
        "pct": np.tile(PCT, 2 * n),
        "value": cube.reshape(-1),
    })


def rejection_rates(n_cohorts, n_trials, bias_px, seed, engine="numpy"):
    """Fraction of cohorts with p < alpha for: perspective (GG), interaction (GG, uncorrected)."""
    rng = np.random.default_rng(seed)
    rej = np.zeros(3)
    for _ in range(n_cohorts):
        aov = rm_anova(simulate_cohort(rng, n_trials, bias_px=bias_px), engine=engine).set_index("effect")
        rej += [aov.loc["perspective", "p_gg"] < ALPHA,
                aov.loc["time*perspective", "p_gg"] < ALPHA,
                aov.loc["time*perspective", "p_unc"] < ALPHA]
    return rej / n_cohorts


def wilson(p, n, z=1.96):
    """Wilson 95 % interval of a proportion."""
    den = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return centre - half, centre + half


def engine_check(n_cohorts=3, n_trials=12, seed=99):
    """pingouin and numpy engines on the same cohorts: max relative difference and time ratio."""
    rng = np.random.default_rng(seed)
    cohorts = [simulate_cohort(rng, n_trials, bias_px=1.0) for _ in range(n_cohorts)]
    t0 = time.perf_counter()
    a = [rm_anova(c, engine="pingouin") for c in cohorts]
    t1 = time.perf_counter()
    b = [rm_anova(c, engine="numpy") for c in cohorts]
    t2 = time.perf_counter()
    cols = ["F", "p_unc", "p_gg", "eps", "np2"]
    rel = max(float(np.max(np.abs(x[cols].to_numpy() - y[cols].to_numpy()) /
                           np.maximum(np.abs(x[cols].to_numpy()), 1e-300))) for x, y in zip(a, b, strict=True))
    return rel, (t1 - t0) / max(t2 - t1, 1e-9)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small run for CI (exit 1 if miscalibrated)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)

    rel, ratio = engine_check()
    print(f"engine check: max relative difference pingouin vs numpy = {rel:.1e}; "
          f"pingouin takes {ratio:.0f}x the numpy time (same run)")

    if args.quick:
        n_null, n_power, sizes, biases = 200, 100, [10], [2.0]
    else:
        n_null, n_power, sizes, biases = 1000, 300, [5, 10, 20, 61], [0.5, 1.0, 2.0, 3.0, 5.0]

    t0 = time.perf_counter()
    ok = True
    print(f"\nType-I error at alpha = {ALPHA} (no perspective bias, {n_null} cohorts each)")
    print(f"{'trials':>6}  {'perspective (GG)':>22}  {'interaction GG':>14}  {'interaction unc.':>16}")
    for n in sizes:
        r = rejection_rates(n_null, n, 0.0, args.seed + n)
        lo, hi = wilson(r[0], n_null)
        print(f"{n:>6}  {r[0]:>8.3f} [{lo:.3f}, {hi:.3f}]  {r[1]:>14.3f}  {r[2]:>16.3f}")
        # plausible range for a calibrated test: binomial 99.9 % acceptance region around 5 %
        lo_ok, hi_ok = sps.binom.ppf([0.0005, 0.9995], n_null, ALPHA) / n_null
        ok &= bool(lo_ok <= r[0] <= hi_ok) and r[1] <= hi_ok

    big = simulate_cohort(np.random.default_rng(0), 4000)
    per_trial = big.groupby(["trial", "view"])["value"].mean().unstack()
    sd_between = float((per_trial["C1"] - per_trial["C3"]).std())
    print(f"\nPower of the perspective effect (alpha = {ALPHA}, {n_power} cohorts each); in brackets "
          "the power of a paired t-test on the per-trial means (noncentral t), which the two-view "
          "perspective F test equals")
    print(f"{'trials':>6}  " + "  ".join(f"{b:>13.1f}px" for b in biases))
    for n in sizes:
        pw = [rejection_rates(n_power, n, b, args.seed + 1000 + n)[0] for b in biases]
        tcrit = sps.t.ppf(1 - ALPHA / 2, n - 1)
        expected = [sps.nct.sf(tcrit, n - 1, b / sd_between * np.sqrt(n))
                    + sps.nct.cdf(-tcrit, n - 1, b / sd_between * np.sqrt(n)) for b in biases]
        print(f"{n:>6}  " + "  ".join(f"{p:>7.3f} ({e:.3f})" for p, e in zip(pw, expected, strict=True)))
    print(f"\n(SD across trials of a trial's mean C1-C3 difference in this model: {sd_between:.2f} px;"
          " the power depends on bias / this SD and on n)")
    print(f"elapsed {time.perf_counter() - t0:.1f} s; calibration {'OK' if ok else 'OUT OF RANGE'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
