"""The ``gaitint`` command line: a thin layer over :mod:`napari_gaitint.core`.

Every sub-command parses its options, calls one core function and prints where the results
went. Problems with the user's input (:class:`~napari_gaitint.core.errors.GaitintError`)
print a one-line message and exit with status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.errors import GaitintError

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


def _cmd_synth(args) -> int:
    from .core.synthetic import write_synthetic_cohort

    manifest = write_synthetic_cohort(
        args.out_dir,
        n_trials=args.trials,
        seed=args.seed,
        fps=args.fps,
        video=not args.no_video,
        bias_px=args.bias_px,
        overwrite=args.overwrite,
        progress=True,
    )
    print(f"wrote {args.trials} trial pair(s); manifest: {manifest}")
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
    p.add_argument("--gui", action="store_true", help="open napari on the sample with the widgets docked")
    p.add_argument("--overwrite", action="store_true", help="replace an existing demo folder's results")


def _cmd_demo(args) -> int:
    from .core.pipeline import run_demo

    result = run_demo(args.out_dir, overwrite=args.overwrite, progress=True)
    print(result.summary())
    if args.gui:
        from ._napari._launch import open_viewer_on_sample

        open_viewer_on_sample(args.out_dir)
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


_ADDERS = [_add_synth, _add_demo]
_COMMANDS = {"synth": _cmd_synth, "demo": _cmd_demo}


def main(argv: list[str] | None = None) -> int:
    """Run ``gaitint``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args) or 0
    except GaitintError as err:
        if args.debug:
            raise
        print(f"gaitint {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"gaitint {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
