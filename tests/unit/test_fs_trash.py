"""The trash: batches by time, kept paths, unique names, retention purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

import pytest

from antenna.errors import UnsafePath
from antenna.fs.trash import Trash

NOW = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    (lib / "Show" / "Season 01").mkdir(parents=True)
    (lib / "Show" / "Season 01" / "e1.mkv").write_bytes(b"one")
    (lib / "Show" / "Season 01" / "e2.mkv").write_bytes(b"two!")
    return lib


def test_put_keeps_relative_path_in_time_batch(tmp_path: Path, library: Path) -> None:
    trash = Trash(tmp_path / "trash")
    dest = trash.put(library / "Show" / "Season 01" / "e1.mkv", relative_to=library, now=NOW)
    assert dest == trash.path / "20240501-123015" / "Show" / "Season 01" / "e1.mkv"
    assert dest.read_bytes() == b"one"
    assert not (library / "Show" / "Season 01" / "e1.mkv").exists()


def test_put_uniquifies_on_collision(tmp_path: Path, library: Path) -> None:
    trash = Trash(tmp_path / "trash")
    first = trash.put(library / "Show" / "Season 01" / "e1.mkv", relative_to=library, now=NOW)
    (library / "Show" / "Season 01" / "e1.mkv").write_bytes(b"again")
    second = trash.put(library / "Show" / "Season 01" / "e1.mkv", relative_to=library, now=NOW)
    assert second == first.with_name("e1 (1).mkv")
    assert second.read_bytes() == b"again"


def test_file_in_the_way_of_a_folder_in_the_batch(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a").write_bytes(b"file")
    trash = Trash(tmp_path / "trash")
    trash.put(lib / "a", relative_to=lib, now=NOW)
    (lib / "a").mkdir()
    (lib / "a" / "b").write_bytes(b"later")
    dest = trash.put(lib / "a" / "b", relative_to=lib, now=NOW)
    assert dest == trash.path / "20240501-123015" / "a (1)" / "b"
    assert sorted(e.original.as_posix() for e in trash.entries()) == ["a", "a (1)/b"]


def test_uniquified_long_name_still_fits(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    name = "x" * 251 + ".mkv"
    trash = Trash(tmp_path / "trash")
    (lib / name).write_bytes(b"1")
    trash.put(lib / name, relative_to=lib, now=NOW)
    (lib / name).write_bytes(b"2")
    second = trash.put(lib / name, relative_to=lib, now=NOW)
    assert len(second.name.encode()) <= 255
    assert second.name.endswith(" (1).mkv")


def test_put_folder_and_list_entries(tmp_path: Path, library: Path) -> None:
    trash = Trash(tmp_path / "trash")
    trash.put(library / "Show", relative_to=library, now=NOW)
    entries = trash.entries()
    assert [e.original for e in entries] == [
        PurePosixPath("Show/Season 01/e1.mkv"),
        PurePosixPath("Show/Season 01/e2.mkv"),
    ]
    assert [e.size_bytes for e in entries] == [3, 4]
    assert {e.trashed_at for e in entries} == {NOW.replace(microsecond=0)}
    assert all(e.path.is_file() for e in entries)


def test_naive_and_other_zone_times_are_utc(tmp_path: Path, library: Path) -> None:
    trash = Trash(tmp_path / "trash")
    plus2 = timezone(timedelta(hours=2))
    dest = trash.put(library / "Show", relative_to=library, now=datetime(2024, 5, 1, 14, 0, tzinfo=plus2))
    assert dest.parent.name == "20240501-120000"
    (entry, *_) = trash.entries()
    assert entry.trashed_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert trash.purge(older_than=timedelta(hours=1), now=datetime(2024, 5, 1, 12, 30)) == []


def test_refuses_outside_and_the_trash_itself(tmp_path: Path, library: Path) -> None:
    trash = Trash(library / ".trash")
    with pytest.raises(UnsafePath):
        trash.put(tmp_path, relative_to=library, now=NOW)
    with pytest.raises(UnsafePath):
        trash.put(library, relative_to=library, now=NOW)
    (library / ".trash").mkdir()
    with pytest.raises(UnsafePath):
        trash.put(library / ".trash", relative_to=library, now=NOW)
    with pytest.raises(FileNotFoundError):
        trash.put(library / "missing.mkv", relative_to=library, now=NOW)


def test_purge_removes_only_old_batches(tmp_path: Path, library: Path) -> None:
    trash = Trash(tmp_path / "trash")
    season = library / "Show" / "Season 01"
    old = trash.put(season / "e1.mkv", relative_to=library, now=NOW - timedelta(days=31))
    new = trash.put(season / "e2.mkv", relative_to=library, now=NOW - timedelta(days=29))
    (trash.path / "notes.txt").write_text("not a batch")
    (trash.path / "20241399-000000").mkdir()  # looks like a batch, is not a date: not ours to delete
    removed = trash.purge(older_than=timedelta(days=30), now=NOW)
    assert removed == [trash.path / old.relative_to(trash.path).parts[0]]
    assert not old.exists()
    assert new.exists()
    assert (trash.path / "notes.txt").exists()
    assert (trash.path / "20241399-000000").exists()
    assert [e.original.name for e in trash.entries()] == ["e2.mkv"]


def test_purge_boundary_and_empty_trash(tmp_path: Path, library: Path) -> None:
    trash = Trash(tmp_path / "trash")
    assert trash.purge(older_than=timedelta(days=1), now=NOW) == []
    assert trash.entries() == []
    trash.put(library / "Show", relative_to=library, now=NOW - timedelta(days=1))
    assert trash.purge(older_than=timedelta(days=1), now=NOW) == []  # exactly the retention: kept
    assert len(trash.purge(older_than=timedelta(days=1), now=NOW + timedelta(seconds=1))) == 1
