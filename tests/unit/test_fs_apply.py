"""Plan/apply: every action, failures that stay per operation, and dry runs that touch nothing."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antenna.fs.apply import apply
from antenna.fs.ops import ChangeAction, DeleteFile, FileOp, MakeDir, MoveFile, TrashFile, WriteFile
from antenna.fs.root import LibraryRoot
from antenna.fs.trash import Trash

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
OLD_TIME = 1_000_000_000


def _snapshot(folder: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every entry below folder: kind, content, mtime (ns); the way to prove nothing changed."""
    seen: dict[str, tuple[str, bytes, int]] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            seen[rel] = ("link", os.readlink(path).encode(), info.st_mtime_ns)
        elif path.is_dir():
            seen[rel] = ("dir", b"", info.st_mtime_ns)
        else:
            seen[rel] = ("file", path.read_bytes(), info.st_mtime_ns)
    return seen


def _library(base: Path) -> tuple[LibraryRoot, Trash, Path]:
    lib = base / "lib"
    (lib / "Show" / "Season 01").mkdir(parents=True)
    (lib / "Show" / "tvshow.nfo").write_bytes(b"<tvshow/>")
    (lib / "Show" / "Season 01" / "e1.mkv").write_bytes(b"video")
    (lib / "Show" / "Season 01" / "e1.nfo").write_bytes(b"<ep/>")
    outside = base / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_bytes(b"keep me")
    (lib / "escape").symlink_to(outside)
    return LibraryRoot(lib), Trash(base / "trash"), outside


PLAN: list[FileOp] = [
    WriteFile("Show/tvshow.nfo", b"<tvshow/>", "show metadata"),
    WriteFile("Show/Season 01/e1.nfo", b"<ep>new</ep>", "episode metadata"),
    WriteFile("Show/Season 02/e1.nfo", b"<ep/>", "new season"),
    MakeDir("Show/Extras", "extras folder"),
    MoveFile("Show/Season 01/e1.mkv", "Show/Season 01/S01E01.mkv", "rename"),
    WriteFile("Show/Season 01/e1.mkv", b"placeholder", "reuse old name"),
    TrashFile("Show/Season 02", "season removed"),
    DeleteFile("Show/Season 01/e1.nfo", "stale nfo"),
    DeleteFile("Show/gone.nfo", "stale nfo"),
    WriteFile("../evil.txt", b"x", "escape attempt"),
    WriteFile("escape/precious.txt", b"overwritten", "symlink escape"),
    TrashFile("escape/precious.txt", "symlink escape"),
    MoveFile("Show/tvshow.nfo", "/tmp/stolen.nfo", "absolute"),
    WriteFile("Show", b"x", "folder in the way"),
    WriteFile("Show/tvshow.nfo/x", b"x", "file in the way"),
    MoveFile("Show/missing.mkv", "Show/x.mkv", "missing source"),
    MoveFile("Show/Season 01/S01E01.mkv", "Show/tvshow.nfo", "target exists"),
    WriteFile("", b"x", "the root itself"),
]
EXPECTED = [
    "unchanged",
    "updated",
    "created",
    "created",
    "moved",
    "created",
    "trashed",
    "deleted",
    "unchanged",
    "failed",
    "failed",
    "failed",
    "failed",
    "failed",
    "failed",
    "failed",
    "failed",
    "failed",
]


def test_apply_plan(tmp_path: Path) -> None:
    root, trash, outside = _library(tmp_path)
    os.utime(root.path / "Show" / "tvshow.nfo", (OLD_TIME, OLD_TIME))
    log = apply(root, PLAN, trash=trash, now=NOW)
    assert [c.action.value for c in log.changes] == EXPECTED
    assert all(c.reason == op.reason for c, op in zip(log.changes, PLAN, strict=True))
    lib = root.path
    assert (lib / "Show" / "tvshow.nfo").stat().st_mtime == OLD_TIME  # unchanged: not rewritten
    assert (lib / "Show" / "Season 01" / "S01E01.mkv").read_bytes() == b"video"
    assert (lib / "Show" / "Season 01" / "e1.mkv").read_bytes() == b"placeholder"
    assert not (lib / "Show" / "Season 01" / "e1.nfo").exists()
    assert (lib / "Show" / "Extras").is_dir()
    assert not (lib / "Show" / "Season 02").exists()
    assert [e.original.as_posix() for e in trash.entries()] == ["Show/Season 02/e1.nfo"]
    assert (outside / "precious.txt").read_bytes() == b"keep me"
    assert not Path("/tmp/stolen.nfo").exists()
    assert log.summary() == "3 created, 1 updated, 2 unchanged, 1 moved, 1 trashed, 1 deleted, 9 failed"
    assert "outside" in log.changes[10].detail
    assert log.changes[4].detail == "from Show/Season 01/e1.mkv"


def test_dry_run_touches_nothing_and_reports_the_same(tmp_path: Path) -> None:
    root, trash, _ = _library(tmp_path)
    before = _snapshot(tmp_path)
    dry = apply(root, PLAN, trash=trash, dry_run=True, now=NOW)
    assert _snapshot(tmp_path) == before
    assert [c.action.value for c in dry.changes] == EXPECTED
    real = apply(root, PLAN, trash=trash, now=NOW)
    assert [(c.action, c.path) for c in dry.changes] == [(c.action, c.path) for c in real.changes]


