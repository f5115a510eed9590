"""The DeepLabCut installation (the optional ``[dlc]`` extra) and a project's ``config.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import GaitintError, InputFileError

#: How to get DeepLabCut, quoted in every "not installed" message.
INSTALL_HINT = "pip install 'napari-gaitint[dlc]'"


class DLCNotInstalledError(GaitintError, ImportError):
    """DeepLabCut (the ``[dlc]`` extra) is not installed in this Python environment."""

    def __init__(self, detail: str = ""):
        self.detail = detail
        why = f" ({detail})" if detail else ""
        super().__init__(
            f"DeepLabCut is not installed in this Python environment{why}. Install the optional "
            f"extra with: {INSTALL_HINT}  (large: it brings PyTorch; DeepLabCut needs pandas<3, "
            "so a separate virtual environment is best)."
        )

    def __reduce__(self):  # pickled as its argument (raised in a worker process)
        return type(self), (self.detail,)


def dlc_available() -> bool:
    """Whether ``deeplabcut`` can be imported here (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("deeplabcut") is not None


def import_deeplabcut():
    """Import and return the ``deeplabcut`` module, or raise :class:`DLCNotInstalledError`.

    Importing DeepLabCut takes several seconds. On machines without internet, set
    ``HF_HUB_OFFLINE=1`` so that model-hub downloads fail at once.
    """
    try:
        import deeplabcut
    except ImportError as err:
        raise DLCNotInstalledError(f"{type(err).__name__}: {err}") from err
    return deeplabcut


def _check_config(config: str | Path) -> Path:
    config = Path(config)
    if not config.is_file():
        raise InputFileError(config, "DeepLabCut project config not found (expected the project's config.yaml)")
    if config.suffix.lower() not in (".yaml", ".yml"):
        raise InputFileError(config, "not a DeepLabCut config.yaml")
    return config


def read_project_config(config: str | Path) -> dict:
    """A DLC project's ``config.yaml`` as a dict (PyYAML; DeepLabCut not needed)."""
    import yaml

    config = _check_config(config)
    try:
        with open(config, encoding="utf-8") as fh:
            cfg = yaml.safe_load(fh)
    except Exception as err:
        raise InputFileError(config, f"cannot read as YAML ({err})") from err
    if not isinstance(cfg, dict) or "bodyparts" not in cfg or "scorer" not in cfg:
        raise InputFileError(config, "not a DeepLabCut project config (no bodyparts/scorer)")
    return cfg
