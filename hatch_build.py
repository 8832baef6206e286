"""Hatch build hook: compile the optional C reader of the streamed playlist merge (iptv/_playlist_views.c).

Without a C compiler (or Python headers) the build goes on without it: Antenna then reads every entry in
Python (iptv/playlist_views.py), the same result more slowly. ANTENNA_REQUIRE_C=1 makes a failed compile an
error, for CI. The module is built in place next to its source, so editable installs import it too.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/antenna/iptv/_playlist_views.c")
MODULE = "antenna.iptv._playlist_views"


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile the C reader; record it as a platform-specific artifact of the wheel."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        target = root / SOURCE.with_name(
            "_playlist_views" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        )
        try:
            _compile(root / SOURCE, target)
        except Exception as exc:  # any compiler or setuptools failure: build without the speed-up
            if os.environ.get("ANTENNA_REQUIRE_C") == "1":
                raise
            print(f"antenna: C reader not built ({exc}); playlists are read in Python", file=sys.stderr)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # an editable install imports it from src/, where it was built
            relative = target.relative_to(root).as_posix()
            build_data["force_include"][relative] = relative.removeprefix("src/")


def _compile(source: Path, target: Path) -> None:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    with tempfile.TemporaryDirectory() as temp:
        dist = Distribution({"name": "antenna-c", "ext_modules": [Extension(MODULE, [str(source)])]})
        command = build_ext(dist)
        command.build_lib = str(Path(temp) / "lib")
        command.build_temp = str(Path(temp) / "tmp")
        command.ensure_finalized()
        command.run()
        built = Path(command.get_ext_fullpath(MODULE))
        # A new file renamed over the old one: a running Antenna keeps the module it has mapped.
        staged = target.with_name(target.name + ".new")
        staged.write_bytes(built.read_bytes())
        os.replace(staged, target)