def test_trash_without_trash_fails(tmp_path: Path) -> None:
    root, _, _ = _library(tmp_path)
    log = apply(root, [TrashFile("Show/tvshow.nfo", "cleanup")])
    assert log.changes[0].action is ChangeAction.FAILED
    assert "trash" in log.changes[0].detail
    assert (root.path / "Show" / "tvshow.nfo").exists()


def test_trash_inside_library_cannot_swallow_itself(tmp_path: Path) -> None:
    root, _, _ = _library(tmp_path)
    trash = Trash(root.path / ".trash")
    log = apply(root, [TrashFile(".trash", "x"), TrashFile("Show", "y")], trash=trash, now=NOW)
    assert [c.action for c in log.changes] == [ChangeAction.UNCHANGED, ChangeAction.TRASHED]
    (root.path / ".trash" / "junk").mkdir(parents=True)
    log = apply(root, [TrashFile(".trash/junk", "x")], trash=trash, now=NOW, dry_run=True)
    assert log.changes[0].action is ChangeAction.FAILED


def test_delete_refuses_folders(tmp_path: Path) -> None:
    root, _, _ = _library(tmp_path)
    log = apply(root, [DeleteFile("Show", "x")])
    assert log.changes[0].action is ChangeAction.FAILED
    assert (root.path / "Show" / "tvshow.nfo").exists()


def test_oserror_becomes_failed_change(tmp_path: Path) -> None:
    root, _, _ = _library(tmp_path)
    long_path = "/".join(["d" * 200] * 30)  # each name fine, the whole path too long for the OS
    log = apply(root, [WriteFile(f"{long_path}/x.nfo", b"x", "deep"), WriteFile("ok.nfo", b"x", "fine")])
    assert [c.action for c in log.changes] == [ChangeAction.FAILED, ChangeAction.CREATED]
    assert "too long" in log.changes[0].detail


def test_dry_run_follows_moves_of_folders(tmp_path: Path) -> None:
    root, trash, _ = _library(tmp_path)
    plan: list[FileOp] = [
        MoveFile("Show", "Renamed", "rename show"),
        WriteFile("Renamed/tvshow.nfo", b"<tvshow/>", "same"),
        WriteFile("Renamed/Season 01/e1.nfo", b"<ep>2</ep>", "changed"),
        WriteFile("Show/tvshow.nfo", b"<tvshow/>", "old place is empty now"),
        MoveFile("Renamed/Season 01", "Renamed/S1", "rename season"),
        DeleteFile("Renamed/S1/e1.nfo", "drop"),
        WriteFile("Renamed/S1/e1.nfo", b"<ep/>", "again"),
        TrashFile("Renamed/S1/e1.mkv", "old"),
        TrashFile("Renamed/S1/e1.mkv", "twice"),
        MakeDir("Renamed/S1/e1.nfo", "file in the way"),
    ]
    dry = apply(root, plan, trash=trash, dry_run=True, now=NOW)
    real = apply(root, plan, trash=trash, now=NOW)
    assert [c.action for c in dry.changes] == [c.action for c in real.changes]
    assert [c.action.value for c in real.changes] == [
        "moved",
        "unchanged",
        "updated",
        "created",
        "moved",
        "deleted",
        "created",
        "trashed",
        "unchanged",
        "failed",
    ]


NAMES = ["a", "b", "a/x", "a/y", "b/x", "c/d/e", "escape/z", "..", "a/x/q"]
OPS = st.one_of(
    st.builds(WriteFile, st.sampled_from(NAMES), st.sampled_from([b"1", b"22", b""]), st.just("w")),
    st.builds(MoveFile, st.sampled_from(NAMES), st.sampled_from(NAMES), st.just("m")),
    st.builds(TrashFile, st.sampled_from(NAMES), st.just("t")),
    st.builds(DeleteFile, st.sampled_from(NAMES), st.just("d")),
    st.builds(MakeDir, st.sampled_from(NAMES), st.just("k")),
)


@given(plan=st.lists(OPS, max_size=12))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_dry_run_predicts_real_run(plan: list[FileOp]) -> None:
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        root, trash, outside = _library(base)
        (root.path / "a").mkdir()
        (root.path / "a" / "x").write_bytes(b"1")
        before = _snapshot(base)
        dry = apply(root, plan, trash=trash, dry_run=True, now=NOW)
        assert _snapshot(base) == before
        real = apply(root, plan, trash=trash, now=NOW)
        assert [c.action for c in dry.changes] == [c.action for c in real.changes]
        assert (outside / "precious.txt").read_bytes() == b"keep me"
        assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
        assert {p.name for p in base.iterdir()} <= {"lib", "outside", "trash"}


def test_empty_plan(tmp_path: Path) -> None:
    root, _, _ = _library(tmp_path)
    log = apply(root, [])
    assert log.changes == []
    assert log.summary() == "no changes"


@pytest.mark.parametrize("dry_run", [False, True])
def test_write_into_missing_root(tmp_path: Path, dry_run: bool) -> None:
    root = LibraryRoot(tmp_path / "new-lib")
    log = apply(root, [WriteFile("Show/tvshow.nfo", b"x", "first")], dry_run=dry_run)
    assert log.changes[0].action is ChangeAction.CREATED
    assert (tmp_path / "new-lib").exists() is not dry_run
