"""Make the real-video validation set: MediaPipe Pose keypoints of public walking videos,
written in DeepLabCut's layout (both legs as the one camera sees them).

Runs in a throwaway environment of its own, outside the package's (MediaPipe 0.10.14 needs
numpy < 2)::

    python3.11 -m venv /tmp/mp-venv
    /tmp/mp-venv/bin/pip install 'mediapipe==0.10.14' 'numpy<2' av pandas tables
    /tmp/mp-venv/bin/python validation/make_real_video_set.py --video sports2d_demo=demo.mp4

Each trial is a video analysed in one of MediaPipe's two modes (:data:`TRIALS`).

``--video VIDEO=PATH`` gives a local copy of a video (its SHA-256 is checked);
``--fetch DIR`` downloads the videos at their pinned commits into DIR instead (needs access
to GitHub). The pose model is the one bundled with the ``mediapipe`` wheel (the legacy
``mediapipe.solutions.pose``, ``model_complexity=1``: ``pose_landmark_full.tflite``);
nothing is downloaded at run time. Writes ``<trial>.h5`` (key ``df_with_missing``) and
``<trial>.csv`` into ``validation/data/real_video/`` (``--out``) and prints the versions.

Body parts: ``neck`` (midpoint of the shoulders, likelihood the smaller of their two
visibilities), then ``left_``/``right_`` ``hip, knee, ankle, heel, toe`` (``toe`` is
MediaPipe's ``foot_index``); likelihood = MediaPipe's visibility. Frames outside the trial's
``frames`` range (the walker not fully in the picture, or other people) are left empty.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "real_video"

#: The videos: where each comes from and how it is analysed.
VIDEOS: dict[str, dict] = {
    "sports2d_demo": {
        "repository": "https://github.com/davidpagnon/Sports2D",
        "commit": "9c8a3d2572e57ac0d95d8ebc3efe62d3dc99ddc4",
        "path": "Sports2D/Demo/demo.mp4",
        "licence": "BSD-3-Clause (Copyright (c) 2022, perfanalytics)",
        "sha256": "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039",
        # image rows given to the pose estimator: below the roof of the shed, where a second
        # person stands (MediaPipe Pose follows one person, and takes that one otherwise)
        "rows": (450, None),
        # first and last frame (inclusive) with the walker whole in the picture: before 51
        # the trailing foot is behind the tree on the right, after 186 the leading foot
        # leaves the picture on the left (judged on the frames, like the events)
        "frames": (51, 186),
    },
}
#: The trials: a video and the pose estimator's mode. ``static_image_mode=False`` is
#: MediaPipe's video mode (the person tracked from frame to frame, landmarks smoothed);
#: ``True`` detects the pose in every frame on its own, as DeepLabCut does.
TRIALS: dict[str, dict] = {
    "sports2d_demo": {"video": "sports2d_demo", "static_image_mode": False},
    "sports2d_demo_static": {"video": "sports2d_demo", "static_image_mode": True},
}

SCORER = "MediaPipePose_0.10.14_full"
LANDMARKS = {"hip": 23, "knee": 25, "ankle": 27, "heel": 29, "toe": 31}  # left; right = +1
SHOULDERS = (11, 12)


def bodyparts() -> list[str]:
    return ["neck"] + [f"{s}_{b}" for b in LANDMARKS for s in ("left", "right")]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(video: str, folder: Path) -> Path:
    """Download a video at its pinned commit (raw file from GitHub)."""
    v = VIDEOS[video]
    owner_repo = v["repository"].removeprefix("https://github.com/")
    url = f"https://raw.githubusercontent.com/{owner_repo}/{v['commit']}/{v['path']}"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{video}{Path(v['path']).suffix}"
    if not dest.exists():
        print(f"fetching {url}")
        urllib.request.urlretrieve(url, dest)
    return dest


def run_pose(video: Path, rows: tuple[int, int | None], frames: tuple[int, int], *,
             static_image_mode: bool) -> np.ndarray:
    """(n_frames, n_bodyparts, 3) x, y (px of the full frame), likelihood; NaN outside
    ``frames`` and where MediaPipe finds no one."""
    import av
    import mediapipe as mp

    parts = bodyparts()
    with av.open(str(video)) as container:
        n = container.streams.video[0].frames
        out = np.full((n, len(parts), 3), np.nan)
        # the legacy solution's defaults otherwise (smoothed landmarks in video mode)
        with mp.solutions.pose.Pose(static_image_mode=static_image_mode, model_complexity=1) as pose:
            for i, frame in enumerate(container.decode(video=0)):
                img = frame.to_ndarray(format="rgb24")
                h_full, w = img.shape[:2]
                y0, y1 = rows[0], rows[1] or h_full
                crop = np.ascontiguousarray(img[y0:y1])
                h = crop.shape[0]
                if static_image_mode and not frames[0] <= i <= frames[1]:
                    continue  # frames are independent: only the trial's are needed
                res = pose.process(crop)
                if res.pose_landmarks is None or not frames[0] <= i <= frames[1]:
                    continue
                lm = np.array([(p.x * w, p.y * h + y0, p.visibility)
                               for p in res.pose_landmarks.landmark])
                ls, rs = lm[SHOULDERS[0]], lm[SHOULDERS[1]]
                row = [((ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2, min(ls[2], rs[2]))]
                for k in LANDMARKS.values():
                    row += [lm[k], lm[k + 1]]  # left, right
                out[i] = row
    return out


def dlc_table(values: np.ndarray) -> pd.DataFrame:
    """DeepLabCut's single-animal layout: columns scorer / bodyparts / coords."""
    cols = pd.MultiIndex.from_product([[SCORER], bodyparts(), ["x", "y", "likelihood"]],
                                      names=["scorer", "bodyparts", "coords"])
    return pd.DataFrame(values.reshape(len(values), -1), columns=cols)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--video", action="append", default=[], metavar="VIDEO=PATH",
                   help="a local copy of a video (sports2d_demo=demo.mp4)")
    p.add_argument("--fetch", type=Path, default=None, metavar="DIR",
                   help="download the videos not given with --video into DIR")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    given = dict(v.split("=", 1) for v in args.video)
    import mediapipe as mp

    print(f"python {sys.version.split()[0]}, mediapipe {mp.__version__}, numpy {np.__version__}, "
          f"pandas {pd.__version__}")
    args.out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, v in VIDEOS.items():
        if name in given:
            paths[name] = Path(given[name])
        elif args.fetch is not None:
            paths[name] = fetch(name, args.fetch)
        else:
            print(f"{name}: no video (--video {name}=PATH or --fetch DIR); its trials are skipped")
            continue
        digest = sha256(paths[name])
        if digest != v["sha256"]:
            raise SystemExit(f"{paths[name]}: SHA-256 {digest} is not the video's {v['sha256']}")
    for trial, t in TRIALS.items():
        if t["video"] not in paths:
            continue
        v = VIDEOS[t["video"]]
        values = run_pose(paths[t["video"]], v["rows"], v["frames"],
                          static_image_mode=t["static_image_mode"])
        df = dlc_table(values)
        df.to_hdf(args.out / f"{trial}.h5", key="df_with_missing", format="table", mode="w")
        df.to_csv(args.out / f"{trial}.csv")
        found = np.isfinite(values[:, 0, 0]).sum()
        print(f"{trial}: {len(values)} frames, a pose in {found} -> {args.out / trial}.h5/.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
