"""Hatch build hook: compile the optional C modules, each a faster twin of Python code beside it.

- iptv/_playlist_views.c: the reader of the streamed playlist merge (twin of iptv/playlist_views.py);
- fs/_tree_write.c: writes new folders of a generated tree without the GIL (twin of fs/bulk.py).

Without a C compiler (or Python headers) the build goes on without them: Antenna then does the same work in
Python, more slowly. ANTENNA_REQUIRE_C=1 makes a failed compile an error, for CI. Each module is built in
place next to its source, so editable installs import it too.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULES = {  # module -> what runs in Python without it
    "antenna.iptv._playlist_views": "playlists are read in Python",
    "antenna.fs._tree_write": "new VOD folders are written in Python",
}


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile the C modules; record them as platform-specific artifacts of the wheel."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for module, fallback in MODULES.items():
            source = root / "src" / Path(*module.split(".")).with_suffix(".c")
            target = source.with_suffix("").with_name(
                source.stem + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")
            )
            try:
                _compile(module, source, target)
            except Exception as exc:  # any compiler or setuptools failure: build without the speed-up
                if os.environ.get("ANTENNA_REQUIRE_C") == "1":
                    raise
                print(f"antenna: {module} not built ({exc}); {fallback}", file=sys.stderr)
                continue
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
            if version != "editable":  # an editable install imports it from src/, where it was built
                relative = target.relative_to(root).as_posix()
                build_data["force_include"][relative] = relative.removeprefix("src/")


def _compile(module: str, source: Path, target: Path) -> None:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    with tempfile.TemporaryDirectory() as temp:
        dist = Distribution({"name": "antenna-c", "ext_modules": [Extension(module, [str(source)])]})
        command = build_ext(dist)
        command.build_lib = str(Path(temp) / "lib")
        command.build_temp = str(Path(temp) / "tmp")
        command.ensure_finalized()
        command.run()
        built = Path(command.get_ext_fullpath(module))
        # A new file renamed over the old one: a running Antenna keeps the module it has mapped.
        staged = target.with_name(target.name + ".new")
        staged.write_bytes(built.read_bytes())
        os.replace(staged, target)
