"""Bulk writes of generated trees: new folders appear whole (C and Python alike), files are compared first."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.fs import bulk
from antenna.fs.bulk import (
    NEW_FOLDER_PREFIX,
    folder_stamp,
    remove_abandoned_new_folders,
    stamp_holds,
    write_generated,
    write_new_folder,
    write_new_folders,
)

NAMES = st.text(
    st.characters(blacklist_characters="/\0", blacklist_categories=("Cs", "Co")), min_size=1, max_size=20
)
RELS = st.lists(st.lists(NAMES.filter(lambda n: n not in (".", "..")), min_size=1, max_size=3), max_size=8)


@pytest.fixture(params=["c", "python"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "c":
        if bulk.native() is None:
            pytest.skip("the C tree writer is not built")
    else:
        monkeypatch.setenv("ANTENNA_NO_C", "1")
    return str(request.param)


def test_the_c_tree_writer_is_built_where_the_tests_require_it() -> None:
    if bulk.native() is None:
        if os.environ.get("ANTENNA_REQUIRE_SERVICES") == "1":
            pytest.fail("antenna.fs._tree_write is not built: run `make install` with gcc present")
        pytest.skip("the C tree writer is not built")


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


def folder_files(rels: Sequence[Sequence[str]]) -> list[tuple[str, bytes]]:
    unique = dict.fromkeys("/".join(parts) for parts in rels)
    # A name cannot be both a file and a folder: keep the paths no other path goes through.
    files = [p for p in unique if not any(q.startswith(p + "/") for q in unique)]
    return [(p, p.encode("utf-8", "surrogateescape")[::-1]) for p in files]


@settings(max_examples=60, deadline=None)
@given(rels=RELS)
def test_c_and_python_make_the_same_folder(
    tmp_path_factory: pytest.TempPathFactory, rels: list[list[str]]
) -> None:
    files = folder_files(rels)
    made = {}
    for name in ("c", "python"):
        root = tmp_path_factory.mktemp(name)
        if name == "python" or bulk.native() is None:
            assert write_new_folder(str(root / "Show"), files)
        else:
            assert write_new_folders([(str(root / "Show"), files)]) == [True]
        made[name] = tree(root)
        assert not [p for p in os.listdir(root) if p.startswith(NEW_FOLDER_PREFIX)]
    assert made["c"] == made["python"] == {f"Show/{rel}": data for rel, data in files}


def test_a_batch_writes_new_folders_and_leaves_existing_ones_alone(tmp_path: Path, engine: str) -> None:
    (tmp_path / "Taken").mkdir()
    (tmp_path / "Taken" / "mine.txt").write_text("a user's file")
    (tmp_path / "Link").symlink_to(tmp_path / "Taken")
    result = write_new_folders(
        [
            (
                str(tmp_path / "New"),
                [("New.strm", b"url"), ("Season 01/e.nfo", b"<x/>"), ("Season 01/e.strm", b"u")],
            ),
            (str(tmp_path / "Taken"), [("Taken.strm", b"url")]),
            (str(tmp_path / "Link"), [("Link.strm", b"url")]),
            (str(tmp_path / "Empty"), []),
        ]
    )
    assert result == [True, False, False, True]
    assert tree(tmp_path / "New") == {
        "New.strm": b"url",
        "Season 01/e.nfo": b"<x/>",
        "Season 01/e.strm": b"u",
    }
    assert tree(tmp_path / "Taken") == {"mine.txt": b"a user's file"}
    assert (tmp_path / "Empty").is_dir()
    assert sorted(os.listdir(tmp_path)) == ["Empty", "Link", "New", "Taken"]  # no temp folder left


@pytest.mark.parametrize(
    "rel", ["../escape.strm", "a/../../b.strm", "/abs.strm", "a//b.strm", "./a.strm", "a/."]
)
def test_an_unsafe_name_is_refused_and_nothing_is_left(tmp_path: Path, engine: str, rel: str) -> None:
    with pytest.raises(ValueError, match="unsafe name"):
        write_new_folders([(str(tmp_path / "Show"), [("ok.strm", b"x"), (rel, b"x")])])
    assert os.listdir(tmp_path) == []


def test_a_failed_write_raises_and_leaves_no_temp_folder(tmp_path: Path, engine: str) -> None:
    with pytest.raises(OSError, match=r"too long|Errno 36"):
        write_new_folders([(str(tmp_path / "Show"), [("ok.strm", b"x"), ("x" * 300 + ".strm", b"x")])])
    assert os.listdir(tmp_path) == []


def test_a_missing_parent_raises(tmp_path: Path, engine: str) -> None:
    with pytest.raises(FileNotFoundError):
        write_new_folders([(str(tmp_path / "missing" / "Show"), [("a.strm", b"x")])])


def test_abandoned_temp_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    (tmp_path / f"{NEW_FOLDER_PREFIX}{pid}.1").mkdir()
    (tmp_path / f"{NEW_FOLDER_PREFIX}{pid}.1" / "half.strm").write_text("x")
    (tmp_path / f"{NEW_FOLDER_PREFIX}{os.getpid()}.2").mkdir()  # this process's: a write in progress
    (tmp_path / "Movie (2001)").mkdir()
    assert remove_abandoned_new_folders(tmp_path) == 1
    assert sorted(os.listdir(tmp_path)) == [f"{NEW_FOLDER_PREFIX}{os.getpid()}.2", "Movie (2001)"]
    assert remove_abandoned_new_folders(tmp_path / "missing") == 0


def test_write_generated_leaves_equal_content_alone_and_keeps_a_users_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.strm"
    assert write_generated(path, b"one")
    before = path.stat().st_mtime_ns
    assert not write_generated(path, b"one")
    assert path.stat().st_mtime_ns == before
    path.chmod(0o600)
    assert write_generated(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["a.strm"]


def test_a_folder_stamp_holds_until_a_file_is_added_removed_or_renamed(tmp_path: Path) -> None:
    show = tmp_path / "Show"
    write_new_folder(
        str(show), [("tvshow.nfo", b"x"), ("Season 01/a.strm", b"u"), ("Season 02/b.strm", b"u")]
    )
    stamp = folder_stamp(show, ["Season 01", "Season 02"])
    assert stamp == folder_stamp(show)  # the subfolders listed, or given: the same stamp
    assert stamp_holds(show, stamp)
    (show / "Season 02" / "b.strm").write_bytes(b"edited in place")  # contents are not what it watches
    assert stamp_holds(show, stamp)
    (show / "Season 02" / "b.strm").unlink()
    assert not stamp_holds(show, stamp)
    assert not stamp_holds(show, "")
    assert not stamp_holds(tmp_path / "missing", stamp)
    assert folder_stamp(tmp_path / "missing", ["Season 01"]) == ""
    assert folder_stamp(show, ["Season 09"]) == ""  # a subfolder that is not there
