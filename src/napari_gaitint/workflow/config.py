"""The settings of an analysis run (:class:`AnalysisConfig`) and their TOML file.

Every parameter of a run lives in :class:`AnalysisConfig`, which is read from and written to
TOML so a run can be repeated exactly (``config.toml`` is written next to the results).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.config import CycleConfig, StatsConfig
from ..core.errors import (
    GaitintError,
    InputFileError,
)

# configuration
#: Units of the x and y cycle curves (``AnalysisConfig.cycles_units``).
CYCLES_UNITS = ("px", "m")


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
    events
        The other settings of the event detector: keyword arguments of
        :class:`napari_gaitint.core.config.EventConfig` (e.g. ``max_gap_s``,
        ``stride_range_s``); its defaults when left out. The detector and reference are
        ``events_method`` and ``events_reference``.
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
    events: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    cycles_reference: str | None = None
    level_floor: bool = True
    n_points: int = CycleConfig.n_points
    correction: str | None = None
    stats_engine: str = StatsConfig.engine
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
            if v is None or (f.name == "events" and not v):
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
        try:
            cfg.event_config()
            cfg.stats_config()
        except (GaitintError, ValueError) as err:
            raise InputFileError(source, str(err)) from None
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
        from ..core.config import DEFAULT_METHOD

        clean = {k: v for k, v in dataclasses.asdict(self.clean_config()).items() if v is not None}
        return dataclasses.replace(self, clean=clean, events_method=self.events_method or DEFAULT_METHOD,
                                   cycles_reference=self.cycles_reference or CycleConfig.reference)

    def clean_config(self):
        """The :class:`~napari_gaitint.core.clean.CleanConfig` these settings describe."""
        from ..core.config import CleanConfig

        try:
            return CleanConfig(**dict(self.clean))
        except TypeError as err:
            names = [f.name for f in dataclasses.fields(CleanConfig)]
            raise GaitintError(f"bad [clean] setting ({err}); known: {names}") from err

    def event_config(self):
        """The :class:`~napari_gaitint.core.config.EventConfig` these settings describe
        (``events_method`` and ``events_reference`` with the ``[events]`` table)."""
        from ..core.config import DEFAULT_METHOD, EventConfig

        extra = dict(self.events)
        named = sorted({"method", "reference"} & set(extra))
        if named:
            raise GaitintError(f"[events] {named}: set the detector and its reference with "
                               "events_method and events_reference")
        try:
            return EventConfig(method=self.events_method or DEFAULT_METHOD, reference=self.events_reference,
                               **extra)
        except TypeError as err:
            names = [f.name for f in dataclasses.fields(EventConfig) if f.name not in ("method", "reference")]
            raise GaitintError(f"bad [events] setting ({err}); known: {names}") from err

    def stats_config(self) -> StatsConfig:
        """The :class:`~napari_gaitint.core.config.StatsConfig` of ``correction`` and
        ``stats_engine``."""
        return StatsConfig(correction=self.correction, engine=self.stats_engine)

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
