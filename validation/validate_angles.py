"""Sagittal joint angles from the 2-D views against the 3-D model angles of the same c3d files.

The realgait set (``../shared/realgait``, see its README) turns marker-based walking recordings
into 2-D camera views in DeepLabCut's layout (neck, hip, knee, ankle, heel, toe of the
camera-facing leg). Sixteen of its raw c3d files also hold the joint angles the lab's 3-D
model computed (Vicon Plug-in-Gait: ``LHipAngles``, ``LKneeAngles``, ``LAnkleAngles`` and R*;
``...AnglesV`` in one file); their first component is sagittal flexion (hip, knee) and
dorsiflexion (ankle), in degrees. Each view's angles are computed as ``gaitint angles`` does
(:func:`~napari_gaitint.core.io.load_pose`,
:func:`~napari_gaitint.core.orient.orient_pose`,
:func:`~napari_gaitint.core.angles.compute_angles`) and compared, frame by frame, with the
model's angles of the same leg at the same instants: row ``k`` of a view at ``fps`` is at
``t0 + k / fps`` seconds from the first marker frame (``t0_s_in_trial`` in ``dlc_meta.json``),
where the model's angles are interpolated linearly.

Reported per trial, view and joint and pooled over every view: bias (2-D minus 3-D, degrees:
the offset), MAE (raw, and after subtracting that view's bias), RMSE and Pearson r; at the
views' native rate and at 25 Hz. Nothing is fitted: the offsets are reported, not removed.

Needs ezc3d (``pip install ezc3d``, or ``pip install 'napari-gaitint[validation]'``); the
package itself never imports it.

    .venv/bin/python validation/validate_angles.py                 # all 16 trials, both rates
    .venv/bin/python validation/validate_angles.py --trials zoo_hc002d06 btk_pig_beltc_1
    .venv/bin/python validation/validate_angles.py --markdown      # tables for the docs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The realgait set beside the repository (``../shared/realgait``).
REALGAIT = REPO_ROOT.parent / "shared" / "realgait"
#: The 3-D model's channel of each joint (prefix L/R; some files add a suffix such as ``V``).
MODEL_CHANNELS = {"hip": "HipAngles", "knee": "KneeAngles", "ankle": "AnkleAngles"}
RATES = ("native", "25hz")
#: Targets of issue 36: knee MAE <= 3 deg and r >= 0.98 (pooled over the views, offsets
#: included); hip and ankle r >= 0.9 with their offsets stated: the r of every view (which
#: no offset changes) and the pooled r once each view's offset is taken out. The pooled r
#: with the offsets left in is reported beside them (``r``).
TARGETS = {"knee": {"mae": 3.0, "r": 0.98}, "hip": {"min_view_r": 0.9, "r_no_offset": 0.9},
           "ankle": {"min_view_r": 0.9, "r_no_offset": 0.9}}


def read_model_angles(c3d_path: Path) -> tuple[dict[str, np.ndarray], float]:
    """``{"LHipAngles": (n_frames, 3) degrees, ...}`` and the point rate of a c3d file.

    Frame 0 is the first frame of the file's point data; frames the model did not compute
    (negative residual, or all zeros) are NaN.
    """
    import ezc3d

    c = ezc3d.c3d(str(c3d_path))
    point = c["parameters"]["POINT"]
    labels = list(point["LABELS"]["value"])
    for extra in ("LABELS2", "LABELS3", "LABELS4"):
        if extra in point:
            labels += list(point[extra]["value"])
    data = np.asarray(c["data"]["points"][:3], dtype=float)  # (3, n_channels, n_frames)
    residual = np.asarray(c["data"]["meta_points"]["residuals"][0], dtype=float)
    data[:, residual < 0] = np.nan
    data[:, np.all(data == 0, axis=0)] = np.nan
    out = {}
    for i, label in enumerate(labels[: data.shape[1]]):
        name = label.split(":")[-1].strip()
        for leg in "LR":
            for channel in MODEL_CHANNELS.values():
                if name.startswith(leg + channel) and leg + channel not in out:
                    out[leg + channel] = data[:, i, :].T
    return out, float(point["RATE"]["value"][0])


def trials_with_model_angles(root: Path = REALGAIT) -> list[str]:
    """The realgait trials whose raw c3d file holds the model's hip, knee and ankle angles."""
    out = []
    for info_path in sorted((root / "gait").glob("*/trial_info.json")):
        info = json.loads(info_path.read_text())
        raw = _raw_file(info, root)
        if raw is None or raw.suffix.lower() != ".c3d":
            continue
        channels, _ = read_model_angles(raw)
        if all(leg + ch in channels for leg in "LR" for ch in MODEL_CHANNELS.values()):
            out.append(info["trial"])
    return out


