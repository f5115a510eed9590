"""Fixtures for the napari plugin tests: DLC fixture files, small videos, the sample trial."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def dlc_fixtures(dlc_fixtures_dir) -> Path:
    """The real DeepLabCut files (tests/conftest.py skips when they are absent)."""
    return dlc_fixtures_dir


@pytest.fixture(scope="session")
def frame_number():
    """Reads the frame number a :func:`make_numbered_video` frame carries."""
    return decode_frame_number


def encode_frame_number(img: np.ndarray, i: int, *, bits: int = 10, block: int = 16) -> None:
    """Write ``i`` as black/white blocks in the top row (survives H.264 compression)."""
    for b in range(bits):
        img[0:block, b * block:(b + 1) * block] = 255 if (i >> b) & 1 else 0


def decode_frame_number(img: np.ndarray, *, bits: int = 10, block: int = 16) -> int:
    """Inverse of :func:`encode_frame_number`."""
    c = block // 2
    return sum(1 << b for b in range(bits) if img[c, b * block + c].mean() > 128)


def make_numbered_video(path: Path, *, n_frames: int = 120, width: int = 320, height: int = 192,
                        fps: int = 25, gop: int = 25) -> Path:
    """An H.264 video whose frames carry their own number (see :func:`decode_frame_number`)."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "veryfast", "g": str(gop), "bf": "3"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(n_frames):
            img = np.full((height, width, 3), 80, np.uint8)
            x = (i * 3) % (width - 20)
            img[height // 2 - 10:height // 2 + 10, x:x + 20] = (200, 60, 60)
            encode_frame_number(img, i)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def numbered_video(tmp_path_factory) -> Path:
    return make_numbered_video(tmp_path_factory.mktemp("video") / "numbered.mp4")


@pytest.fixture(scope="session")
def sample_manifest(sample_manifest_dir_env) -> Path:
    """The plugin's sample trial pair (videos + predictions), generated once per session
    into the session cache (so File > Open Sample in the tests finds it too)."""
    from napari_gaitint._napari._sample_data import ensure_sample

    return ensure_sample()


@pytest.fixture(autouse=True)
def _sample_cache(sample_manifest_dir_env):
    yield


@pytest.fixture(scope="session")
def sample_manifest_dir_env(tmp_path_factory):
    """Point the sample cache at a session folder so tests never touch ~/.cache."""
    import os

    old = os.environ.get("NAPARI_GAITINT_CACHE")
    os.environ["NAPARI_GAITINT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("NAPARI_GAITINT_CACHE", None)
    else:
        os.environ["NAPARI_GAITINT_CACHE"] = old


@pytest.fixture(scope="session")
def one_gop_video(tmp_path_factory) -> Path:
    """120 numbered frames in a single group of pictures (one key frame): the hard case."""
    return make_numbered_video(tmp_path_factory.mktemp("video") / "one_gop.mp4", gop=250)


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """Where screenshot tests save their PNGs: a temporary folder, or the README's
    ``docs/images`` when ``GAITINT_WRITE_SCREENSHOTS=1`` (to refresh the documentation)."""
    import os

    if os.environ.get("GAITINT_WRITE_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parents[2] / "docs" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path
