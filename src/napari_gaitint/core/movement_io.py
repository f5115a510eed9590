"""Cleaned poses as a `movement <https://movement.neuroinformatics.dev>`_ poses dataset.

movement keeps pose tracks as an :class:`xarray.Dataset` and saves it as netCDF. A poses
dataset has the data variables ``position`` (time, space, keypoints, individuals) and
``confidence`` (time, keypoints, individuals), the coordinates ``time`` (seconds when the
frame rate is known, else frame numbers), ``space`` (``x``, ``y``), ``keypoints`` and
``individuals``, and the attributes ``ds_type = "poses"``, ``source_software``,
``time_unit``, ``fps`` and ``source_file``. We add our per-point cleaning flags as the data
variable ``flags`` (a bit field described by the CF attributes ``flag_masks`` and
``flag_meanings``), and the DLC scorer, the video's frame size and the cleaning settings as
attributes. The file opens with :func:`xarray.open_dataset` and passes movement's validator;
movement's napari widget loads it.

movement 0.17 renamed the dimensions ``keypoints`` and ``individuals`` to ``keypoint`` and
``individual`` (0.15, the release for Python 3.11, has the plural names). The dataset gets
the names of the movement installed here, and movement 0.15's when there is none
(``movement.io.load.rename_legacy_dimensions`` converts those for 0.17).

Only numpy is needed to build the arrays; xarray and a netCDF library (netCDF4 or h5netcdf)
to make and save the dataset: ``pip install 'napari-gaitint[movement]'`` brings them. movement
itself is never imported (importing it reconfigures the process's warnings and logging).
"""

from __future__ import annotations

import json
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import GaitintError, InputFileError

if TYPE_CHECKING:
    import xarray as xr

    from .clean import CleanResult
    from .pose import Pose

#: How to get what this module needs, quoted in its errors.
INSTALL_HINT = "pip install 'napari-gaitint[movement]'"
#: Individual name of single-animal data, as movement's DeepLabCut loader names it.
SINGLE_INDIVIDUAL = "individual_0"
#: The movement release whose dataset layout is written when movement is not installed.
DEFAULT_MOVEMENT_VERSION = "0.15"
#: netCDF engines of xarray that write netCDF-4 files, in the order tried.
_ENGINES = (("netcdf4", "netCDF4"), ("h5netcdf", "h5netcdf"))


def movement_dims(version: str | None = None) -> tuple[str, str, str, str]:
    """Dimension names of ``position`` for a movement release (default: the one installed,
    else :data:`DEFAULT_MOVEMENT_VERSION`).

    >>> movement_dims("0.15.0"), movement_dims("0.17.0")
    (('time', 'space', 'keypoints', 'individuals'), ('time', 'space', 'keypoint', 'individual'))
    """
    if version is None:
        try:
            version = metadata.version("movement")
        except metadata.PackageNotFoundError:
            version = DEFAULT_MOVEMENT_VERSION
    major_minor = tuple(int(p) for p in (version.split(".") + ["0"])[:2] if p.isdigit())
    if major_minor >= (0, 17):
        return ("time", "space", "keypoint", "individual")
    return ("time", "space", "keypoints", "individuals")


