"""Regenerate the small DeepLabCut-layout fixtures in tests/data/ (outputs are committed).

Run from the repository root::

    .venv/bin/python tests/data/make_fixtures.py [--overwrite]

Each file copies the exact layout DeepLabCut writes (checked against real DLC 2.x/3.x outputs
in ../shared/fixtures/dlc and DLC's and napari-deeplabcut's writers):

* ``pred_single.{h5,csv}`` — single-animal predictions (``analyze_videos``): columns
  ``scorer/bodyparts/coords`` with coords ``x, y, likelihood``, integer frame index, h5 key
  ``df_with_missing`` in PyTables *table* format. DLC 2.x and 3.x write the same layout; only
  the scorer name differs (``DLC_resnet50_...shuffle1_1000`` vs ``DLC_Resnet50_..._snapshot_200``),
  so we write the 2.x one here and the 3.x one as ``pred_single_dlc3``.
* ``pred_multi.{h5,csv}`` — multi-animal tracks: ``scorer/individuals/bodyparts/coords``, the
  unique body parts under the pseudo-individual ``single``, h5 key ``tracks`` (as ``_el.h5``).
* ``labels_dlc2.{h5,csv}`` — ``CollectedData_<scorer>`` hand labels as DLC 2.x writes them:
  coords ``x, y`` only, one index level of image paths ``labeled-data/<video>/imgNNN.png``,
  h5 key ``keypoints`` (fixed format).
* ``labels_dlc3.{h5,csv}`` — the same as DLC 3.x / napari-deeplabcut write them: a three-level
  row index ``(labeled-data, <video>, imgNNN.png)``.
* ``labels_multi_dlc3.{h5,csv}`` — multi-animal labels, four column levels, three index levels.

The committed files were written with pandas 2.3 (as in DeepLabCut environments); running
the script with pandas 3 gives files with the same content that pandas 2 also reads.
Values are deterministic (fixed seed), include NaN (low-confidence dropouts / unlabelled
points) and use our six role names so they also serve the gait pipeline's smoke tests.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROLES = ["neck", "hip", "knee", "ankle", "heel", "toe"]
N_FRAMES = 8
SCORER_DLC2 = "DLC_resnet50_gaitintNov24shuffle1_1000"
SCORER_DLC3 = "DLC_Resnet50_gaitintNov24shuffle1_snapshot_200"
LABELLER = "gaitint"
VIDEO = "trial01_C1"


def _walker_xy(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 6, 2)`` plausible image coordinates of a subject walking right-to-left."""
    base = np.array([[0, 160], [0, 260], [10, 350], [5, 440], [-5, 455], [25, 460]], float)
    x0 = np.linspace(800.0, 640.0, n)[:, None]
    xy = np.repeat(base[None], n, axis=0)
    xy[..., 0] += x0
    xy += rng.normal(0, 1.5, xy.shape)
    return np.round(xy, 4)


