"""Trial-pair and cohort runs: load → clean → orient → events → cycles → statistics.

A *cohort* is described by a manifest ``trials.csv`` with one row per trial and view:

======== ===============================================================
column   meaning
======== ===============================================================
trial    trial name (both views of a trial share it)
view     camera name, e.g. ``C1`` (sees the left side) and ``C3`` (right)
side     ``left`` or ``right``: the body side facing that camera
predictions  DLC ``.h5``/``.csv`` file, relative to the manifest's folder
video    optional video file (relative), for napari
events   optional events.csv with hand-edited events (else they are detected; a
         ``<trial>_events.csv`` saved by the napari annotator next to the predictions is
         used when this column is empty)
fps      frame rate in Hz
width    video width in pixels (needed to mirror / re-base x)
height   video height in pixels
subject  optional: the person of the trial (the trials of a subject are averaged per
         view before the statistics: the subject is the repeated-measures unit)
px_per_m optional: the view's scale in pixels per metre on the walkway (lengths and
         speeds in metres; cycles in metres with ``cycles_units = "m"``)
======== ===============================================================

Spreadsheets may save it with ``;`` or tab separators, decimal commas, a byte-order mark,
CRLF, headers in any case and Windows separators in the paths: every entry point reads it
through :func:`napari_gaitint.core.manifest.read_manifest` (see docs/manifest.md).

Every parameter of a run lives in :class:`AnalysisConfig`, which is read from and written to
TOML so a run can be repeated exactly (``config.toml`` is written next to the results).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
import tomllib
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ._csv import write_csv
from ._files import write_atomic, write_text_atomic
from .angles import ANGLE_AXIS
from .errors import AnalysisError, GaitintError, GaitintWarning, InputFileError, OutputExistsError
from .io import (
    Pose,
    align_view_lengths,
    dlc_metadata_path,
    load_pose,
    save_pose,
    side_of_view,
    validate_fps,
    validate_time_series,
    write_dlc_metadata,
)
from .manifest import MANIFEST_COLUMNS, read_manifest

# ---------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------
#: Units of the x and y cycle curves (``AnalysisConfig.cycles_units``).
CYCLES_UNITS = ("px", "m")
#: Unit of the joint-angle curves (``axis`` ``angle``) in the cycle tables.
ANGLE_UNIT = "deg"


@dataclasses.dataclass(frozen=True)
class AnalysisConfig:
    """Every setting of an analysis run, in physical units.

    Parameters
    ----------
    clean
        Keyword arguments of :class:`napari_gaitint.core.clean.CleanConfig`.
    events_method, events_reference
        Event detector (see :func:`napari_gaitint.core.events.detect_events`) and the body
        reference it uses.
    cycles_reference
        Body part that x of the limbs is expressed relative to in the cycles.
    level_floor
        Level each view's floor before events and cycles: a camera rolled about its axis
        tilts the floor, heights and limb positions differently in the two views
        (:func:`napari_gaitint.core.orient.orient_pose`). The fitted tilt is reported as
        ``floor_tilt_deg`` in the parameters.
    n_points
        Samples per normalised cycle (101 → 0, 1, ..., 100 %).
    correction
        Multiple-comparison correction across the ANOVA tests (``None``, ``"holm"``,
        ``"fdr_bh"``).
    stats_engine
        ``"numpy"`` (vectorised RM-ANOVA) or ``"pingouin"`` (:func:`pingouin.rm_anova`);
        identical results, see :func:`napari_gaitint.core.stats.rm_anova`.
    bodyparts
        Mapping from our roles (neck, hip, knee, ankle, heel, toe) to the file's names.
    px_per_m
        Pixel scale (pixels per metre) of every view, for stride and step lengths and speed
        in metres (``None``: pixels only). A ``px_per_m`` in the manifest (per view, e.g.
        from the napari calibration) takes precedence.
    cycles_units
        Unit of the x and y cycle curves: ``"px"`` (image pixels, the default) or ``"m"``
        (each view's pixels divided by its ``px_per_m``, which every view then needs). Joint
        angles are in degrees either way.
    n_jobs
        Processes for per-trial work and for formatting large CSV tables (1: in this
        process; 0 or less: all cores).
    scheduler
        Address of a dask.distributed scheduler (``tcp://host:port``) to run the per-trial
        work on, or ``None`` for local.
    """

    clean: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    events_method: str | None = None
    events_reference: str | None = None
    cycles_reference: str | None = None
    level_floor: bool = True
    n_points: int = 101
    correction: str | None = None
    stats_engine: str = "numpy"
    bodyparts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    px_per_m: float | None = None
    cycles_units: str = "px"
    n_jobs: int = 1
    scheduler: str | None = None

    def to_dict(self) -> dict:
        """Plain dict (TOML-ready: ``None`` values are left out)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            out[f.name] = dict(v) if isinstance(v, Mapping) else v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: Path | None = None) -> AnalysisConfig:
        """Build from a dict (e.g. parsed TOML); unknown keys are an error naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputFileError(
                source, f"unknown setting(s) {unknown}; known settings are {sorted(names)}"
            )
        cfg = cls(**dict(data))
        cfg.clean_config()  # validate the cleaning keywords early
        if cfg.cycles_units not in CYCLES_UNITS:
            raise InputFileError(source, f"cycles_units must be one of {list(CYCLES_UNITS)}, not {cfg.cycles_units!r}")
        if cfg.px_per_m is not None and not (isinstance(cfg.px_per_m, (int, float)) and cfg.px_per_m > 0):
            raise InputFileError(source, f"px_per_m must be a positive number of pixels per metre, not {cfg.px_per_m!r}")
        return cfg

    def resolved(self) -> AnalysisConfig:
        """The same settings with every cleaning default and the event detector written out:
        what a run records in its ``config.toml``, so that it repeats exactly with a later
        version whose defaults differ (``None`` values, such as ``margin_px`` from the leg
        length, stay implicit)."""
        from .event_methods import DEFAULT_METHOD

        clean = {k: v for k, v in dataclasses.asdict(self.clean_config()).items() if v is not None}
        return dataclasses.replace(self, clean=clean, events_method=self.events_method or DEFAULT_METHOD,
                                   cycles_reference=self.cycles_reference or _default_cycles_reference())

    def clean_config(self):
        """The :class:`~napari_gaitint.core.clean.CleanConfig` these settings describe."""
        from .clean import CleanConfig

        try:
            return CleanConfig(**dict(self.clean))
        except TypeError as err:
            names = [f.name for f in dataclasses.fields(CleanConfig)]
            raise GaitintError(f"bad [clean] setting ({err}); known: {names}") from err

    def events_kwargs(self) -> dict:
        """Keyword arguments for ``detect_events`` (only the ones set)."""
        kw = {}
        if self.events_method:
            kw["method"] = self.events_method
        if self.events_reference:
            kw["reference"] = self.events_reference
        return kw

    def cycles_kwargs(self) -> dict:
        """Keyword arguments for ``compute_cycles`` (only the ones set)."""
        kw = {"n_points": self.n_points}
        if self.cycles_reference:
            kw["reference"] = self.cycles_reference
        return kw

    def view_px_per_m(self, row: Mapping | None = None) -> float | None:
        """The scale of a manifest row's view: its ``px_per_m`` cell, else the setting."""
        value = row.get("px_per_m") if row is not None else None
        if value is not None and pd.notna(value):
            return float(value)
        return float(self.px_per_m) if self.px_per_m else None


def _default_cycles_reference() -> str:
    """The body part x is relative to in the cycles when the settings name none (the
    default of :func:`~napari_gaitint.core.cycles.compute_cycles`)."""
    import inspect

    from .cycles import compute_cycles

    return inspect.signature(compute_cycles).parameters["reference"].default


def load_config(path: str | Path) -> AnalysisConfig:
    """Read an :class:`AnalysisConfig` from a TOML file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "config file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputFileError(path, f"not valid TOML ({err})") from err
    return AnalysisConfig.from_dict(data, source=path)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def config_to_toml(config: AnalysisConfig) -> str:
    """TOML text of a config (tables for the mapping settings)."""
    data = config.to_dict()
    lines = ["# napari-gaitint analysis settings (gaitint analyze --config this-file)"]
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for k, v in data.items():
        if k not in tables:
            lines.append(f"{k} = {_toml_value(v)}")
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        for k, v in table.items():
            if v is not None:
                lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------------------
_VIEW_TOKEN = re.compile(r"(?<![A-Za-z0-9])(C\d+)(?![0-9])", re.IGNORECASE)
#: Files in a predictions folder that are not DLC predictions of a video (ours, DLC labels).
_NOT_PREDICTIONS = re.compile(r"(_cleaned|_flags|_events|_full|_meta|_mirrored)$|^(CollectedData|trials)",
                              re.IGNORECASE)


def trial_view_from_name(name: str | Path) -> tuple[str | None, str | None, str]:
    """``(trial, view, video stem)`` from a DeepLabCut output or video file name.

    DeepLabCut names predictions after the video (``<video>DLC_<scorer>...``); the view is
    the last token ``C<digits>`` of the video name standing as a word, the trial the video
    name without it. ``(None, None, video stem)`` when the name has no view.

    Examples
    --------
    >>> trial_view_from_name("T01_C1DLC_resnet50_gaitJan1shuffle1_1000.h5")
    ('T01', 'C1', 'T01_C1')
    >>> trial_view_from_name("rat5-c3-run2.mp4")[:2], trial_view_from_name("T02_C3DLC.csv")[:2]
    (('rat5-run2', 'C3'), ('T02', 'C3'))
    """
    stem = Path(name).stem
    cut = re.search(r"DLC(?=_|$)", stem)
    video_stem = stem[: cut.start()] if cut and cut.start() > 0 else stem
    matches = list(_VIEW_TOKEN.finditer(video_stem))
    if not matches:
        return None, None, video_stem
    m = matches[-1]
    head = video_stem[: m.start()]
    head = head[:-1] if head[-1:] in "_-. " and head else head
    trial = (head + video_stem[m.end():]).strip("_-. ") or video_stem
    return trial, m.group(1).upper(), video_stem


def find_trials(folder: str | Path, *, views: tuple[str, ...] = ("C1", "C3")) -> pd.DataFrame:
    """A manifest made from the file names in a folder of DeepLabCut outputs.

    DeepLabCut names its predictions after the video: ``T01_C1.mp4`` gives
    ``T01_C1DLC_<scorer>.h5`` (and ``..._filtered.h5``, ``.csv`` copies). Each prediction
    file whose video name holds a view token (``C1``, ``C3`` as a separate word:
    ``T01_C1``, ``rat5-C3-run2``) becomes a row; the trial is the video name without the
    view (``T01``, ``rat5-run2``). Per trial and view the unfiltered ``.h5`` is preferred
    (this package cleans and filters itself), then ``.csv``, then the filtered ones; among
    several scorers the newest file. The video of the same name, when it is in the folder,
    fills the ``video`` column (frame rate and size are read from it). ``attrs["notes"]``
    says which files were passed over and why.

    Raises
    ------
    InputFileError
        If the folder does not exist or holds no prediction file named that way.

    Examples
    --------
    >>> find_trials("my_dlc_outputs")  # doctest: +SKIP
      trial view  side                               predictions                video  ...
    0   T01   C1   NaN  /data/my_dlc_outputs/T01_C1DLC_resnet50_gaitJan1shuffle1_100000.h5  .../T01_C1.mp4
    """
    from .video import VIDEO_SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "not a folder")
    wanted = {v.upper() for v in views}
    files = sorted(p for p in folder.iterdir() if p.is_file())
    videos = {p.stem: p for p in files if p.suffix.lower() in VIDEO_SUFFIXES}
    found: dict[tuple[str, str], list] = {}
    notes = []
    for path in files:
        if path.suffix.lower() not in (".h5", ".csv") or _NOT_PREDICTIONS.search(path.stem):
            continue
        trial, view, video_stem = trial_view_from_name(path.name)
        if view is None:
            continue
        if view not in wanted:
            notes.append(f"{path.name}: view {view} is not one of {', '.join(sorted(wanted))}")
            continue
        filtered = "filtered" in path.stem[len(video_stem):].lower()
        rank = (filtered, path.suffix.lower() != ".h5", -path.stat().st_mtime)
        found.setdefault((trial, view), []).append((rank, path, videos.get(video_stem)))
    if not found:
        raise InputFileError(
            folder, "no trials.csv and no DeepLabCut predictions named like T01_C1DLC_<scorer>.h5 "
            "(a view token C1/C3 in the video name); write a trials.csv (columns trial, view, "
            "predictions, video)"
        )
    rows = []
    for (trial, view), options in sorted(found.items()):
        options.sort(key=lambda o: o[0])
        _, path, video = options[0]
        for _, other, _ in options[1:]:
            notes.append(f"{trial} {view}: used {path.name}, not {other.name}")
        rows.append({"trial": trial, "view": view, "side": np.nan, "predictions": str(path.resolve()),
                     "video": str(video.resolve()) if video is not None else np.nan,
                     "fps": np.nan, "width": np.nan, "height": np.nan, "individual": np.nan,
                     "subject": np.nan, "px_per_m": np.nan})
    table = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    table.attrs["notes"] = notes
    return table


def write_manifest(table: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a manifest (e.g. from :func:`find_trials`) as ``trials.csv``, file paths relative
    to its folder where possible; an existing file is kept unless ``overwrite``."""
    path = Path(path)
    cols = [c for c in MANIFEST_COLUMNS if c in table.columns]
    out = table[cols].copy()
    for col in ("predictions", "video"):
        out[col] = [_relative(p, path.parent) if isinstance(p, str) and p else p for p in out[col]]
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(path, out, overwrite=overwrite)


def _relative(file: str, base: Path) -> str:
    try:
        return Path(os.path.relpath(Path(file).resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(file)


def load_manifest(path: str | Path) -> pd.DataFrame:
    """Read ``trials.csv`` (or the ``trials.csv`` inside a folder) with absolute file paths.

    The file may come from a spreadsheet (``;`` or tab separators, decimal commas, a
    byte-order mark, CRLF, ``Trial `` headers, Windows separators in paths): see
    :func:`napari_gaitint.core.manifest.read_manifest`. A folder without ``trials.csv`` is
    read by file name (:func:`find_trials`); ``attrs["found_by_name"]`` is then True.

    Raises
    ------
    InputFileError
        If the file is missing or cannot be read, lacks columns, or names prediction files
        that do not exist; the message names the row and column.
    """
    path = Path(path)
    found_by_name = False
    if path.is_dir():
        if (path / "trials.csv").is_file():
            path = path / "trials.csv"
        else:
            df = find_trials(path)
            found_by_name, notes = True, df.attrs.get("notes", [])
            path = path / "trials.csv"  # (not written: paths are absolute already)
    if not found_by_name:
        df = read_manifest(path)
    # Events edited in napari are saved as <trial>_events.csv next to the predictions; a run
    # uses them (for the views and sides they cover) unless the manifest names a file.
    found = [_saved_events(row) for _, row in df.iterrows()]
    df["events_auto"] = [f is not None and not isinstance(row.get("events"), str)
                         for f, (_, row) in zip(found, df.iterrows(), strict=True)]
    df["events"] = pd.Series(
        [row.get("events") if isinstance(row.get("events"), str) else (f or np.nan)
         for f, (_, row) in zip(found, df.iterrows(), strict=True)],
        index=df.index, dtype=object,
    )
    df.attrs["path"] = str(path)
    df.attrs["found_by_name"] = found_by_name
    if found_by_name:
        df.attrs["notes"] = notes
    return df


def _saved_events(row: pd.Series) -> str | None:
    pred = row.get("predictions")
    if not isinstance(pred, str):
        return None
    path = Path(pred).parent / f"{row['trial']}_events.csv"
    return str(path) if path.is_file() else None


def row_individual(row: pd.Series) -> str | None:
    """The manifest row's ``individual`` (multi-animal files), None when not given."""
    individual = row.get("individual")
    return individual if isinstance(individual, str) and individual.strip() else None


def _side_for(row: pd.Series) -> str:
    side = side_of_view(str(row["view"]), row.get("side"))
    if side is not None:
        return side
    raise InputFileError(row["predictions"], f"manifest gives no side (left/right) for view {row['view']!r}")


# ---------------------------------------------------------------------------------------
# one trial pair
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class ViewResult:
    """What the pipeline made of one view of one trial."""

    trial: str
    view: str
    side: str
    raw: Pose
    cleaned: Pose  # image coordinates (overlays the video)
    oriented: Pose  # gait coordinates (x with progression, y up)
    clean: Any  # CleanResult: flags and counts
    events: pd.DataFrame
    cycles: pd.DataFrame  # per cycle, long
    parameters: pd.DataFrame


def _load_view(row: pd.Series, config: AnalysisConfig) -> Pose:
    fps = validate_fps(row["fps"], source=row["predictions"]) if pd.notna(row.get("fps")) else None
    pose = load_pose(row["predictions"], bodyparts=config.bodyparts or {}, fps=fps, side=_side_for(row),
                     individual=row_individual(row))
    validate_time_series(pose, task="gait analysis (cleaning, events, cycles)")
    if pd.notna(row.get("width")) and pd.notna(row.get("height")):
        pose.frame_size = (int(row["width"]), int(row["height"]))
    elif isinstance(row.get("video"), str):
        from .video import probe_video

        info = probe_video(row["video"])
        pose.frame_size = (info.width, info.height)
        pose.fps = pose.fps or info.fps
    if pose.frame_size is None:
        raise InputFileError(row["predictions"], "frame size unknown: give width and height in the manifest")
    if pose.fps is None:
        raise InputFileError(row["predictions"], "frame rate unknown: give fps in the manifest")
    return pose


def _edited_events(row: pd.Series, side: str, fps: float) -> pd.DataFrame | None:
    """Events edited by hand (manifest column ``events``: an events.csv), or None to detect.

    The file may hold several trials and views (columns ``trial``, ``view``); the rows of this
    trial, view and side are used as they are (``source`` detected or manual)."""
    path = row.get("events")
    if not isinstance(path, str) or not path:
        return None
    from .annotations import load_events

    ev = load_events(path)
    for col in ("trial", "view"):
        if col in ev.columns and ev[col].astype(str).str.len().gt(0).any():
            ev = ev[ev[col].astype(str) == str(row[col])]
    ev = ev[ev["side"] == side]
    if ev.empty and row.get("events_auto") is True:
        return None  # a saved file that does not cover this view: detect as usual
    if ev.empty:
        raise AnalysisError(
            f"{path}: no {side} events for trial {row['trial']} view {row['view']}; "
            "remove the events column to detect them"
        )
    ev = ev.sort_values("frame").reset_index(drop=True)
    ev["time_s"] = ev["frame"] / fps
    keep = [c for c in ("side", "event", "frame", "time_s", "source") if c in ev.columns]
    return ev[keep]


def analyze_trial(rows: pd.DataFrame, config: AnalysisConfig | None = None) -> list[ViewResult]:
    """Run clean → orient → events → cycles on the views of one trial.

    Parameters
    ----------
    rows
        The manifest rows of one trial (one per view; two for a trial pair).
    config
        Settings; defaults when None.

    Notes
    -----
    Each view is cleaned with the other view's predictions as the far-leg reference.
    """
    from .clean import clean_pose
    from .cycles import compute_cycles, compute_parameters
    from .events import detect_events
    from .orient import orient_pose

    config = config or AnalysisConfig()
    clean_cfg = config.clean_config()
    rows = rows.reset_index(drop=True)
    poses = [_load_view(row, config) for _, row in rows.iterrows()]
    if len(poses) == 2:
        poses = list(align_view_lengths(poses[0], poses[1], trim=True))
    views = []
    for i, row in rows.iterrows():
        pose = poses[i]
        other = poses[1 - i] if len(poses) == 2 else None
        side = _side_for(row)
        try:
            cleaned = clean_pose(pose, other=other, config=clean_cfg)
        except AnalysisError as err:
            if other is None:
                raise
            # the views cannot be aligned (other view empty, not walking...): this view is
            # still usable on its own, with the single-view wrong-limb check
            warnings.warn(f"{err} Cleaned {row['view']} without the other view.", GaitintWarning,
                          stacklevel=2)
            cleaned = clean_pose(pose, other=None, config=clean_cfg)
        oriented = orient_pose(cleaned.pose, level=config.level_floor)
        events = _edited_events(row, side, pose.fps)
        if events is None:  # the cleaning's flags lower the confidence of events they touch
            events = detect_events(oriented, side=side, fps=pose.fps, flags=cleaned.flags,
                                   **config.events_kwargs())
        cycles = compute_cycles(oriented, events, side=side, px_per_m=_cycles_scale(row, config),
                                **config.cycles_kwargs())
        cycles = _with_angle_cycles(cycles, oriented, events, side, config)
        views.append((row, pose, side, cleaned, oriented, events, cycles))
    results = []
    for i, (row, pose, side, cleaned, oriented, events, cycles) in enumerate(views):
        steps = _steps(views[i], views[1 - i]) if len(views) == 2 else None
        px_per_m = config.view_px_per_m(row)
        params = compute_parameters(oriented, events, side=side, fps=pose.fps, px_per_m=px_per_m,
                                    steps=steps)
        tilt = oriented.meta["orientation"]["tilt_deg"]
        params["floor_tilt_deg"] = np.nan if tilt is None else tilt
        if px_per_m is not None:
            params["px_per_m"] = px_per_m
        results.append(
            ViewResult(
                trial=str(row["trial"]), view=str(row["view"]), side=side, raw=pose,
                cleaned=cleaned.pose, oriented=oriented, clean=cleaned, events=events,
                cycles=cycles, parameters=params,
            )
        )
    return results


def _cycles_scale(row: pd.Series, config: AnalysisConfig) -> float | None:
    """The px_per_m the view's cycles are divided by (None: cycles in pixels)."""
    if config.cycles_units == "px":
        return None
    px_per_m = config.view_px_per_m(row)
    if px_per_m is None:
        raise AnalysisError(
            f"view {row['view']}: cycles_units = 'm' needs its scale: give px_per_m in the manifest "
            "(or calibrate the view in napari), or px_per_m in the config"
        )
    return px_per_m


def _with_angle_cycles(cycles: pd.DataFrame, oriented: Pose, events: pd.DataFrame, side: str,
                       config: AnalysisConfig) -> pd.DataFrame:
    """The position cycles with the joint angles of the same cycles appended to each
    (``bodypart`` = joint, ``axis`` = ``angle``, degrees); unchanged when the pose lacks the
    keypoints of every angle."""
    from .angles import append_angle_cycles, compute_angle_cycles

    try:
        angles = compute_angle_cycles(oriented, events, side=side, cycles=cycles, n_points=config.n_points)
    except AnalysisError:
        return cycles
    return append_angle_cycles(cycles, angles)


def _steps(view: tuple, other: tuple) -> pd.DataFrame | None:
    """The steps of ``view``'s leg with the other leg from ``other``'s camera (both legs
    seen and the cameras matched frame by frame), else None (steps from strides)."""
    from .cycles import compute_steps

    _, pose, side, cleaned, oriented, events, _ = view
    _, _, other_side, _, other_oriented, other_events, _ = other
    align = cleaned.summary.get("alignment")
    if side == other_side or not align or align.get("lag_beyond_range"):
        return None
    return compute_steps(oriented, events, other_oriented, other_events, side=side, other_side=other_side,
                         fps=pose.fps, lag_frames=align.get("lag_frames", 0))


# ---------------------------------------------------------------------------------------
# cohorts
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class CohortResult:
    """Tables of a cohort run and where they were written.

    ``cycles`` and ``cycles_all`` are ordered by trial, then view; their text columns
    (``trial, view, side, bodypart, axis``) are pandas categoricals (they compare, group and
    write to CSV as the strings; ``df.astype({"trial": str})`` gives plain strings).
    """

    out_dir: Path | None
    events: pd.DataFrame
    cycles: pd.DataFrame  # per-trial mean cycles, long
    cycles_all: pd.DataFrame  # every cycle, long
    parameters: pd.DataFrame
    anova: pd.DataFrame | None
    problems: pd.DataFrame
    files: dict[str, Path] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    resumed_trials: int = 0

    @property
    def failed(self) -> bool:
        """True when no trial gave a gait cycle: nothing for the statistics, only problems."""
        return self.cycles.empty

    def summary(self) -> str:
        """A few human lines: counts, problems, where the files are."""
        n_trials = self.cycles["trial"].nunique() if len(self.cycles) else 0
        lines = [
            f"analysed {n_trials} trial(s): {len(self.events)} events, "
            f"{_count_cycles(self.cycles_all)} gait cycles in {self.seconds:.1f} s",
        ]
        if len(self.problems):
            lines.append(f"{len(self.problems)} problem(s), see problems.csv:")
            for _, p in self.problems.head(5).iterrows():
                lines.append(f"  {p['trial']} {p['view']}: {p['problem']}")
        if self.anova is not None and len(self.anova):
            sig = self.anova[(self.anova["effect"] == "perspective") & (self.anova["p_unc"] < 0.05)]
            units = f"{int(self.anova['n'].max())} trials"
            if self.anova.attrs.get("unit") == "subject":
                units = f"{int(self.anova['n'].max())} subjects ({int(self.anova['n_trials'].max())} trials)"
            lines.append(
                f"RM-ANOVA on {units}: perspective effect p<0.05 for "
                f"{len(sig)} of {int((self.anova['effect'] == 'perspective').sum())} body part/axis tests"
            )
        shown = {k: v for k, v in self.files.items() if not k.startswith("figure_")}
        figures = [v for k, v in self.files.items() if k.startswith("figure_")]
        if figures:
            shown["figures"] = f"{figures[0].parent} ({len(figures)} files)"
        if self.out_dir is not None:
            lines.append(f"results in {self.out_dir}:")
        for name, path in shown.items():
            lines.append(f"  {name:<18} {path}")
        return "\n".join(lines)


def _count_cycles(cycles_all: pd.DataFrame) -> int:
    """The number of distinct ``(trial, view, cycle)`` of ``cycles_all``.

    As a groupby over them counts them, but the groupby runs only over the rows where one
    of them changes (the first rows of the cycles: thousands, not millions of rows).
    """
    keys = ["trial", "view", "cycle"]
    if not len(cycles_all):
        return 0
    change = np.zeros(len(cycles_all), dtype=bool)
    change[0] = True
    for k in keys:
        col = cycles_all[k]
        a = col.array.codes if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
        change[1:] |= a[1:] != a[:-1]
    firsts = cycles_all.iloc[np.flatnonzero(change)][keys]
    return int(firsts.groupby(keys, observed=True).ngroups)


def _trial_job(args) -> tuple[list[dict], list[dict]]:
    """Per-trial work, in a form that pickles (for processes and dask)."""
    from ._threads import single_thread_blas

    trial, rows, config = args
    with warnings.catch_warnings(record=True) as caught, single_thread_blas():
        warnings.simplefilter("always", GaitintWarning)
        try:
            results = analyze_trial(rows, config)
        except GaitintError as err:
            return [], [{"trial": trial, "view": "", "problem": str(err)}]
    notes = [
        {"trial": trial, "view": "", "problem": f"warning: {w.message}"}
        for w in caught
        if issubclass(w.category, GaitintWarning)
    ]
    return [_result_tables(r) for r in results], notes


def _result_tables(r: ViewResult) -> dict:
    """A view's tables for the cohort. The cycles stay without trial and view columns (added
    once, as categoricals, by :func:`_collect`: ~10 million rows at 2 000 pairs)."""
    def tag(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.insert(0, "view", r.view)
        df.insert(0, "trial", r.trial)
        return df

    return {
        "trial": r.trial,
        "view": r.view,
        "cleaned": r.cleaned,
        "clean": r.clean,
        "events": tag(r.events),
        "cycles": r.cycles,
        "parameters": tag(r.parameters if isinstance(r.parameters, pd.DataFrame) else pd.DataFrame([r.parameters])),
    }


def _map_jobs(jobs: list, config: AnalysisConfig, progress: bool) -> Iterable:
    if config.scheduler:
        from .distributed import map_on_dask

        yield from map_on_dask(_trial_job, jobs, address=config.scheduler, progress=progress)
        return
    from ._threads import available_cpus

    n_jobs = config.n_jobs if config.n_jobs > 0 else available_cpus()
    bar = _progress(len(jobs), progress, "trials")
    if n_jobs == 1 or len(jobs) < 4:
        from ._threads import single_thread_blas

        # one BLAS limit for the whole loop (each trial's own then does nothing); the
        # caller's work between trials (saving the partial results) runs inside it too
        with single_thread_blas():
            for job in jobs:
                yield _trial_job(job)
                bar.update()
    else:
        from concurrent.futures import ProcessPoolExecutor

        from ._threads import limit_worker_process

        _import_steps()  # once here: forked workers start with them (else each imports them)
        pool = ProcessPoolExecutor(max_workers=min(n_jobs, len(jobs)), initializer=limit_worker_process)
        try:
            for out in pool.map(_trial_job, jobs, chunksize=_chunksize(len(jobs), n_jobs)):
                yield out
                bar.update()
        finally:
            # when the caller stops early (an error, Ctrl-C) the queued trials are dropped:
            # only the chunks under way are waited for, not the rest of the cohort
            pool.shutdown(wait=True, cancel_futures=True)
    bar.close()


def _import_steps() -> None:
    """Import the modules of the per-trial steps (scipy.signal and .interpolate among them:
    ~0.5 s), which :func:`analyze_trial` imports on first use."""
    from . import angles, clean, cycles, events, orient  # noqa: F401


#: Most trials a worker process takes at a time: the results come back in chunks, so this
#: bounds how long the first ones (and progress, and writing) wait, and how long an early
#: stop waits for the chunks under way.
_MAX_CHUNK = 16


def _chunksize(n_trials: int, n_workers: int) -> int:
    return max(1, min(_MAX_CHUNK, n_trials // (8 * n_workers)))


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _progress(total: int, enabled: bool, unit: str):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, leave=False)


def analyze_cohort(
    manifest: str | Path | pd.DataFrame,
    out_dir: str | Path | None = None,
    *,
    config: AnalysisConfig | None = None,
    overwrite: bool = False,
    strict: bool = False,
    progress: bool = False,
    stats: bool = True,
    report: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> CohortResult:
    """Analyse every trial of a manifest and run the statistics.

    Trials that fail (unreadable file, no events, no full cycle...) are skipped and listed in
    ``problems`` (``problems.csv``) unless ``strict``, which raises the first problem.
    With ``out_dir`` the results are written there: ``cleaned/`` (DLC layout + flag tables,
    written as each trial's results come in; a file there that neither this run nor the
    interrupted run it resumes made stops it with :class:`OutputExistsError`, after removing
    the files both wrote there), ``events.csv``, ``cycles.csv`` (per-trial means: trial, view, side,
    bodypart, axis, pct, value), ``cycles_all.csv``, ``parameters.csv``, ``anova.csv``,
    ``problems.csv``, ``config.toml`` and the HTML report. Existing results are not replaced
    unless ``overwrite``, or unless the interrupted run this one resumes had begun writing them.
    An interrupted run resumes from the trials it finished (kept in ``.gaitint-partial/``, with
    the list of files it wrote). A run in which no trial gives a gait cycle
    (:attr:`CohortResult.failed`) writes only ``problems.csv``, ``config.toml`` (and the
    cleaned/ files of the views it could clean) and lists them there too, so the next run in
    the same folder (the corrected one) replaces them instead of refusing to start.
    """
    t0 = time.perf_counter()
    config = config or AnalysisConfig()
    table = manifest if isinstance(manifest, pd.DataFrame) else load_manifest(manifest)
    subjects = _subjects(table)  # (a table with subjects on some trials only: refused before any work)
    out_dir = Path(out_dir) if out_dir is not None else None
    cache = _TrialCache(out_dir / _CACHE_DIR if out_dir is not None else None, config)
    # the files an interrupted run of this analysis wrote (or was writing) are ours to replace
    ours = cache.claimed()
    final_overwrite = overwrite or _FINAL_CLAIM in ours
    if out_dir is not None:
        _check_outputs(out_dir, final_overwrite, ours)
    jobs = [(str(t), rows, config) for t, rows in table.groupby("trial", sort=True)]
    all_views = sorted(table["view"].astype(str).unique())
    cleaned_dir = out_dir / _CLEANED_DIR if out_dir is not None else None
    cleaned_names = _cleaned_names(table)
    outputs: dict[str, tuple[list[dict], list[dict]]] = {}
    todo = []
    for job in jobs:
        hit = cache.get(job)
        if hit is not None and all(_cleaned_written(v, cleaned_dir, cleaned_names) for v in hit[0]):
            outputs[job[0]] = hit
        else:
            todo.append(job)
    made: list[Path] = []
    for job, out in zip(todo, _map_jobs(todo, config, progress), strict=True):
        views, probs = out
        if strict and not views and probs:
            raise AnalysisError(f"trial {probs[0]['trial']}: {probs[0]['problem']}")
        try:
            for v in views:
                # written as each trial arrives (while the workers go on with the others),
                # then freed: the cleaned poses are only kept to be written
                if cleaned_dir is not None:
                    _write_cleaned(v, cleaned_dir, cleaned_names, made, cache, ours,
                                   overwrite=overwrite)
                v.pop("cleaned", None)
                v.pop("clean", None)
        except OutputExistsError:
            # a file neither this run nor the one it resumes made: take back what both wrote
            # in cleaned/ and the cache (a later run would take the files left for someone's)
            if not overwrite:
                theirs = [out_dir / n for n in ours if n.startswith(f"{_CLEANED_DIR}/")]
                for path in [*made, *theirs]:
                    path.unlink(missing_ok=True)
            cache.clear()
            raise
        cache.put(job, out)  # an interrupted run resumes from here
        outputs[job[0]] = out
        if on_progress is not None:
            on_progress(len(outputs), len(jobs))
    per_view = [v for job in jobs for v in outputs[job[0]][0]]
    problems = [p for job in jobs for p in outputs[job[0]][1]]
    for trial, rows, _ in jobs:
        lacking = [v for v in all_views if v not in set(rows["view"].astype(str))]
        if lacking:
            problems.append({"trial": trial, "view": ",".join(lacking),
                             "problem": f"the manifest has no {' or '.join(lacking)} view for this trial"})
    # (moves the cycle tables out of per_view)
    result = _collect(per_view, problems, config, subjects)
    result.resumed_trials = len(jobs) - len(todo)
    if out_dir is not None:
        cache.claim([_FINAL_CLAIM])
        _write_results(result, per_view, out_dir, config, overwrite=final_overwrite, stats=stats,
                       report=report, ours=ours)
        cache.clear()
        if result.failed:
            # nothing to show but the reasons: the next run in this folder (the corrected
            # one) replaces what this one wrote instead of refusing it
            written = {p.relative_to(out_dir).as_posix() for p in [*result.files.values(), *made]}
            written |= {n for n in ours if n != _FINAL_CLAIM}
            cache.claim(sorted(n for n in written if (out_dir / n).is_file()))
    elif stats:
        result.anova = _run_stats(result, config)
    result.seconds = time.perf_counter() - t0
    return result


_CACHE_DIR = ".gaitint-partial"
_CLEANED_DIR = "cleaned"  # in the output folder: the views' cleaned predictions and flag tables
_CACHE_FORMAT = 4  # of the pickled per-trial results: entries of another format are not read
_CLAIMS = "written.txt"  # in the cache folder: the output files the run writes, one per line
_FINAL_CLAIM = "*"  # claimed before the tables, figures and report are written


class _TrialCache:
    """Per-trial results of an unfinished run, so that a re-run after Ctrl-C or a kill
    resumes instead of starting over. Keyed by the settings, the manifest rows and the
    size and modification time of the input files; removed when the run completes.

    It also lists the output files the run writes (:meth:`claim`, before writing each), so
    that the run resuming it replaces those and no file of anyone else's.
    """

    def __init__(self, folder: Path | None, config: AnalysisConfig):
        self.folder = folder
        self.config_text = config_to_toml(config)

    def _path(self, job) -> Path | None:
        if self.folder is None:
            return None
        import hashlib

        trial, rows, _ = job
        h = hashlib.sha256(f"{_CACHE_FORMAT}\n{self.config_text}".encode())
        h.update(rows.to_csv(index=False).encode())
        files = [f for col in ("predictions", "video", "events") if col in rows for f in rows[col]]
        for f in files:
            if isinstance(f, str) and os.path.exists(f):
                st = os.stat(f)
                h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
        return self.folder / f"{h.hexdigest()[:24]}.pkl"

    def get(self, job):
        path = self._path(job)
        if path is None or not path.is_file():
            return None
        import pickle

        try:
            return pickle.loads(path.read_bytes())
        except Exception:  # a damaged cache entry is recomputed
            return None

    def put(self, job, out) -> None:
        path = self._path(job)
        if path is None:
            return
        import pickle

        write_atomic(path, lambda tmp: tmp.write_bytes(pickle.dumps(out)), overwrite=True)

    def claim(self, names: Sequence[str]) -> None:
        """Record that the run is about to write these files (paths relative to the output
        folder, as posix; :data:`_FINAL_CLAIM` for the tables, figures and report)."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / _CLAIMS, "a", encoding="utf-8") as f:
            f.write("".join(f"{n}\n" for n in names))

    def claimed(self) -> set[str]:
        """The files claimed by the interrupted run this one resumes (none without one)."""
        if self.folder is None:
            return set()
        try:
            text = (self.folder / _CLAIMS).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return set()
        return set(text.splitlines())

    def clear(self) -> None:
        if self.folder is not None and self.folder.is_dir():
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)


def _concat_views(per_view: list[dict], key: str, columns: Sequence[str], *,
                  release: bool = False) -> pd.DataFrame:
    """The per-view tables ``key`` one under the other, ordered by trial then view, with
    ``trial`` and ``view`` columns in front.

    Text columns come out categorical (a code per row instead of a string object: at 2 000
    trial pairs the cycle tables have ~10 million rows), with trials and views in sorted
    order; the values are the same strings, and the CSV files are unchanged. Columns that
    are categorical in every view are combined as ``union_categoricals(...,
    ignore_order=True)`` would.

    Each output column is allocated once and filled a view at a time. With ``release`` the
    tables are taken out of ``per_view`` and each view's piece of a column is freed once
    copied: the memory then grows by little more than one view's column, instead of by the
    whole output.
    """
    parts = sorted((v for v in per_view if len(v[key])), key=lambda v: (str(v["trial"]), str(v["view"])))
    tables = [v[key] for v in parts]
    if release:
        for v in per_view:
            v.pop(key, None)
    if not tables:
        return pd.DataFrame(columns=["trial", "view", *columns])
    bounds = np.cumsum([0] + [len(t) for t in tables])
    names = list(tables[0].columns)
    # the columns of every view, taken out once (a dict entry is cheap to drop; a column of a
    # DataFrame is not)
    pieces = [dict(t.items()) for t in tables]
    del tables
    out = {name: _label_column([str(v[name]) for v in parts], bounds) for name in ("trial", "view")}
    for c in names:
        fill = _ColumnFill.for_dtypes([p[c].dtype for p in pieces], bounds[-1])
        if fill is None:  # dtypes differ between views, or extension types: as pd.concat has them
            out[c] = pd.concat([p[c] for p in pieces], ignore_index=True)
        for p, a, b in zip(pieces, bounds[:-1], bounds[1:], strict=True):
            if fill is not None:
                fill.put(p[c], a, b)
            if release:
                del p[c]
        if fill is not None:
            out[c] = fill.result()
    return pd.DataFrame(out, copy=False)


def _label_column(labels: list[str], bounds: np.ndarray) -> pd.Categorical:
    """``labels[i]`` on rows ``bounds[i]:bounds[i + 1]``, as a categorical with the labels
    sorted."""
    categories, codes = np.unique(labels, return_inverse=True)
    fill = _ColumnFill(pd.CategoricalDtype(categories, ordered=False), bounds[-1])
    for code, a, b in zip(codes, bounds[:-1], bounds[1:], strict=True):
        fill.values[a:b] = code
    return fill.result()


class _ColumnFill:
    """An output column of :func:`_concat_views`: allocated once, filled a view at a time.

    ``dtype`` is a numpy dtype or a :class:`pandas.CategoricalDtype` (then ``values`` holds
    the codes, in the integer type pandas keeps for that many categories).
    """

    def __init__(self, dtype: np.dtype | pd.CategoricalDtype, n_rows: int):
        self.dtype = dtype
        self.categorical = isinstance(dtype, pd.CategoricalDtype)
        if self.categorical:
            code = pd.Categorical.from_codes(np.empty(0, dtype=np.int8), dtype=dtype).codes.dtype
            self.values = np.empty(n_rows, dtype=code)
            self._recode: dict[tuple, np.ndarray] = {}  # by a piece's categories, in order
        else:
            self.values = np.empty(n_rows, dtype=dtype)

    @classmethod
    def for_dtypes(cls, dtypes: list, n_rows: int) -> _ColumnFill | None:
        """The column for pieces of these dtypes: categorical if all are (the categories of
        ``union_categoricals(..., ignore_order=True)``), else their numpy number type if
        they share one, else None."""
        if all(isinstance(d, pd.CategoricalDtype) for d in dtypes):
            # a dtype equal to an earlier one (the same categories) adds none to the union
            distinct = list(dict.fromkeys(dtypes))
            union = union_categoricals([pd.Categorical([], dtype=d) for d in distinct], ignore_order=True)
            return cls(union.dtype, n_rows)
        # (numbers only: pandas would type an object array of strings as text)
        if all(isinstance(d, np.dtype) and d.kind in "biuf" for d in dtypes) and len(set(dtypes)) == 1:
            return cls(dtypes[0], n_rows)
        return None

    def put(self, piece: pd.Series, a: int, b: int) -> None:
        """Copy ``piece`` into rows ``a:b``."""
        if self.categorical:
            part = piece.array
            key = tuple(part.categories)
            recode = self._recode.get(key)
            if recode is None:
                # the code -1 (a missing value) picks the appended -1
                recode = np.append(self.dtype.categories.get_indexer(part.categories), -1)
                recode = self._recode[key] = recode.astype(self.values.dtype)
            self.values[a:b] = recode[part.codes]
        else:
            self.values[a:b] = piece.to_numpy()

    def result(self) -> np.ndarray | pd.Categorical:
        if self.categorical:
            return pd.Categorical.from_codes(self.values, dtype=self.dtype, validate=False)
        return self.values


def _collect(per_view: list[dict], problems: list[dict], config: AnalysisConfig,
             subjects: Mapping[str, str] | None = None) -> CohortResult:
    """The cohort's tables from the views' (whose cycle tables it takes out of ``per_view``).

    The cycle tables get a ``unit`` column at the end (``px`` or ``m`` for x and y, ``deg``
    for the joint angles); with ``subjects`` (``{trial: subject}``, from the manifest's
    ``subject`` column) every table gets a ``subject`` column at the end.
    """
    from .cycles import CYCLE_COLUMNS, MEAN_COLUMNS, mean_cycles

    def cat(key, columns=()):
        frames = [v[key] for v in per_view if len(v[key])]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))

    events = cat("events", ("trial", "view", "side", "event", "frame", "time_s"))
    # Each view's means from its own table (numpy on its regular layout: a groupby over the
    # whole cohort took seconds; the result is that of mean_cycles(cycles_all)), then the
    # tables are moved into cycles_all, freed as they are copied.
    means = [{"trial": v["trial"], "view": v["view"], "means": mean_cycles(v["cycles"])}
             for v in per_view if len(v["cycles"])]
    cycles_all = _concat_views(per_view, "cycles", CYCLE_COLUMNS, release=True)
    if len(cycles_all):
        cycles = _concat_views(means, "means", MEAN_COLUMNS)
    else:
        cycles = pd.DataFrame(columns=["trial", "view", "side", "bodypart", "axis", "pct", "value"])
    parameters = cat("parameters", ("trial", "view"))
    for table in (cycles, cycles_all):
        if len(table):
            table["unit"] = _relabel(table["axis"], lambda a: ANGLE_UNIT if a == ANGLE_AXIS else config.cycles_units)
    if subjects:
        for table in (events, cycles, cycles_all, parameters):
            if len(table):
                table["subject"] = _relabel(table["trial"], lambda t: subjects[str(t)])
    problems_df = pd.DataFrame(problems, columns=["trial", "view", "problem"])
    return CohortResult(None, events, cycles, cycles_all, parameters, None, problems_df)


def _relabel(column: pd.Series, label: Callable[[str], str]) -> pd.Categorical:
    """``label(value)`` of every row of a column, as a categorical (computed once per
    distinct value: the cycle tables have millions of rows)."""
    col = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    names = [str(label(c)) for c in col.cat.categories]
    categories = list(dict.fromkeys(names))
    recode = np.array([categories.index(n) for n in names] + [-1], dtype=np.int32)
    return pd.Categorical.from_codes(recode[col.cat.codes.to_numpy()], categories=categories)


def _subjects(table: pd.DataFrame) -> dict[str, str] | None:
    """``{trial: subject}`` from the manifest's ``subject`` column (None when it has none:
    each trial is then its own subject). A table not read from a file (napari's loaded
    trials) is checked as :func:`~napari_gaitint.core.manifest.read_manifest` checks files."""
    if "subject" not in table.columns or table["subject"].isna().all():
        return None
    from .manifest import validate_subjects

    path = table.attrs.get("path")
    validate_subjects(table, Path(path) if path else None)
    return {str(t): str(s) for t, s in zip(table["trial"], table["subject"], strict=True)}


def _run_stats(result: CohortResult, config: AnalysisConfig, *, out_dir: Path | None = None,
               report: bool = False, overwrite: bool = False) -> pd.DataFrame | None:
    """RM-ANOVA of the per-trial mean cycles (and, with ``out_dir``, agreement, figures and
    the report). A cohort the statistics cannot handle becomes a problem row, not a crash."""
    from .stats import rm_anova

    def note(rows: list[dict]) -> None:
        result.problems = pd.concat([result.problems, pd.DataFrame(rows)], ignore_index=True)

    if result.cycles.empty:
        note([{"trial": "(cohort)", "view": "", "problem": "statistics: no gait cycles in any trial"}])
        return None
    try:
        if out_dir is None:
            anova = rm_anova(result.cycles, correction=config.correction, engine=config.stats_engine)
        else:
            from ..report.outputs import write_stats_outputs

            outputs = write_stats_outputs(
                out_dir, result.cycles, correction=config.correction, engine=config.stats_engine,
                report=report, figures=report, config=config.resolved().to_dict(),
                parameters=result.parameters, events=result.events, overwrite=overwrite,
            )
            result.files.update(outputs.files)
            anova = outputs.anova
    except AnalysisError as err:
        note([{"trial": "(cohort)", "view": "", "problem": f"statistics: {err}"}])
        return None
    dropped = pd.DataFrame(anova.attrs.get("dropped") or [], columns=["trial", "bodypart", "axis", "reason"])
    if len(dropped):
        rows = []
        subject = anova.attrs.get("unit") == "subject"
        for (trial, reason), g in dropped.groupby(["trial", "reason"], sort=False):
            parts = sorted({f"{b}/{a}" for b, a in zip(g["bodypart"], g["axis"], strict=True)})
            what = "all body parts" if len(parts) >= anova.groupby(["bodypart", "axis"], observed=True).ngroups else ", ".join(parts)
            rows.append({"trial": f"(subject {trial})" if subject else trial, "view": "",
                         "problem": f"statistics: left out of {what}: {reason}"})
        note(rows)
    return anova


_RESULT_FILES = ("events.csv", "cycles.csv", "cycles_all.csv", "parameters.csv", "anova.csv",
                 "problems.csv", "config.toml")


def _check_outputs(out_dir: Path, overwrite: bool, ours: set[str]) -> None:
    """Refuse to start when a result file is there that neither ``overwrite`` nor a claim
    of the run before (``ours``: an interrupted or failed run in this folder) lets us replace."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputFileError(out_dir, "output path is a file, not a folder")
    if overwrite:
        return
    existing = [n for n in _RESULT_FILES if (out_dir / n).exists() and n not in ours]
    if existing:
        raise OutputExistsError(out_dir / existing[0])


def _cleaned_names(table: pd.DataFrame) -> dict[tuple[str, str], str]:
    """``{(trial, view): path under cleaned/}`` of the views' cleaned predictions.

    Each keeps its predictions' file name (``.h5``): DeepLabCut's ``<video>DLC_<scorer>.h5``,
    which DeepLabCut's tools find when given ``destfolder=<out>/cleaned`` and, being in
    another folder than the video, never take instead of the original. Views whose
    predictions share a file name (same name in different folders) go into
    ``<trial>_<view>/`` subfolders so that none replaces another.
    """
    keys = [(str(t), str(v)) for t, v in zip(table["trial"], table["view"], strict=True)]
    names = [f"{Path(str(p)).stem}.h5" for p in table["predictions"]]
    counts = pd.Series(names).value_counts()
    return {k: (f"{k[0]}_{k[1]}/{n}" if counts[n] > 1 else n)
            for k, n in zip(keys, names, strict=True)}


def _cleaned_paths(view: dict, cleaned_dir: Path, names: dict[tuple[str, str], str]
                   ) -> tuple[Path, Path]:
    """Where a view's cleaned predictions (DLC layout, :func:`_cleaned_names`) and flag table
    (``<name>_flags.csv`` beside it) go (and DeepLabCut's ``<name>_meta.pickle``)."""
    pose_path = cleaned_dir / names[(str(view["trial"]), str(view["view"]))]
    return pose_path, pose_path.with_name(f"{pose_path.stem}_flags.csv")


def _write_cleaned(view: dict, cleaned_dir: Path, cleaned_names: dict, made: list[Path],
                   cache: _TrialCache, ours: set[str], *, overwrite: bool) -> None:
    """Write a view's cleaned predictions and flag table, adding each path to ``made``.

    The files are claimed in ``cache`` first; an existing one is replaced with ``overwrite``
    or when the interrupted run this one resumes claimed it (``ours``).
    """
    from .clean import flags_table

    pose_path, flags_path = _cleaned_paths(view, cleaned_dir, cleaned_names)
    meta_path = dlc_metadata_path(pose_path)  # DeepLabCut's tools need it beside predictions
    names = [f"{_CLEANED_DIR}/{p.relative_to(cleaned_dir).as_posix()}"
             for p in (pose_path, flags_path, meta_path)]
    cache.claim(names)
    made.append(save_pose(view["cleaned"], pose_path, overwrite=overwrite or names[0] in ours))
    made.append(write_csv(flags_path, flags_table(view["clean"]), overwrite=overwrite or names[1] in ours))
    made.append(write_dlc_metadata(pose_path, source=view["cleaned"].source, pose=view["cleaned"],
                                   overwrite=overwrite or names[2] in ours))


def _cleaned_written(view: dict, cleaned_dir: Path | None, names: dict) -> bool:
    """True if the view's cleaned files exist (a resumed run takes a trial from the cache
    only then: the cache keeps its tables, not its cleaned poses)."""
    return cleaned_dir is None or all(p.is_file() for p in _cleaned_paths(view, cleaned_dir, names))


def _write_results(result, per_view, out_dir: Path, config, *, overwrite: bool, stats: bool,
                   report: bool, ours: set[str] = frozenset()) -> None:
    """Write the cohort's tables, settings, statistics and report.

    A failed run (:attr:`CohortResult.failed`: no gait cycle in any trial) writes only
    ``problems.csv`` and ``config.toml``: no empty tables that look like results. A file
    named in ``ours`` (claimed by the run before, in this folder) is replaced.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = result.files
    if per_view:  # written by analyze_cohort as the trials came in
        files["cleaned"] = out_dir / _CLEANED_DIR

    def replace(name: str) -> bool:
        return overwrite or name in ours

    if not result.failed:
        for name, df in (
            ("events", result.events), ("cycles", result.cycles), ("cycles_all", result.cycles_all),
            ("parameters", result.parameters),
        ):
            files[name] = write_csv(out_dir / f"{name}.csv", df, overwrite=replace(f"{name}.csv"),
                                    n_jobs=config.n_jobs)
    files["config"] = write_text_atomic(out_dir / "config.toml", config_to_toml(config.resolved()),
                                        overwrite=replace("config.toml"))
    if stats:
        result.anova = _run_stats(result, config, out_dir=out_dir, report=report, overwrite=overwrite)
    files["problems"] = write_csv(out_dir / "problems.csv", result.problems, overwrite=replace("problems.csv"))
    result.out_dir = out_dir


# ---------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------
DEMO_TRIALS = 8
DEMO_SEED = 2026


def run_demo(out_dir: str | Path, *, overwrite: bool = False, progress: bool = False,
             n_jobs: int = 1) -> CohortResult:
    """Generate the embedded synthetic sample in ``out_dir/sample`` and analyse it into
    ``out_dir/results`` (events, cycles, ANOVA, report). Re-running reuses the sample.
    ``n_jobs`` processes write the sample's trials (0 or less: all cores; the same data)."""
    from .synthetic import write_synthetic_cohort

    out_dir = Path(out_dir)
    sample = out_dir / "sample"
    manifest = sample / "trials.csv"
    if not manifest.exists():
        manifest = write_synthetic_cohort(
            sample, n_trials=DEMO_TRIALS, seed=DEMO_SEED, fps=25.0, video=True, bias_px=0.0,
            overwrite=False, progress=progress, n_jobs=n_jobs,
        )
    return analyze_cohort(manifest, out_dir / "results", overwrite=overwrite, progress=progress)