def _raw_file(info: dict, root: Path) -> Path | None:
    source = info.get("source")
    text = source if isinstance(source, str) else json.dumps(source)
    key = "'raw_file': '" if "'raw_file': '" in text else '"raw_file": "'
    if key not in text:
        return None
    name = text.split(key, 1)[1].split(key[-1], 1)[0]
    return root / name


def view_angles(csv: Path, fps: float) -> pd.DataFrame:
    """The 2-D view's angles, as ``gaitint angles`` computes them."""
    from napari_gaitint.core.angles import compute_angles
    from napari_gaitint.core.io import load_pose
    from napari_gaitint.core.orient import orient_pose

    pose = load_pose(csv, fps=fps)
    return compute_angles(orient_pose(pose, frame_size=(960, 540)), fps=fps)


def compare_view(trial: str, view: str, rate: str, root: Path = REALGAIT) -> pd.DataFrame:
    """Per-frame 2-D and 3-D angles of one view at one rate: ``trial, view, rate, joint,
    time_s, angle_2d, angle_3d``."""
    tdir = root / "gait" / trial
    meta = json.loads((tdir / "dlc" / "dlc_meta.json").read_text())["views"][view]
    info = json.loads((tdir / "trial_info.json").read_text())
    channels, c3d_rate = read_model_angles(_raw_file(info, root))
    file = meta["files"][rate]
    ours = view_angles(tdir / "dlc" / file["file"], float(file["fps"]))
    leg = meta["leg"][0]  # "L" / "R"
    t = meta["t0_s_in_trial"] + np.arange(len(ours)) / float(file["fps"])
    rows = []
    for joint, channel in MODEL_CHANNELS.items():
        model = channels[leg + channel][:, 0]
        frames = np.arange(model.size) / c3d_rate
        ok = np.isfinite(model)
        ref = np.interp(t, frames[ok], model[ok], left=np.nan, right=np.nan)
        rows.append(pd.DataFrame({
            "trial": trial, "view": view, "rate": rate, "joint": joint, "time_s": t,
            "angle_2d": ours[joint].to_numpy(), "angle_3d": ref,
        }))
    return pd.concat(rows, ignore_index=True)


def agreement(df: pd.DataFrame) -> dict:
    """Bias, MAE, offset-free MAE, RMSE and Pearson r of ``angle_2d`` against ``angle_3d``."""
    ok = np.isfinite(df["angle_2d"]) & np.isfinite(df["angle_3d"])
    a, b = df.loc[ok, "angle_2d"].to_numpy(), df.loc[ok, "angle_3d"].to_numpy()
    d = a - b
    return {
        "n": int(ok.sum()),
        "bias_deg": float(d.mean()),
        "mae_deg": float(np.abs(d).mean()),
        "mae_no_offset_deg": float(np.abs(d - d.mean()).mean()),
        "rmse_deg": float(np.sqrt((d ** 2).mean())),
        "r": float(np.corrcoef(a, b)[0, 1]),
        "range_3d_deg": float(b.max() - b.min()),
    }


