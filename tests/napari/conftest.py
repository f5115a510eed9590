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
    """Reads the frame number a :func:`numbered_frames` frame carries."""
    return decode_frame_number


@pytest.fixture(scope="session")
def make_numbered_frames():
    """:func:`numbered_frames`: RGB frames that carry their own number."""
    return numbered_frames


def encode_frame_number(img: np.ndarray, i: int, *, bits: int = 10, block: int = 16) -> None:
    """Write ``i`` as black/white blocks in the top row (survives H.264 compression)."""
    for b in range(bits):
        img[0:block, b * block:(b + 1) * block] = 255 if (i >> b) & 1 else 0


def decode_frame_number(img: np.ndarray, *, bits: int = 10, block: int = 16) -> int:
    """Inverse of :func:`encode_frame_number`."""
    c = block // 2
    return sum(1 << b for b in range(bits) if img[c, b * block + c].mean() > 128)


def numbered_frames(*, n_frames: int = 120, width: int = 320, height: int = 192) -> list[np.ndarray]:
    """RGB frames that carry their own number (see :func:`decode_frame_number`)."""
    frames = []
    for i in range(n_frames):
        img = np.full((height, width, 3), 80, np.uint8)
        x = (i * 3) % (width - 20)
        img[height // 2 - 10:height // 2 + 10, x:x + 20] = (200, 60, 60)
        encode_frame_number(img, i)
        frames.append(img)
    return frames


def _numbered_video_options(gop: int) -> dict:
    return {"preset": "veryfast", "g": str(gop), "bf": "3"}


@pytest.fixture(scope="session")
def numbered_video(tmp_path_factory, video_writer) -> Path:
    """120 frames that carry their number (:func:`numbered_frames`), a key frame every 25."""
    return video_writer(tmp_path_factory.mktemp("video") / "numbered.mp4", numbered_frames(),
                        options=_numbered_video_options(25))


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
def one_gop_video(tmp_path_factory, video_writer) -> Path:
    """120 numbered frames in a single group of pictures (one key frame): the hard case."""
    return video_writer(tmp_path_factory.mktemp("video") / "one_gop.mp4", numbered_frames(),
                        options=_numbered_video_options(250))


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
