"""`gaitint` as a program leaves its objects to the OS at exit; called from Python it does not."""

from __future__ import annotations

import subprocess
import sys

_FROZEN_AFTER_MAIN = """
import gc, sys
from napari_gaitint.cli import main
sys.argv = ["gaitint", "events", sys.argv[1]]
status = main({argv})
print(status, gc.get_freeze_count() > 0)
"""


def _frozen_after(argv: str, tmp_path) -> str:
    code = _FROZEN_AFTER_MAIN.format(argv=argv)
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "missing.h5")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_program_run_puts_its_objects_out_of_the_collectors_reach(tmp_path):
    # (an input error: the quickest run; the objects are frozen whatever the status)
    assert _frozen_after("", tmp_path) == "2 True"


def test_call_with_argv_leaves_the_collector_alone(tmp_path):
    assert _frozen_after("sys.argv[1:]", tmp_path) == "2 False"
