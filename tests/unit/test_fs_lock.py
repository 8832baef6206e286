"""Data dir lock and data dir preparation."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from antenna.errors import DataDirError
from antenna.fs.datadir import prepare_data_dir, write_if_missing
from antenna.fs.lock import DataDirLock


def test_lock_writes_pid_and_blocks_a_second_holder(tmp_path: Path) -> None:
    lock_file = tmp_path / "antenna.lock"
    with DataDirLock(lock_file) as first:
        assert first.held
        assert lock_file.read_text().strip() == str(os.getpid())
        # flock conflicts between separate opens even in one process, like a second server would.
        with pytest.raises(DataDirError) as caught:
            DataDirLock(lock_file).acquire()
        expected = f"Another Antenna server is already using {tmp_path} (pid {os.getpid()})."
        assert caught.value.message == expected
        assert caught.value.hint == "Stop it first, or start this one with another --data dir."
        with pytest.raises(RuntimeError):
            first.acquire()
    assert not first.held
    with DataDirLock(lock_file):  # released: free again
        pass
    DataDirLock(lock_file).release()  # releasing an unheld lock does nothing


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from antenna.fs.lock import DataDirLock

    lock = DataDirLock(Path(sys.argv[1]))
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()
    """
)


@pytest.mark.slow
def test_lock_held_by_another_process_names_its_pid(tmp_path: Path) -> None:
    lock_file = tmp_path / "antenna.lock"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == b"locked\n"
        with pytest.raises(DataDirError, match=f"pid {child.pid}"):
            DataDirLock(lock_file).acquire()
        child.kill()  # the kernel drops the flock with the process, even on SIGKILL
        child.wait(timeout=30)
    with DataDirLock(lock_file):
        assert lock_file.read_text().strip() == str(os.getpid())


def test_lock_file_that_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataDirError, match="lock file"):
        DataDirLock(tmp_path / "file" / "antenna.lock").acquire()


def test_prepare_data_dir_creates_and_probes(tmp_path: Path) -> None:
    data = prepare_data_dir(tmp_path / "a" / "b" / ".." / "data")
    assert data == (tmp_path / "a" / "data").resolve()
    assert data.is_dir()
    assert list(data.iterdir()) == []  # the probe is gone
    assert prepare_data_dir(data) == data


def test_prepare_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("x")
    with pytest.raises(DataDirError, match="is a file") as caught:
        prepare_data_dir(tmp_path / "data")
    assert "--data" in caught.value.hint
    with pytest.raises(DataDirError, match="cannot be created"):
        prepare_data_dir(tmp_path / "data" / "sub")


@pytest.mark.skipif(not Path("/proc/sys").is_dir(), reason="needs /proc/sys")
def test_prepare_data_dir_refused_even_for_root() -> None:
    with pytest.raises(DataDirError, match=r"^Data dir /proc/sys is not writable \(") as caught:
        prepare_data_dir(Path("/proc/sys"))
    assert caught.value.hint == "Choose another with --data or fix its permissions."


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_prepare_data_dir_not_writable(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(DataDirError, match="not writable"):
            prepare_data_dir(locked)
    finally:
        locked.chmod(0o755)


def test_write_if_missing(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "antenna.toml"
    assert write_if_missing(target, "a = 1\n") is True
    assert write_if_missing(target, "a = 2\n") is False
    assert target.read_text() == "a = 1\n"
