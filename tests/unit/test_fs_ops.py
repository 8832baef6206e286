"""Change log: counts, summary, CSV rows."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest

from antenna.fs.ops import Change, ChangeAction, ChangeLog, WriteFile


def test_change_log_counts_summary_csv() -> None:
    log = ChangeLog()
    log.add(Change(ChangeAction.CREATED, "a.nfo", "new episode"))
    log.add(Change(ChangeAction.CREATED, "b.nfo", "new episode"))
    log.add(Change(ChangeAction.UNCHANGED, "c.nfo", "same"))
    log.add(Change(ChangeAction.FAILED, "../d", "bad", 'Path "../d", goes up'))
    assert log.counts()["created"] == 2
    assert log.counts()["trashed"] == 0
    assert list(log.counts()) == [a.value for a in ChangeAction]
    assert log.summary() == "2 created, 1 unchanged, 1 failed"
    assert [c.path for c in log.failed] == ["../d"]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(log.to_csv_rows())
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[0] == ["action", "path", "reason", "detail"]
    assert rows[4] == ["failed", "../d", "bad", 'Path "../d", goes up']


def test_ops_are_frozen() -> None:
    op = WriteFile("a", b"x", "why")
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.path = "b"  # type: ignore[misc]
    assert ChangeAction("moved") is ChangeAction.MOVED
    assert str(ChangeAction.MOVED) == "moved"