def to_movement_dataset(poses: Pose | CleanResult, *, flags: np.ndarray | None = None,
                        movement_version: str | None = None) -> xr.Dataset:
    """A movement poses dataset of one individual's keypoints.

    Parameters
    ----------
    poses
        A :class:`~napari_gaitint.core.io.Pose`, or what
        :func:`~napari_gaitint.core.clean.clean_pose` returns (its cleaned pose, flags and
        settings are written).
    flags
        ``(n_frames, n_bodyparts)`` integer bit flags (``FLAG_*`` of
        :mod:`napari_gaitint.core.clean`) to add as the ``flags`` variable; taken from a
        clean result when not given.
    movement_version
        The movement release whose dimension names to use (see :func:`movement_dims`).

    Returns
    -------
    xarray.Dataset
        ``position`` (float64 pixels, image coordinates: they overlay the video),
        ``confidence`` (DLC likelihood; NaN for hand labels), ``flags`` (int16) when there
        are flags. ``time`` is ``frame / fps`` in seconds when the frame rate is known,
        else the frame numbers.

    Raises
    ------
    GaitintError
        If xarray is not installed.
    ValueError
        If ``flags`` does not have one value per frame and body part.
    """
    from .clean import CleanResult

    xr = _xarray()
    config = None
    if isinstance(poses, CleanResult):
        flags = poses.flags if flags is None else flags
        config = poses.config
        pose = poses.pose
    else:
        pose = poses
    n_frames, n_parts = pose.values.shape[:2]
    time_dim, space_dim, part_dim, ind_dim = movement_dims(movement_version)
    # (time, keypoints, xy) -> (time, space, keypoints, individuals)
    position = np.ascontiguousarray(pose.values[:, :, :2].transpose(0, 2, 1)[..., None])
    confidence = np.ascontiguousarray(pose.values[:, :, 2][..., None])
    frames = pose.frames
    if pose.fps:
        time, time_unit = frames / pose.fps, "seconds"
    else:
        time, time_unit = frames.astype(np.int64), "frames"
    attrs = {
        "ds_type": "poses",
        "source_software": "DeepLabCut",
        "time_unit": time_unit,
        "fps": float(pose.fps) if pose.fps else None,
        "source_file": Path(pose.source).as_posix() if pose.source is not None else None,
        "scorer": pose.scorer,
        "frame_width_px": int(pose.frame_size[0]) if pose.frame_size else None,
        "frame_height_px": int(pose.frame_size[1]) if pose.frame_size else None,
        "written_by": f"napari-gaitint {_version()}",
        "clean_config": json.dumps(config.to_dict(), default=list) if config is not None else None,
    }
    data_vars = {
        "position": ((time_dim, space_dim, part_dim, ind_dim), position),
        "confidence": ((time_dim, part_dim, ind_dim), confidence),
    }
    if flags is not None:
        flags = np.asarray(flags)
        if flags.shape != (n_frames, n_parts):
            raise ValueError(f"flags have shape {flags.shape}, expected (n_frames, n_bodyparts) = "
                             f"{(n_frames, n_parts)}")
        data_vars["flags"] = ((time_dim, part_dim, ind_dim), flags.astype(np.int16)[..., None],
                              _flag_attrs())
    return xr.Dataset(
        data_vars,
        coords={
            time_dim: time,
            space_dim: ["x", "y"],
            part_dim: list(pose.bodyparts),
            ind_dim: [pose.individual or SINGLE_INDIVIDUAL],
        },
        attrs={k: v for k, v in attrs.items() if v is not None},
    )


def save_movement_dataset(poses: Pose | CleanResult, path: str | Path, *,
                          flags: np.ndarray | None = None, overwrite: bool = False,
                          movement_version: str | None = None) -> Path:
    """Write :func:`to_movement_dataset` of ``poses`` to a netCDF file, atomically.

    Open it with ``xarray.open_dataset(path)``; movement's napari widget loads it
    ("movement (netCDF)").

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
    InputFileError
        If ``path`` does not end in ``.nc``.
    GaitintError
        If xarray or a netCDF library (netCDF4, h5netcdf) is not installed.

    Examples
    --------
    >>> from napari_gaitint.core.clean import clean_pose
    >>> result = clean_pose(load_pose("T01_C1DLC.h5", fps=25))  # doctest: +SKIP
    >>> save_movement_dataset(result, "T01_C1_cleaned.nc")  # doctest: +SKIP
    """
    from ._files import write_atomic

    path = Path(path)
    if path.suffix.lower() != ".nc":
        raise InputFileError(path, "a movement dataset is saved as netCDF: give a name ending in .nc")
    engine = _engine()
    ds = to_movement_dataset(poses, flags=flags, movement_version=movement_version)
    return write_atomic(path, lambda tmp: ds.to_netcdf(tmp, engine=engine), overwrite=overwrite)


def _flag_attrs() -> dict:
    """CF attributes of the ``flags`` bit field: one mask and name per flag."""
    from .clean_flags import FLAG_MANUAL, flag_names, flag_reasons

    bits = [1 << i for i in range(FLAG_MANUAL.bit_length()) if flag_names(1 << i)]
    return {
        "long_name": "cleaning flags of each point (bit field, 0: unchanged)",
        "flag_masks": np.array(bits, dtype=np.int16),
        "flag_meanings": " ".join(flag_names(b)[0] for b in bits),
        "flag_descriptions": "; ".join(f"{flag_names(b)[0]}: {flag_reasons(b)}" for b in bits),
    }


def _xarray():
    try:
        import xarray
    except ImportError as err:
        raise GaitintError(f"writing a movement dataset needs xarray ({err}); install it with {INSTALL_HINT}") from None
    return xarray


def _engine() -> str:
    for engine, module in _ENGINES:
        if find_spec(module) is not None:
            return engine
    raise GaitintError(f"writing a movement dataset (netCDF) needs netCDF4 or h5netcdf; install them with {INSTALL_HINT}")


def _version() -> str:
    try:
        return metadata.version("napari-gaitint")
    except metadata.PackageNotFoundError:
        return "unknown"


__all__ = ["INSTALL_HINT", "movement_dims", "save_movement_dataset", "to_movement_dataset"]
