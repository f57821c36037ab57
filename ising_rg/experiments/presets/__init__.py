"""The built-in studies, TOML files shipped with the package (``ising-rg experiment --preset``;
``--print-preset NAME`` prints one to copy). This module only lists and reads them, so that the
command line can offer their names without importing the experiment machinery."""

from __future__ import annotations

from importlib import resources

from ising_rg.errors import IsingRGError

__all__ = ["preset_names", "preset_text"]


def _files() -> dict:
    return {item.name[: -len(".toml")]: item for item in resources.files(__name__).iterdir()
            if item.name.endswith(".toml")}


def preset_names() -> list[str]:
    """The built-in presets, ``default`` first."""
    return sorted(_files(), key=lambda name: (name != "default", name))


def preset_text(name: str) -> str:
    """The TOML text of a built-in preset."""
    files = _files()
    if name not in files:
        raise IsingRGError(f"unknown preset {name!r}; choose one of {', '.join(preset_names())}")
    return files[name].read_text(encoding="utf-8")
