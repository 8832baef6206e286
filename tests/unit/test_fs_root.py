"""LibraryRoot: nothing it resolves may leave the root, whatever the path or the symlinks in it."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.errors import UnsafePath
from antenna.fs.names import sanitize_name
from antenna.fs.root import LibraryRoot


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[LibraryRoot, Path]:
    """A root with real folders, a symlink out of it, a symlink within it, and an outside folder."""
    base = tmp_path_factory.mktemp("rootcase")
    outside = base / "outside"
    (outside / "secret").mkdir(parents=True)
    root_dir = base / "library"
    (root_dir / "Show" / "Season 01").mkdir(parents=True)
    (root_dir / "Show" / "Season 01" / "ep.mkv").write_bytes(b"x")
    (root_dir / "out").symlink_to(outside)
    (root_dir / "Show" / "up").symlink_to("../..")
    (root_dir / "in").symlink_to("Show")
    (root_dir / "loop").symlink_to("loop")
    return LibraryRoot(root_dir), outside


def _inside(path: Path, root: Path) -> bool:
    real = Path(os.path.realpath(path))
    return real == root or root in real.parents


def test_resolve_plain_paths(tree: tuple[LibraryRoot, Path]) -> None:
    root, _ = tree
    assert root.resolve("Show/Season 01/ep.mkv") == root.path / "Show" / "Season 01" / "ep.mkv"
    assert root.resolve(PurePosixPath("Show/new.nfo")) == root.path / "Show" / "new.nfo"
    assert root.resolve("./Show//x") == root.path / "Show" / "x"
    assert root.resolve("") == root.path
    assert root.resolve("in/Season 01") == root.path / "Show" / "Season 01"


@pytest.mark.parametrize(
    "rel",
    [
        "/etc/passwd",
        "../x",
        "Show/../../x",
        "Show\\..\\..\\x",
        "C:\\Windows",
        "C:x",
        "\\\\server\\share\\x",
        "out",
        "out/secret/new.txt",
        "Show/up",
        "Show/up/outside/x",
        "a\x00b",
        "x" * 256,
        "a\ud800",
    ],
)
def test_resolve_refuses(tree: tuple[LibraryRoot, Path], rel: str) -> None:
    root, _ = tree
    with pytest.raises(UnsafePath):
        root.resolve(rel)


def test_symlink_inside_root_pointing_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    library = tmp_path / "lib"
    library.mkdir()
    (library / "media").symlink_to(outside, target_is_directory=True)
    root = LibraryRoot(library)
    with pytest.raises(UnsafePath, match="outside"):
        root.resolve("media/evil.nfo")
    with pytest.raises(UnsafePath):
        root.safe_path("media", "evil.nfo")


def test_safe_path_sanitises_each_part(tree: tuple[LibraryRoot, Path]) -> None:
    root, _ = tree
    expected = root.path / "Show_ The_Return" / "_" / "con_.nfo"
    assert root.safe_path("Show: The/Return", "..", "con.nfo") == expected
    assert root.safe_path() == root.path


def test_relative(tree: tuple[LibraryRoot, Path]) -> None:
    root, outside = tree
    assert root.relative(root.path / "Show" / "x.nfo") == PurePosixPath("Show/x.nfo")
    assert root.relative(root.path) == PurePosixPath(".")
    with pytest.raises(UnsafePath):
        root.relative(outside / "x")


def test_root_made_from_symlinked_or_missing_folder(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    assert LibraryRoot(tmp_path / "alias").path == real
    missing = LibraryRoot(tmp_path / "new" / "lib")
    missing.ensure()
    assert missing.path.is_dir()
    assert missing.resolve("a/b") == missing.path / "a" / "b"


COMPONENTS = st.one_of(
    st.sampled_from(["..", ".", "", "Show", "Season 01", "out", "up", "in", "loop", "ep.mkv", "C:", "~"]),
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8"), min_size=250, max_size=260),
)
RELPATHS = st.tuples(st.lists(COMPONENTS, max_size=6), st.sampled_from(["/", "\\"]), st.booleans()).map(
    lambda t: ("/" if t[2] else "") + t[1].join(t[0])
)


@given(rel=RELPATHS)
@settings(max_examples=400)
def test_resolve_never_escapes(tree: tuple[LibraryRoot, Path], rel: str) -> None:
    root, _ = tree
    try:
        resolved = root.resolve(rel)
    except UnsafePath:
        return
    assert _inside(resolved, root.path)
    assert resolved == root.path or root.path in resolved.parents


@given(parts=st.lists(st.one_of(COMPONENTS, st.text()), max_size=5))
@settings(max_examples=300)
def test_safe_path_never_escapes_and_caps_names(tree: tuple[LibraryRoot, Path], parts: list[str]) -> None:
    root, _ = tree
    try:
        resolved = root.safe_path(*parts)
    except UnsafePath:
        # Sanitised names cannot go up or be absolute: only a symlink that really leads out is refused.
        lexical = root.path.joinpath(*(sanitize_name(part) for part in parts))
        assert not _inside(lexical, root.path)
        return
    assert _inside(resolved, root.path)
    for part in root.relative(resolved).parts:
        assert len(part.encode("utf-8")) <= 255
        assert part not in ("..", ".")


@given(name=st.text(min_size=1, max_size=300))
@settings(max_examples=60)
def test_sanitised_names_really_work_on_disk(tree: tuple[LibraryRoot, Path], name: str) -> None:
    root, _ = tree
    path = root.safe_path("written", name)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"ok")  # would raise if the name were too long or invalid for this filesystem
    assert path.parent == root.path / "written"
    path.unlink()
