"""The ``gaitint`` command line: a thin layer over :mod:`napari_gaitint.core`.

Every sub-command parses its options, calls one core function and prints where the results
went. Problems with the user's input (:class:`~napari_gaitint.core.errors.GaitintError`)
print a one-line message and exit with status 2; warnings print as one line
(``gaitint clean: warning: ...``) without Python's source file and code line; ``--debug``
shows tracebacks and warnings as Python prints them.
"""

from __future__ import annotations

import argparse
import gc
import sys
import warnings
from pathlib import Path

from .core.errors import GaitintError, GaitintWarning

EXIT_USER_ERROR = 2


# ---------------------------------------------------------------------------------------
# sub-commands: each has an _add_<name>(subparsers) and a _cmd_<name>(args) -> int
# ---------------------------------------------------------------------------------------
def _add_synth(sub) -> None:
    p = sub.add_parser(
        "synth",
        help="write a synthetic two-view cohort with ground truth",
        description="Generate synthetic trial pairs (C1 left side, C3 right side) as DeepLabCut "
        "predictions, optional rendered videos, a trials.csv manifest and truth/ (events, "
        "wrong-limb frames, true keypoints).",
    )
    p.add_argument("out_dir", type=Path, help="output folder (created)")
    p.add_argument("--trials", type=int, default=3, help="number of trial pairs (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--fps", type=float, default=25.0, help="frame rate in Hz (default 25)")
    p.add_argument("--no-video", action="store_true", help="do not render videos")
    p.add_argument("--bias-px", type=float, default=0.0, help="systematic per-view bias in pixels")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--jobs", type=int, default=None,
                   help="processes writing trials at once (0: all cores, the default when "
                   "rendering videos; else 1); the same data whatever the number")


def _cmd_synth(args) -> int:
    from .synthetic.files import write_synthetic_cohort

    if args.trials < 1:
        raise GaitintError(f"--trials must be at least 1 (got {args.trials})")
    if not args.fps > 0:
        raise GaitintError(f"--fps must be positive (got {args.fps})")
    manifest = write_synthetic_cohort(
        args.out_dir,
        n_trials=args.trials,
        seed=args.seed,
        fps=args.fps,
        video=not args.no_video,
        bias_px=args.bias_px,
        overwrite=args.overwrite,
        progress=True,
        n_jobs=args.jobs if args.jobs is not None else (1 if args.no_video else 0),
    )
    print(f"wrote {args.trials} trial pair(s); manifest: {manifest}; "
          f"ground truth: {manifest.parent / 'truth'}")
    return 0


def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="generate the embedded sample and run the whole analysis on it",
        description="Generate the small synthetic sample (trial pairs with video) and run load, "
        "orient, clean, events, cycles, statistics and the report on it.",
    )
    p.add_argument("out_dir", type=Path, nargs="?", default=Path("gaitint-demo"),
                   help="output folder (default ./gaitint-demo)")
    p.add_argument("--gui", action="store_true",
                   help="open napari on the sample with the widgets docked (existing results are opened as "
                        "they are, not computed again)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing demo folder's results")


#: How to get napari with a Qt backend, quoted when the viewer is asked for without them.
GUI_INSTALL_HINT = "pip install 'napari-gaitint[all]'"


def _require_gui() -> None:
    """A clear error, before any work, when napari or a Qt binding is not installed."""
    from importlib.util import find_spec

    def installed(name: str) -> bool:
        try:
            return find_spec(name) is not None
        except (ImportError, ValueError):
            return False

    missing = [m for m in ("napari", "magicgui") if not installed(m)]
    if not any(installed(q) for q in ("PyQt6", "PySide6", "PyQt5", "PySide2")):
        missing.append("a Qt binding (PyQt6 or PySide6)")
    if missing:
        raise GaitintError(f"--gui needs {' and '.join(missing)}, which this installation lacks; "
                           f"install them with {GUI_INSTALL_HINT} (the analysis itself needs neither)")


def _cmd_demo(args) -> int:
    from .synthetic.demo import run_demo

    if args.gui:
        _require_gui()
    results = Path(args.out_dir) / "results"
    if args.gui and not args.overwrite and (results / "events.csv").is_file():
        print(f"opening the demo results in {results} (run 'gaitint demo --overwrite' to compute them again)")
    else:
        # the sample is written with all cores (the same data as with one); then the analysis
        result = run_demo(args.out_dir, overwrite=args.overwrite, progress=True, n_jobs=0)
        print(result.summary())
    if args.gui:
        from ._napari._launch import open_viewer_on_sample

        open_viewer_on_sample(args.out_dir)
    return 0


