"""The optional C module of the streamed playlist merge (_playlist_views.c), in one place.

hatch_build.py compiles it when a C compiler and the Python headers are there; without it everything it does
runs in Python, with the same results. ANTENNA_NO_C=1 switches it off (tests compare both paths).
"""

from __future__ import annotations

import os
from types import ModuleType

try:
    from antenna.iptv import _playlist_views as _module
except ImportError:  # pragma: no cover - depends on the install
    _module = None  # type: ignore[assignment]


def module() -> ModuleType | None:
    """Return the C module, or None when it is not built or switched off."""
    if _module is None or os.environ.get("ANTENNA_NO_C", "") == "1":
        return None
    return _module


def built_module() -> ModuleType | None:
    """Return the C module when it is built, switched off or not (tests run both paths)."""
    return _module
