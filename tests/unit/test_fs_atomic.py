"""Atomic writes and moves: compare before write, crash safety, and moves across filesystems."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from antenna.fs.atomic import (
    atomic_move,
    atomic_write,
    atomic_write_text,
    atomic_writer,
    ensure_dir,
    remove_file,
    same_content,
)
from antenna.fs.datadir import prepare_data_dir

OLD_TIME = 1_000_000_000  # 2001: far from "now", so a rewrite cannot keep it by accident


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_creates_then_skips_unchanged_keeping_mtime(tmp_path: Path) -> None:
    target = tmp_path / "show.nfo"
    assert atomic_write(target, b"<tvshow/>") is True
    os.utime(target, (OLD_TIME, OLD_TIME))
    assert atomic_write(target, b"<tvshow/>") is False
    assert target.stat().st_mtime == OLD_TIME
    assert atomic_write_text(target, "<tvshow/>") is False
    assert target.stat().st_mtime == OLD_TIME


def test_write_replaces_changed_content(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_bytes(b"abc")
    os.utime(target, (OLD_TIME, OLD_TIME))
    assert atomic_write(target, b"abd") is True  # same size, other bytes
    assert target.read_bytes() == b"abd"
    assert target.stat().st_mtime != OLD_TIME
    assert atomic_write(target, b"abcd") is True
    assert target.read_bytes() == b"abcd"
    assert atomic_write(target, b"abcd", only_if_changed=False) is True
    assert _leftovers(tmp_path) == []


def test_write_keeps_permissions_of_replaced_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_bytes(b"old")
    target.chmod(0o640)
    atomic_write(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_is_not_private(tmp_path: Path) -> None:
    target = tmp_path / "new.txt"
    old_umask = os.umask(0o022)
    try:
        atomic_write(target, b"x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # media servers run as other users


def test_same_content(tmp_path: Path) -> None:
    target = tmp_path / "a"
    assert not same_content(target, b"")
    target.write_bytes(b"")
    assert same_content(target, b"")
    big = os.urandom(3 * 1024 * 1024 + 7)
    target.write_bytes(big)
    assert same_content(target, big)
    assert not same_content(target, big[:-1] + b"!")
    assert not same_content(tmp_path, b"")


def test_writer_failure_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_bytes(b"old")

    class Boom(Exception):
        pass

    def write_then_fail() -> None:
        with atomic_writer(target) as stream:
            stream.write(b"half")
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_replace_onto_folder_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path / "dir", b"x")
    assert _leftovers(tmp_path) == []


def test_temp_name_of_longest_name_fits(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 125 + ".mkv")  # 254 bytes
    assert atomic_write(target, b"x") is True
    assert target.read_bytes() == b"x"


CRASH_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from antenna.fs.atomic import atomic_writer

    with atomic_writer(Path(sys.argv[1])) as stream:
        stream.write(b"NEW CONTENT " * 10000)
        stream.flush()
        os.fsync(stream.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.slow
def test_crash_between_write_and_replace_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "episode.nfo"
    old = b"<episodedetails>old</episodedetails>\n"
    target.write_bytes(old)
    done = subprocess.run([sys.executable, "-c", CRASH_CHILD, str(target)], timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == old
    # The child really got as far as writing: its temp file is left, beside the target, never in its place.
    (leftover,) = _leftovers(tmp_path)
    assert leftover.startswith(".episode.nfo.")
    assert (tmp_path / leftover).read_bytes().startswith(b"NEW CONTENT")


@pytest.fixture
def exdev_once(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Make the next os.replace fail with EXDEV, like a rename across filesystems; count the calls."""
    real_replace = os.replace
    calls = {"n": 0}

    def fake_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fake_replace)
    return lambda: calls["n"]


def test_move_same_filesystem(tmp_path: Path) -> None:
    src = tmp_path / "a.mkv"
    src.write_bytes(b"video")
    dst = tmp_path / "Show" / "Season 01" / "a.mkv"
    atomic_move(src, dst)
    assert dst.read_bytes() == b"video"
    assert not src.exists()


def test_move_file_across_filesystems(tmp_path: Path, exdev_once: Callable[[], int]) -> None:
    src = tmp_path / "downloads" / "a.mkv"
    src.parent.mkdir()
    src.write_bytes(b"video" * 1000)
    os.utime(src, (OLD_TIME, OLD_TIME))
    dst = tmp_path / "lib" / "a.mkv"
    atomic_move(src, dst)
    assert exdev_once() == 2  # the failed rename, then the rename of the copied temp
    assert dst.read_bytes() == b"video" * 1000
    assert dst.stat().st_mtime == OLD_TIME
    assert not src.exists()
    assert _leftovers(dst.parent) == []


def test_move_folder_across_filesystems(tmp_path: Path, exdev_once: Callable[[], int]) -> None:
    src = tmp_path / "Show"
    (src / "Season 01").mkdir(parents=True)
    (src / "Season 01" / "e1.mkv").write_bytes(b"1")
    (src / "link").symlink_to("Season 01/e1.mkv")
    dst = tmp_path / "trash" / "Show"
    atomic_move(src, dst)
    assert exdev_once() == 2
    assert (dst / "Season 01" / "e1.mkv").read_bytes() == b"1"
    assert os.readlink(dst / "link") == "Season 01/e1.mkv"
    assert not src.exists()


def test_move_missing_source_across_filesystems(tmp_path: Path, exdev_once: Callable[[], int]) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_move(tmp_path / "nope", tmp_path / "dst")


def _other_filesystem() -> Path | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != Path.cwd().stat().st_dev:
        return shm
    return None


@pytest.mark.skipif(_other_filesystem() is None, reason="needs /dev/shm on another filesystem")
def test_move_to_a_real_other_filesystem(tmp_path: Path) -> None:
    if tmp_path.stat().st_dev == Path("/dev/shm").stat().st_dev:
        pytest.skip("tmp_path is on the same filesystem as /dev/shm")
    src = tmp_path / "a.mkv"
    src.write_bytes(b"video")
    dst = Path("/dev/shm") / f"antenna-test-{os.getpid()}" / "a.mkv"
    try:
        atomic_move(src, dst)
        assert dst.read_bytes() == b"video"
        assert not src.exists()
    finally:
        remove_file(dst)
        dst.parent.rmdir()


def test_remove_file(tmp_path: Path) -> None:
    target = tmp_path / "a.nfo"
    target.write_bytes(b"x")
    remove_file(target)
    assert not target.exists()
    remove_file(target)  # already gone is fine
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError):
        remove_file(tmp_path / "dir")


def test_atomic_writer_mode_and_private_dirs(tmp_path: Path) -> None:
    target = tmp_path / "secret.bin"
    with atomic_writer(target, mode=0o600) as stream:
        stream.write(b"key")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    folder = tmp_path / "private" / "inner"
    ensure_dir(folder, mode=0o700)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(prepare_data_dir(tmp_path / "data").stat().st_mode) == 0o700