def _add_analyze(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="run the whole pipeline on a cohort (trials.csv) and write all results",
        description="Load, clean (with the other view), orient, detect events, split and "
        "normalise gait cycles for every trial pair of a manifest, then run the RM-ANOVA and "
        "write cleaned/, events.csv, cycles.csv, parameters.csv, anova.csv, problems.csv, "
        "config.toml and report.html.",
    )
    p.add_argument("manifest", type=Path,
                   help="trials.csv, or a folder holding one, or a folder of DeepLabCut outputs "
                   "(T01_C1DLC_<scorer>.h5 ...: trials found by file name, see 'gaitint manifest')")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--config", type=Path, help="TOML settings file (a run writes its own config.toml)")
    p.add_argument("--jobs", type=int, help="processes for per-trial work (0: all cores)")
    p.add_argument("--scheduler", help="dask.distributed scheduler address, e.g. tcp://host:8786")
    p.add_argument("--strict", action="store_true", help="stop at the first failing trial")
    p.add_argument("--no-report", action="store_true", help="skip figures and the HTML report")
    p.add_argument("--overwrite", action="store_true", help="replace existing results in --out")
    _add_event_options(p, "event detection (over the --config file's events_method, "
                       "events_reference and [events] table; config.toml records them)")


def _cmd_analyze(args) -> int:
    import dataclasses

    from .core.errors import GaitintError, InputFileError
    from .workflow.cohort import analyze_cohort
    from .workflow.config import AnalysisConfig, load_config

    config = load_config(args.config) if args.config else AnalysisConfig()
    changes = {}
    if args.jobs is not None:
        changes["n_jobs"] = args.jobs
    if args.scheduler:
        changes["scheduler"] = args.scheduler
    events = _event_options(args)
    for name, field in (("method", "events_method"), ("reference", "events_reference")):
        if name in events:
            changes[field] = events.pop(name)
    if events:
        changes["events"] = {**config.events, **events}
    config = dataclasses.replace(config, **changes)
    try:
        config.event_config()
    except GaitintError as err:
        raise InputFileError(None, str(err)) from None

    from .workflow.manifest import load_manifest

    table = load_manifest(args.manifest)
    if table.attrs.get("found_by_name"):
        _print_found(table, args.manifest)
    with warnings.catch_warnings():
        # trials the statistics leave out are listed in problems.csv and the summary
        warnings.filterwarnings("ignore", message="rm_anova: ", category=UserWarning)
        result = analyze_cohort(
            table, args.out, config=config, overwrite=args.overwrite, strict=args.strict,
            progress=True, report=not args.no_report,
        )
    if table.attrs.get("found_by_name"):
        from .workflow.manifest import write_manifest

        found = write_manifest(table, args.out / "trials_found.csv", overwrite=True)
        print(f"trials found by name: {found} (edit it and run gaitint analyze {found} to change them)")
    print(result.summary())
    if result.failed:
        print("gaitint analyze: error: no trial could be analysed; the reasons are listed above "
              "and in problems.csv; correct them and run again (this run's files in "
              f"{args.out} are replaced, no --overwrite needed)", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def _print_found(table, folder, lead: str = "no trials.csv in {folder}: ") -> None:
    n = table["trial"].nunique()
    print(lead.format(folder=folder) + f"{n} trial(s) found by file name "
          f"({', '.join(f'{t} {v}' for t, v in zip(table['trial'], table['view'], strict=True))})")
    for note in table.attrs.get("notes", []):
        print(f"  note: {note}")


def _add_manifest(sub) -> None:
    p = sub.add_parser(
        "manifest",
        help="write trials.csv for a folder of DeepLabCut outputs (trials found by file name)",
        description="Find the DeepLabCut prediction files of a folder (T01_C1DLC_<scorer>.h5, "
        "rat5-C3-run2DLC_...h5: a view token C1/C3 in the video name) and their videos, and "
        "write the manifest trials.csv (trial, view, side, predictions, video, ...) to check "
        "or edit before 'gaitint analyze'. Unfiltered .h5 files are preferred.",
    )
    p.add_argument("folder", type=Path, help="folder of DLC predictions (and videos)")
    p.add_argument("--out", type=Path, default=None, help="manifest to write (default FOLDER/trials.csv)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing manifest")


def _cmd_manifest(args) -> int:
    from .workflow.manifest import find_trials, write_manifest

    table = find_trials(args.folder)
    _print_found(table, args.folder, lead="{folder}: ")
    out = write_manifest(table, args.out or args.folder / "trials.csv", overwrite=args.overwrite)
    print(f"wrote {out} (next: gaitint analyze {out} --out RESULTS)")
    return 0


def _add_clean(sub) -> None:
    p = sub.add_parser(
        "clean",
        help="clean one view's DLC predictions (likelihood, wrong-limb labels, gaps, filter)",
        description="Clean DeepLabCut predictions of one camera: remove low-likelihood points, "
        "find and repair wrong-limb labels (using the opposite camera's file when given), fill "
        "short gaps and low-pass filter. Writes the cleaned predictions in DLC layout (image "
        "coordinates, so they overlay the video) and a per-point flag table "
        "(<out>_flags.csv), or, with --out X.nc, a movement poses dataset (netCDF: position, "
        "confidence and the flags; needs the [movement] extra). The input file is never modified.",
    )
    p.add_argument("pred", type=Path, help="DLC predictions (.h5 or .csv) of this camera")
    p.add_argument("--other-view", type=Path, default=None, metavar="PRED2",
                   help="the opposite camera's DLC predictions of the same trial, as DLC wrote them")
    p.add_argument("--fps", type=float, default=None,
                   help="video frame rate in Hz (needed by the filter and the gap length in s)")
    p.add_argument("--width", type=int, default=None, metavar="PX",
                   help="video width in pixels (checked against the coordinates; the views are "
                   "aligned from the data, so it is optional)")
    from .core.config import CLEAN_METHODS, FILTERS, CleanConfig

    defaults = CleanConfig()
    p.add_argument("--likelihood", type=float, default=None, metavar="L",
                   help=f"likelihood threshold (default {defaults.likelihood_threshold:g})")
    p.add_argument("--method", choices=list(CLEAN_METHODS), default=None,
                   help=f"wrong-limb/outlier detection (default {defaults.method}; falls back to "
                   "single-view checks without --other-view)")
    p.add_argument("--filter", choices=list(FILTERS), default=None,
                   help=f"low-pass filter (default {defaults.filter})")
    p.add_argument("--cutoff-hz", type=float, default=None,
                   help=f"Butterworth cut-off (default {defaults.cutoff_hz:g} Hz)")
    p.add_argument("--max-gap-s", type=float, default=None,
                   help=f"longest gap filled (default {defaults.max_gap_s:g} s)")
    p.add_argument("--margin-px", type=float, default=None,
                   help=f"pixel distance that counts as clearly different (default: "
                   f"{defaults.margin_leg:g} x the subject's leg length in the image, ~15 px for a "
                   "960x540 walkway view)")
    p.add_argument("--bodyparts", default=None, metavar="MAP",
                   help="role=name mapping for body-part names not recognised (Neck, LHip, heel_r, "
                   "lateral_malleolus, MTP5... are), e.g. neck=Nose,toe=Tip")
    p.add_argument("--individual", default=None, metavar="NAME",
                   help="multi-animal files: the individual to use (default: the fragments of one "
                   "track merged, else the one with the most frames)")
    p.add_argument("--out", type=Path, default=None, metavar="PATH",
                   help="output .h5 or .csv (DLC layout, plus <out>_flags.csv) or .nc (a movement "
                   "poses dataset holding the flags) (default: cleaned/<input name>.h5 beside the "
                   "input: DeepLabCut's file name in a folder of its own, see docs/deeplabcut.md)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (never the input)")


#: Folder beside the input where ``gaitint clean`` writes by default.
CLEANED_DIR = "cleaned"


def _cmd_clean(args) -> int:
    import numpy as np

    from .core._csv import write_csv
    from .core.clean import clean_pose, config_for_names, flags_table
    from .core.clean import flags_path as cleaned_flags_path
    from .core.errors import InputFileError, OutputExistsError
    from .core.io import dlc_metadata_path, load_pose, save_pose, write_dlc_metadata
    from .core.pose import parse_bodypart_mapping, side_of_view

    try:
        mapping = parse_bodypart_mapping(args.bodyparts) or {}
    except ValueError as err:
        raise InputFileError(None, f"--bodyparts: {err}") from None
    pred = Path(args.pred)
    # cleaned/<video>DLC_<scorer>.h5: DeepLabCut's tools take it with destfolder="cleaned" and,
    # one folder down, never instead of the original (they look beside the video, by name)
    out = Path(args.out) if args.out else pred.parent / CLEANED_DIR / f"{pred.stem}.h5"
    if out.suffix.lower() not in (".h5", ".csv", ".nc"):
        raise InputFileError(out, "--out must end in .h5 or .csv (DeepLabCut) or .nc (movement)")
    sources = [pred] + ([Path(args.other_view)] if args.other_view else [])
    if any(out.resolve() == s.resolve() for s in sources if s.exists()):
        raise InputFileError(out, "the output would replace an input file; choose another --out")
    as_movement = out.suffix.lower() == ".nc"
    flags_path = None if as_movement else cleaned_flags_path(out)
    meta_path = dlc_metadata_path(out) if out.suffix.lower() == ".h5" else None
    for path in (out, flags_path, meta_path):
        if path is not None and path.exists() and not args.overwrite:
            raise OutputExistsError(path)
    if as_movement:  # before the work: say now if xarray / netCDF are missing
        from .core.movement_io import _engine, _xarray

        _xarray(), _engine()

    pose = load_pose(pred, fps=args.fps, individual=args.individual)
    other = load_pose(args.other_view, fps=args.fps) if args.other_view else None
    if args.width is not None:
        if args.width <= 0:
            raise InputFileError(None, f"--width must be a positive number of pixels, not {args.width}")
        x_max = float(np.nanmax(pose.xy[..., 0], initial=0.0))
        if x_max > args.width * 1.05:
            raise InputFileError(pred, f"x coordinates reach {x_max:.0f} px, beyond --width "
                                 f"{args.width}; check the width")
    kw = {}
    for opt, field in (("likelihood", "likelihood_threshold"), ("method", "method"),
                       ("filter", "filter"), ("cutoff_hz", "cutoff_hz"),
                       ("max_gap_s", "max_gap_s"), ("margin_px", "margin_px")):
        if getattr(args, opt) is not None:
            kw[field] = getattr(args, opt)
    # roles: the mapping, else by name (Neck, LHeel...; the leg seen from the file's C1/C3)
    side = side_of_view(_trial_view_from_name(pred.name)[1])
    try:
        config, other = config_for_names(pose, other, side=side, mapping=mapping, **kw)
    except ValueError as err:
        raise InputFileError(None, str(err)) from None
    missing = [b for b in config.leg_chain if b not in pose.bodyparts]
    if missing and config.method != "none":
        print(f"note: leg-chain body part(s) {missing} not in {pred.name} (it has "
              f"{list(pose.bodyparts)}); give --bodyparts role=name to map them", file=sys.stderr)
    if config.filter != "none" and not pose.fps:
        raise InputFileError(pred, "DLC files do not store the frame rate: give --fps (e.g. "
                             "--fps 25) or --filter none")
    result = clean_pose(pose, other=other, config=config)
    if as_movement:
        from .core.movement_io import save_movement_dataset

        save_movement_dataset(result, out, overwrite=args.overwrite)
    else:
        save_pose(result.pose, out, overwrite=args.overwrite)
        if meta_path is not None:  # DeepLabCut's tools need it beside predictions
            write_dlc_metadata(out, source=pred, pose=result.pose, overwrite=args.overwrite)
        write_csv(flags_path, flags_table(result), overwrite=args.overwrite)
    counts = {k: v for k, v in result.summary["counts"].items() if v}
    print(f"cleaned {pred.name} ({pose.n_frames} frames, method {config.method}"
          f"{', other view ' + Path(args.other_view).name if other is not None else ''}): "
          + (", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing changed"))
    if "alignment" in result.summary:
        a = result.summary["alignment"]
        print(f"other view aligned: x = {a['ax']:+.3f} x' {a['bx']:+.1f}, "
              f"y = {a['ay']:+.3f} y' {a['by']:+.1f} (rms {a['rms_x_px']:.1f}/{a['rms_y_px']:.1f} px); "
              f"{result.summary.get('other_view_wrong_limb_ignored', 0)} of its leg labels "
              "judged wrong-limb and ignored")
    if as_movement:
        print(f"wrote {out} (movement poses dataset: position, confidence, flags)")
    else:
        print(f"wrote {out}\nwrote {flags_path}" + (f"\nwrote {meta_path}" if meta_path else ""))
    return 0


def _add_view_options(p) -> None:
    """The options of the one-file commands (events, angles) saying how to read and orient it."""
    p.add_argument("--side", choices=["left", "right"], default=None,
                   help="leg seen by this camera (default: C1 -> left, C3 -> right from the name, "
                   "else from the walking direction: right-to-left -> left)")
    p.add_argument("--width", type=int, default=None, help="video width in px (for mirroring)")
    p.add_argument("--height", type=int, default=None, help="video height in px")
    p.add_argument("--direction", choices=["left-to-right", "right-to-left"], default=None,
                   help="walking direction in the image (default: detected)")
    p.add_argument("--no-level", dest="level", action="store_false",
                   help="do not level a tilted floor (camera rolled about its axis) first")
    p.add_argument("--bodyparts", default=None,
                   help="map our roles to body-part names not recognised (Neck, LHip, heel_r... "
                   "are), e.g. neck=Nose,toe=Tip")
    p.add_argument("--individual", default=None, metavar="NAME",
                   help="multi-animal files: the individual to use (default: the fragments of one "
                   "track merged, else the one with the most frames)")
    p.add_argument("--trial", default=None, help="trial name (default: from the file name, e.g. T01)")
    p.add_argument("--view", default=None, help="view name (default: from the file name, e.g. C1)")


def _add_events(sub) -> None:
    p = sub.add_parser(
        "events",
        help="detect heel strikes and toe offs in one DeepLabCut prediction file",
        description="Load one view's predictions, orient them (walking direction detected), "
        "detect heel strikes and toe offs and write events.csv (trial, view, side, event, frame, "
        "time_s; frame fractional). A file gaitint clean wrote (its _flags.csv beside it) keeps "
        "every point the cleaning kept (likelihood cut-off 0) and its flags lower the confidence "
        "of the events near changed frames. The input file is never modified.",
    )
    p.add_argument("predictions", type=Path, help="DeepLabCut .h5/.csv predictions")
    p.add_argument("--fps", type=float, default=25.0,
                   help="frame rate in Hz (default 25; a DLC file does not record it: give the "
                   "video's rate)")
    _add_event_options(p)
    _add_view_options(p)
    p.add_argument("--out", type=Path, default=None,
                   help="output csv (default <predictions stem>_events.csv next to the input)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _add_event_options(parser, title: str = "event detection") -> None:
    """The event-detection options (:data:`~napari_gaitint.core.config.EVENT_OPTIONS`), their
    defaults and choices from :class:`~napari_gaitint.core.config.EventConfig`. Each option
    defaults to None on the command line: only what the user gives is set."""
    from .core.config import EVENT_METHODS, EVENT_OPTIONS, EVENT_REFERENCES, EventConfig

    p = parser.add_argument_group(title)
    defaults = EventConfig()
    for name, text in EVENT_OPTIONS.items():
        default = getattr(defaults, name)
        kw = {"type": float, "metavar": name.rsplit("_", 1)[-1].upper() if name.endswith("_s") else "L"}
        if name == "method":
            kw = {"choices": list(EVENT_METHODS)}
        elif name == "reference":
            kw = {"choices": list(EVENT_REFERENCES)}
        elif name == "stride_range_s":
            kw = {"type": float, "nargs": 2, "metavar": ("SHORTEST_S", "LONGEST_S")}
        shown = " ".join(f"{v:g}" for v in default) if isinstance(default, tuple) else default
        if name == "method":
            shown = f"{default}: {EVENT_METHODS[default].description}"
        if default is not None and f"(default {shown}" not in text and "(default:" not in text:
            text = f"{text} (default {shown})"
        p.add_argument(f"--{name.replace('_', '-')}", dest=f"event_{name}", default=None, help=text, **kw)


def _event_options(args) -> dict:
    """The event settings given on the command line (:func:`_add_event_options`), by field."""
    from .core.config import EVENT_OPTIONS

    given = {name: getattr(args, f"event_{name}") for name in EVENT_OPTIONS}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in given.items() if v is not None}


def _trial_view_from_name(name: str) -> tuple[str | None, str | None]:
    """``T01_C1DLC_resnet50...h5`` -> ("T01", "C1"); (None, None) when the name does not say."""
    from .workflow.manifest import trial_view_from_name

    trial, view, _ = trial_view_from_name(name)
    return trial, view


def _side_from_direction(path: Path, fps: float, direction: int | None) -> tuple[str, int, str]:
    """The leg a camera sees from the walking direction in its image, for a file whose name
    does not say: a camera on the subject's left sees them walk right-to-left (C1 in the
    synthetic sample, left_view in realgait). Returns (side, direction, note to print)."""
    import numpy as np

    from .core.errors import AnalysisError, InputFileError
    from .core.io import load_pose
    from .core.orient import RIGHT_TO_LEFT, detect_walking_direction

    if direction is None:
        raw = load_pose(path, fps=fps)  # file names: the whole body's mean x travels
        try:
            direction = detect_walking_direction(np.nanmean(raw.xy[..., 0], axis=1), source=path)
        except AnalysisError:
            raise InputFileError(
                path, "cannot tell which leg this camera sees: the name does not say C1 or C3 "
                "and the subject does not travel across the image; give --side") from None
    side = "left" if direction == RIGHT_TO_LEFT else "right"
    walk = "right-to-left" if direction == RIGHT_TO_LEFT else "left-to-right"
    return side, direction, f" (from the walking direction, {walk}; --side to change)"


def _load_view(args):
    """``(pose, trial, view, side, side_note, orientation, flags)`` of ``args.predictions`` as
    the one-file commands (events, angles) load it: roles by ``--bodyparts`` or by name, the
    leg from ``--side``, the C1/C3 name or else the walking direction (``side_note`` says so);
    ``orientation`` holds the keyword arguments of
    :func:`~napari_gaitint.core.orient.orient_pose` (frame size, walking direction, levelling).
    ``flags``: the cleaning flags of a file ``gaitint clean`` (or ``analyze``) wrote, read from
    the flag table beside it (:func:`~napari_gaitint.core.clean.flags_path`); None for
    predictions that were not cleaned (no flag table beside them)."""
    import numpy as np

    from .core.errors import InputFileError
    from .core.io import load_pose
    from .core.pose import parse_bodypart_mapping, side_of_view, validate_time_series

    try:
        mapping = parse_bodypart_mapping(args.bodyparts)
    except ValueError as err:
        raise InputFileError(None, f"--bodyparts: {err}") from None
    trial, view = _trial_view_from_name(args.predictions.name)
    trial, view = args.trial or trial or args.predictions.stem, args.view or view or ""
    side = side_of_view(view, args.side)
    direction = {"left-to-right": 1, "right-to-left": -1, None: None}[args.direction]
    side_note = ""
    if side is None:
        side, direction, side_note = _side_from_direction(args.predictions, args.fps, direction)
    # roles by the mapping, else by name (Neck, LHeel, ...)
    pose = validate_time_series(
        load_pose(args.predictions, fps=args.fps, bodyparts=mapping or {}, side=side,
                  individual=args.individual),
        task={"events": "event detection", "angles": "joint angles"}.get(args.command, "this step"))
    # Events and angles use x relative to the body, y differences and directions only, so
    # the frame size just places the origin; without it the data extent serves.
    width = args.width or int(np.ceil(np.nanmax(pose.xy[..., 0], initial=0.0))) + 1
    height = args.height or int(np.ceil(np.nanmax(pose.xy[..., 1], initial=0.0))) + 1
    orientation = {"frame_size": (width, height), "direction": direction, "level": args.level}
    from .core.clean import flags_path, load_flags

    table = flags_path(args.predictions)
    flags = (load_flags(table, pose, names=pose.meta.get("bodypart_names")) if table.is_file()
             else None)  # the file's names of our roles (rename_bodyparts records them)
    return pose, trial, view, side, side_note, orientation, flags


def _check_side(args, oriented, view: str, side: str, side_note: str) -> None:
    """Warn when the name's side contradicts the walking direction in the image."""
    from .core.errors import GaitintWarning

    walks = oriented.meta["orientation"]["direction"]
    if args.side is None and not side_note and side != ("left" if walks == -1 else "right"):
        # a camera sees the left leg exactly when the subject walks right-to-left in its image
        warnings.warn(
            f"{args.predictions.name}: the name says view {view} (the {side} leg) but the subject "
            f"walks {'right-to-left' if walks == -1 else 'left-to-right'} in the image, so this "
            f"camera sees the {'left' if walks == -1 else 'right'} leg (unless the video is "
            "mirrored); give --side if the side is wrong", GaitintWarning, stacklevel=2)


def _cmd_events(args) -> int:
    from .core.chain import analyze_view
    from .core.config import LOW_CONFIDENCE, EventConfig
    from .core.errors import AnalysisError, InputFileError

    pose, trial, view, side, side_note, orientation, flags = _load_view(args)
    try:
        settings = EventConfig(**_event_options(args))
    except ValueError as err:
        raise InputFileError(None, str(err)) from None
    try:  # a cleaned file (its flag table beside it): the cleaned cut-off and its flags
        result = analyze_view(pose, side=side, settings=settings, fps=args.fps, flags=flags,
                              cleaned=flags is not None, **orientation)
    except AnalysisError:  # the side check still speaks
        from .core.orient import orient_pose

        _check_side(args, orient_pose(pose, **orientation), view, side, side_note)
        raise
    oriented, events = result.oriented, result.events
    _check_side(args, oriented, view, side, side_note)
    events.insert(0, "view", view)
    events.insert(0, "trial", trial)
    out = args.out or args.predictions.with_name(f"{args.predictions.stem}_events.csv")
    from .core._csv import write_csv

    write_csv(out, events, overwrite=args.overwrite)
    counts = events["event"].value_counts()
    n_low = int((events["confidence"] < LOW_CONFIDENCE).sum())
    print(
        f"{args.predictions.name}: {counts.get('heel_strike', 0)} heel strike(s), "
        f"{counts.get('toe_off', 0)} toe off(s) on the {side} side{side_note} "
        f"({events.attrs.get('method')}, reference {events.attrs.get('reference')}, "
        f"{args.fps:g} frames/s); {n_low} with confidence below {LOW_CONFIDENCE:g}; wrote {out}"
    )
    if oriented.meta["orientation"]["rotation_deg"]:
        print(f"the floor was tilted {oriented.meta['orientation']['tilt_deg']:+.1f} degrees "
              "(camera roll) and was levelled first (--no-level: not)")
    return 0


def _add_angles(sub) -> None:
    from .core.config import LIKELIHOOD_THRESHOLD

    p = sub.add_parser(
        "angles",
        help="sagittal hip, knee, ankle and trunk angles of one DeepLabCut prediction file",
        description="Load one view's predictions, orient them (walking direction detected) and "
        "write the joint angles of every frame (frame, time_s, hip, knee, ankle, trunk; degrees, "
        "flexion, dorsiflexion and forward lean positive; see docs/methods/angles.md). Points "
        f"below likelihood {LIKELIHOOD_THRESHOLD:g} are missing (none in a file gaitint clean wrote, "
        "with its _flags.csv beside it: the cleaning judged them). The input file is never modified.",
    )
    p.add_argument("predictions", type=Path, help="DeepLabCut .h5/.csv predictions")
    p.add_argument("--fps", type=float, required=True, help="frame rate in Hz (for time_s)")
    _add_view_options(p)
    p.add_argument("--out", type=Path, default=None,
                   help="output csv (default <predictions stem>_angles.csv next to the input)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _cmd_angles(args) -> int:
    from .core._csv import write_csv
    from .core.angles import JOINTS, compute_angles
    from .core.config import likelihood_cutoff
    from .core.orient import orient_pose

    pose, _, view, side, side_note, orientation, flags = _load_view(args)
    oriented = orient_pose(pose, **orientation)
    _check_side(args, oriented, view, side, side_note)
    table = compute_angles(oriented, fps=args.fps, min_likelihood=likelihood_cutoff(cleaned=flags is not None))
    out = args.out or args.predictions.with_name(f"{args.predictions.stem}_angles.csv")
    write_csv(out, table, overwrite=args.overwrite)
    ranges = ", ".join(
        f"{j} {table[j].min():.0f} to {table[j].max():.0f}" if table[j].notna().any() else f"{j} -"
        for j in JOINTS)
    print(f"{args.predictions.name}: angles of {len(table)} frame(s), {side} leg{side_note} "
          f"(degrees: {ranges}); "
          f"wrote {out}")
    return 0


def _add_stats(sub) -> None:
    p = sub.add_parser(
        "stats",
        help="RM ANOVA (time x perspective), agreement between views, figures and HTML report",
        description="Read a long cycles table (columns trial, view, bodypart, axis, pct, value) and "
        "write anova.csv, agreement.csv, difference_curves.csv, figures/ (PNG+SVG) and report.html. "
        "Trials without complete data in all views are dropped and listed.",
    )
    p.add_argument("cycles", type=Path, help="cycles table (.csv or .h5)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    from .core.config import CORRECTIONS, STATS_ENGINES, StatsConfig

    p.add_argument("--correction", choices=list(CORRECTIONS), default=StatsConfig.correction,
                   help="multiple-comparison correction of p_gg across body part/axis tests")
    p.add_argument("--views", default=None,
                   help="comma-separated views to compare (default all; agreement uses the first two)")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.add_argument("--no-figures", action="store_true", help="do not draw figures (faster)")
    p.add_argument("--engine", choices=list(STATS_ENGINES), default=StatsConfig.engine,
                   help=f"ANOVA engine: numpy, vectorised, or pingouin.rm_anova itself (same results; "
                   f"default {StatsConfig.engine})")
    p.add_argument("--spm", action="store_true",
                   help="also test the whole curves with spm1d (needs the [spm] extra); writes spm.csv")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")


def _cmd_stats(args) -> int:

    from .core.errors import AnalysisError
    from .core.stats import load_cycles_table
    from .report.outputs import write_stats_outputs

    cycles = load_cycles_table(args.cycles)
    views = [v.strip() for v in args.views.split(",") if v.strip()] if args.views else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dropped trials are printed in the summary
        try:
            result = write_stats_outputs(
                args.out, cycles, correction=args.correction, views=views, engine=args.engine,
                report=not args.no_report, figures=not args.no_figures, spm=args.spm,
                overwrite=args.overwrite,
                config={"command": "gaitint stats", "cycles": str(args.cycles)},
            )
        except AnalysisError as err:  # one trial, constant data...: say which table
            if str(args.cycles) in str(err):
                raise
            raise AnalysisError(f"{args.cycles}: {err}") from err
    print(result.summary())
    return 0


def _add_dlc_common(p) -> None:
    p.add_argument("--mirror", default="C3", choices=["C3", "C1", "none"],
                   help="view analysed through a horizontally mirrored copy (default C3)")
    p.add_argument("--shuffle", type=int, default=1, help="DLC shuffle (default 1)")
    p.add_argument("--trainingsetindex", type=int, default=0, help="DLC training-set index (default 0)")
    p.add_argument("--snapshot", help="snapshot: index (-1 last), 'best', or a snapshot file name "
                   "(default: the project config's snapshotindex)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    p.add_argument("--batch-size", type=int, help="inference batch size (default: project config)")
    p.add_argument("--out", type=Path, help="folder for predictions and mirrored copies "
                   "(default: the videos' folder)")
    p.add_argument("--manifest", type=Path, help="trials.csv to write or update (default: OUT/trials.csv)")
    p.add_argument("--overwrite", action="store_true", help="re-analyse and replace existing outputs")


def _add_dlc(sub) -> None:
    p = sub.add_parser(
        "dlc",
        help="run DeepLabCut on trial pairs (needs the [dlc] extra)",
        description="Drive DeepLabCut 3.x (PyTorch): analyse both views of trial pairs (the "
        "opposite view through a mirrored copy, mapped back onto the original video), write the "
        "trials.csv manifest for `gaitint analyze`, and send corrected frames back into the DLC "
        "project for retraining. Needs: pip install 'napari-gaitint[dlc]'.",
    )
    dsub = p.add_subparsers(dest="dlc_command", metavar="DLC_COMMAND")
    dsub.required = True
    a = dsub.add_parser("analyze", help="analyse one trial pair (videos of C1 and C3)")
    a.add_argument("config", type=Path, help="the DLC project's config.yaml")
    a.add_argument("video_c1", type=Path, help="video of camera C1 (left side)")
    a.add_argument("video_c3", type=Path, help="video of camera C3 (right side)")
    a.add_argument("--trial", help="trial name (default: from the video names, T01_C1.mp4 -> T01)")
    _add_dlc_common(a)
    b = dsub.add_parser("analyze-folder", help="analyse every trial pair (*C1*/*C3* videos) of a folder")
    b.add_argument("config", type=Path, help="the DLC project's config.yaml")
    b.add_argument("folder", type=Path, help="folder of videos named like T01_C1.mp4, T01_C3.mp4")
    _add_dlc_common(b)
    m = dsub.add_parser("mirror", help="write a horizontally mirrored copy of a video")
    m.add_argument("video", type=Path, help="source video (never modified)")
    m.add_argument("output", type=Path, help="mirrored copy")
    m.add_argument("--overwrite", action="store_true", help="replace an existing output")
    e = dsub.add_parser("export-labels", help="merge corrected frames into the DLC project's labelled data")
    e.add_argument("config", type=Path, help="the DLC project's config.yaml")
    e.add_argument("video", type=Path, help="the video the labels belong to (frames are extracted from it)")
    e.add_argument("labels", type=Path, help="corrected keypoints, DLC .h5/.csv in the video's coordinates")
    e.add_argument("--frames", help="frame numbers to export, e.g. 10,20,35-40 (default: all labelled rows)")
    e.add_argument("--mirror", action="store_true",
                   help="the network sees this view mirrored: export onto the mirrored copy "
                   "(labels stay in the original video's coordinates; they are mapped)")
    e.add_argument("--bodyparts", metavar="MAP",
                   help="names of the labels' body parts in the DLC project, when they differ: "
                   "ours=theirs pairs, e.g. heel=LHeel,toe=LToe")
    e.add_argument("--individual",
                   help="multi-animal projects: the individual the labels belong to "
                   "(default: the project's first individual)")


def _parse_frames(text: str | None) -> list[int] | None:
    if not text:
        return None
    frames: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part[1:]:
            lo, hi = part.split("-", 1)
            frames.extend(range(int(lo), int(hi) + 1))
        elif part:
            frames.append(int(part))
    return frames


def _cmd_dlc(args) -> int:
    from . import dlc

    kind = args.dlc_command
    if kind == "mirror":
        out = dlc.mirror_video(args.video, args.output, overwrite=args.overwrite)
        print(f"wrote {out}")
        return 0
    if kind == "export-labels":
        try:
            frames = _parse_frames(args.frames)
        except ValueError:
            raise GaitintError(f"--frames: expected numbers like 10,20,35-40, got {args.frames!r}") from None
        from .core.pose import parse_bodypart_mapping

        names = {"bodyparts": parse_bodypart_mapping(args.bodyparts, roles=None), "individual": args.individual}
        if args.mirror:
            res = dlc.export_labels_mirrored(args.config, args.video, args.labels, frames=frames, **names)
        else:
            res = dlc.export_labels_to_project(args.config, args.video.stem, args.labels,
                                               frames=frames, video=args.video, **names)
        print(f"{res.n_new} new and {res.n_updated} changed frame(s); {res.n_total} labelled frames in "
              f"{res.h5}" + (" (video added to the project)" if res.video_registered else ""))
        print(f"retrain: deeplabcut.create_training_dataset('{args.config}') then "
              "deeplabcut.train_network(...)")
        return 0
    options = dict(mirror=None if args.mirror == "none" else args.mirror, shuffle=args.shuffle,
                   trainingsetindex=args.trainingsetindex, snapshot=args.snapshot,
                   device=args.device, batch_size=args.batch_size, out_dir=args.out,
                   manifest=args.manifest, overwrite=args.overwrite)
    if kind == "analyze":
        results = [dlc.analyze_trial_pair(args.config, args.video_c1, args.video_c3,
                                          trial=args.trial, **options)]
    else:
        results = dlc.analyze_folder(
            args.config, args.folder,
            progress=lambda i, n, t: print(f"[{i + 1}/{n}] {t}", flush=True) if t else None,
            **options,
        )
    for r in results:
        mirrored = f" ({r.mirrored} via mirrored copy)" if r.mirrored else ""
        print(f"trial {r.trial}{mirrored}: " + ", ".join(f"{v} -> {p}" for v, p in r.predictions.items()))
    print(f"manifest: {results[-1].manifest}  (next: gaitint analyze {results[-1].manifest} --out RESULTS)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gaitint`` (exposed for documentation and tests)."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="gaitint",
        description="Two-view 2D video gait analysis from DeepLabCut predictions.",
    )
    parser.add_argument("--version", action="version", version=f"gaitint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in _ADDERS:
        add(sub)
    return parser


_ADDERS = [_add_synth, _add_demo, _add_analyze, _add_manifest, _add_events, _add_angles, _add_clean,
           _add_stats, _add_dlc]
_COMMANDS = {
    "synth": _cmd_synth,
    "demo": _cmd_demo,
    "analyze": _cmd_analyze,
    "manifest": _cmd_manifest,
    "events": _cmd_events,
    "angles": _cmd_angles,
    "clean": _cmd_clean,
    "stats": _cmd_stats,
    "dlc": _cmd_dlc,
}


def _warning_printer(command: str):
    """A :func:`warnings.showwarning` that prints ``gaitint <command>: warning: <message>`` on
    one line (the category too when it is not ours or a plain UserWarning)."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if not issubclass(category, GaitintWarning) and category is not UserWarning:
            text = f"{category.__name__}: {text}"
        try:
            print(f"gaitint {command}: warning: {text}", file=file or sys.stderr, flush=True)
        except OSError:  # stderr closed: as Python's own printer, drop the warning
            pass

    return show


def main(argv: list[str] | None = None) -> int:
    """Run ``gaitint``; returns the exit status.

    Without ``argv`` (the program's own command line: the process ends next), the objects
    left are handed to the OS as they are (:func:`_leave_objects_to_exit`).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _warning_printer(args.command)
            return _run(args)
    finally:
        if argv is None:
            _leave_objects_to_exit()


def _leave_objects_to_exit() -> None:
    """Spare the process the cyclic garbage collector's last passes at exit.

    They walk every object still there only to free memory the OS takes back anyway: the
    report's figures alone are some 100 000 objects (about 0.3 CPU s of a cohort's
    ``gaitint analyze``, 0.2 s without the report). :func:`gc.freeze` puts them out of the
    collector's reach; files are closed where they are written and ``atexit`` handlers
    still run.
    """
    gc.freeze()


def _run(args) -> int:
    try:
        return _COMMANDS[args.command](args) or 0
    except GaitintError as err:
        if args.debug:
            raise
        message = " ".join(str(err).split())  # always one line
        print(f"gaitint {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        resume = "; the same command resumes it" if args.command == "analyze" else ""
        print(f"gaitint {args.command}: interrupted{resume}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