def run(trials: list[str] | None = None, rates=RATES, root: Path = REALGAIT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-view and pooled agreement tables (see the module docstring)."""
    trials = trials or trials_with_model_angles(root)
    frames = [compare_view(t, v, r, root) for t in trials for v in ("left_view", "right_view") for r in rates]
    samples = pd.concat(frames, ignore_index=True)
    per_view = pd.DataFrame([
        {"trial": t, "view": v, "rate": r, "joint": j, **agreement(g)}
        for (t, v, r, j), g in samples.groupby(["trial", "view", "rate", "joint"], sort=False)
    ])
    pooled = []
    for (r, j), g in samples.groupby(["rate", "joint"], sort=False):
        views = per_view[(per_view["rate"] == r) & (per_view["joint"] == j)]
        # each view's offset (bias) taken out: the agreement of the curves' shapes
        bias = g[["trial", "view"]].merge(views[["trial", "view", "bias_deg"]], how="left")["bias_deg"]
        shape = agreement(g.assign(angle_2d=g["angle_2d"].to_numpy() - bias.to_numpy()))
        pooled.append({"rate": r, "joint": j, "n_views": len(views), **agreement(g),
                       "r_no_offset": shape["r"],
                       "median_view_r": float(views["r"].median()),
                       "min_view_r": float(views["r"].min()),
                       "max_view_mae_deg": float(views["mae_deg"].max())})
    pooled = pd.DataFrame(pooled)
    pooled.attrs["samples"] = samples
    return per_view, pooled


def check_targets(pooled: pd.DataFrame) -> list[str]:
    """The targets the pooled table misses (empty: all met)."""
    misses = []
    for _, row in pooled.iterrows():
        for key, bound in TARGETS.get(row["joint"], {}).items():
            column = "mae_deg" if key == "mae" else key
            ok = row[column] <= bound if key == "mae" else row[column] >= bound
            if not ok:
                misses.append(f"{row['joint']} {row['rate']}: {column} {row[column]:.3f} vs {bound}")
    return misses


def _markdown(df: pd.DataFrame, floats: dict[str, str]) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = [format(row[c], floats[c]) if c in floats else str(row[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_validation(per_view: pd.DataFrame, samples: pd.DataFrame, path: Path) -> Path:
    """Figure: one view's 2-D and 3-D curves per joint (top) and every sample (bottom)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.6), layout="constrained")
    FigureCanvasAgg(fig)
    axs = fig.subplots(2, 3)
    example = samples[(samples["trial"] == samples["trial"].iloc[0]) & (samples["view"] == samples["view"].iloc[0])]
    for j, joint in enumerate(MODEL_CHANNELS):
        e = example[example["joint"] == joint]
        ax = axs[0, j]
        ax.plot(e["time_s"], e["angle_3d"], color="k", lw=1.5, label="Plug-in-Gait (3-D)")
        ax.plot(e["time_s"], e["angle_2d"], color="tab:red", lw=1.2, label="2-D view")
        ax.set_title(f"{joint}: {e['trial'].iloc[0]} {e['view'].iloc[0]}", fontsize=9)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("angle (deg)")
        g = samples[samples["joint"] == joint]
        ax = axs[1, j]
        ax.plot(g["angle_3d"], g["angle_2d"], ".", ms=1.5, alpha=0.4, color="tab:blue")
        lo, hi = np.nanmin(g[["angle_2d", "angle_3d"]].to_numpy()), np.nanmax(g[["angle_2d", "angle_3d"]].to_numpy())
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
        v = per_view[per_view["joint"] == joint]
        ax.set_title(f"{joint}: {len(v)} views, offsets {v['bias_deg'].min():+.0f} to {v['bias_deg'].max():+.0f} deg",
                     fontsize=9)
        ax.set_xlabel("Plug-in-Gait (deg)")
        ax.set_ylabel("2-D (deg)")
    axs[0, 0].legend(fontsize=7)
    fig.savefig(path, dpi=110)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", nargs="*", help="trial names (default: every trial with model angles)")
    parser.add_argument("--rates", nargs="*", default=list(RATES), choices=list(RATES))
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--csv", type=Path, help="write the per-view table here")
    parser.add_argument("--figure", type=Path, help="write the validation figure (PNG) here")
    args = parser.parse_args(argv)
    if not (REALGAIT / "gait").is_dir():
        print(f"realgait not found at {REALGAIT}", file=sys.stderr)
        return 2
    per_view, pooled = run(args.trials, tuple(args.rates))
    fmt = {"bias_deg": "+.1f", "mae_deg": ".2f", "mae_no_offset_deg": ".2f", "rmse_deg": ".2f",
           "r": ".3f", "r_no_offset": ".3f", "range_3d_deg": ".0f", "median_view_r": ".3f", "min_view_r": ".3f",
           "max_view_mae_deg": ".2f"}
    if args.csv:
        per_view.to_csv(args.csv, index=False)
    if args.figure:
        samples = pooled.attrs["samples"]
        plot_validation(per_view[per_view["rate"] == "native"], samples[samples["rate"] == "native"], args.figure)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        if args.markdown:
            print(_markdown(pooled, fmt))
            print()
            print(_markdown(per_view.drop(columns=["n", "range_3d_deg"]), fmt))
        else:
            print(per_view.round(3).to_string(index=False))
            print()
            print(pooled.round(3).to_string(index=False))
    misses = check_targets(pooled)
    print("\ntargets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