def predictions_table(scorer: str, *, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    xy = _walker_xy(rng, N_FRAMES)
    lik = np.round(rng.uniform(0.6, 1.0, (N_FRAMES, len(ROLES))), 6)
    lik[2, 1] = 0.05  # hand over the hip
    data = np.concatenate([xy, lik[..., None]], axis=2)
    data[3, 4, :] = np.nan  # a dropout, as filtered predictions have
    cols = pd.MultiIndex.from_product(
        [[scorer], ROLES, ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    return pd.DataFrame(data.reshape(N_FRAMES, -1), columns=cols)


def multi_table(*, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    individuals = ["subject1", "subject2"]
    tuples, blocks = [], []
    for k, ind in enumerate(individuals):
        xy = _walker_xy(rng, N_FRAMES)
        xy[..., 0] -= 300 * k
        lik = np.round(rng.uniform(0.5, 1.0, (N_FRAMES, len(ROLES))), 6)
        for j, bp in enumerate(ROLES):
            for c, col in zip(("x", "y", "likelihood"), (xy[:, j, 0], xy[:, j, 1], lik[:, j]),
                              strict=True):
                tuples.append((SCORER_DLC2, ind, bp, c))
                blocks.append(col.copy())
    # subject2 appears only from frame 2 on (entered the field of view)
    for i, t in enumerate(tuples):
        if t[1] == "subject2":
            blocks[i][:2] = np.nan
    for c, col in zip(("x", "y", "likelihood"), (np.full(N_FRAMES, 12.5), np.full(N_FRAMES, 500.0),
                                                  np.full(N_FRAMES, 0.99)), strict=True):
        tuples.append((SCORER_DLC2, "single", "walkway_start", c))
        blocks.append(col)
    cols = pd.MultiIndex.from_tuples(
        tuples, names=["scorer", "individuals", "bodyparts", "coords"]
    )
    return pd.DataFrame(np.column_stack(blocks), columns=cols)


def _label_values(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = _walker_xy(rng, n)
    xy[1, 2:4] = np.nan  # knee, ankle not labelled in the second image (occluded)
    return xy


def labels_table(*, three_level: bool, seed: int = 3, multi: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4
    images = [f"img{i:03d}.png" for i in (3, 17, 42, 58)]
    if three_level:
        index = pd.MultiIndex.from_tuples([("labeled-data", VIDEO, im) for im in images])
    else:
        index = pd.Index([f"labeled-data/{VIDEO}/{im}" for im in images])
    if not multi:
        cols = pd.MultiIndex.from_product(
            [[LABELLER], ROLES, ["x", "y"]], names=["scorer", "bodyparts", "coords"]
        )
        data = _label_values(rng, n).reshape(n, -1)
    else:
        individuals = ["subject1", "subject2"]
        cols = pd.MultiIndex.from_product(
            [[LABELLER], individuals, ROLES, ["x", "y"]],
            names=["scorer", "individuals", "bodyparts", "coords"],
        )
        data = np.concatenate([_label_values(rng, n).reshape(n, -1) for _ in individuals], axis=1)
        data[:, len(ROLES) * 2:] -= 300  # second subject further left
    return pd.DataFrame(data, index=index, columns=cols)


def _add_pandas_version(h5: Path, key: str) -> None:
    """pandas 3 no longer writes the ``pandas_version`` attribute that pandas 2 (the version
    DeepLabCut environments use) needs to read "table" files; add it as pandas 2 writes it."""
    import tables

    with tables.open_file(h5, mode="a") as f:
        attrs = f.get_node("/" + key)._v_attrs
        if "pandas_version" not in attrs._v_attrnames:
            attrs.pandas_version = "0.15.2"


def _write(df: pd.DataFrame, stem: str, *, key: str, table: bool, overwrite: bool) -> None:
    h5, csv = HERE / f"{stem}.h5", HERE / f"{stem}.csv"
    for path in (h5, csv):
        if path.exists() and not overwrite:
            raise SystemExit(f"{path} exists; pass --overwrite to regenerate")
    with pd.HDFStore(h5, mode="w") as store:  # = df.to_hdf(h5, key=key, format=...)
        store.put(key, df, format="table" if table else "fixed", track_times=False)
    _add_pandas_version(h5, key)
    df.to_csv(csv)
    print(f"wrote {h5.name} ({h5.stat().st_size} B), {csv.name} ({csv.stat().st_size} B)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    ow = args.overwrite
    _write(predictions_table(SCORER_DLC2), "pred_single", key="df_with_missing", table=True,
           overwrite=ow)
    _write(predictions_table(SCORER_DLC3, seed=4), "pred_single_dlc3", key="df_with_missing",
           table=True, overwrite=ow)
    _write(multi_table(), "pred_multi", key="tracks", table=True, overwrite=ow)
    _write(labels_table(three_level=False), "labels_dlc2", key="keypoints", table=False,
           overwrite=ow)
    _write(labels_table(three_level=True), "labels_dlc3", key="keypoints", table=False,
           overwrite=ow)
    _write(labels_table(three_level=True, multi=True), "labels_multi_dlc3", key="keypoints",
           table=False, overwrite=ow)


if __name__ == "__main__":
    main()
