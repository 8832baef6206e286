"""Job runner and scheduler against a real database: progress, failures, cancel, concurrency, recovery."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from antenna.container import Container
from antenna.errors import Conflict, NotFound, UserError
from antenna.jobs.bus import Event
from antenna.jobs.models import Job, JobContext, JobKind, JobStatus
from antenna.jobs.owner import current_owner
from antenna.jobs.scheduler import Scheduler


async def _wait_for(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def _status(container: Container, job_id: int) -> JobStatus:
    job = container.jobs.get(job_id)
    assert job is not None
    return job.status


def _kind(name: str, body: Callable[[JobContext], Awaitable[str | None]], **kw: object) -> JobKind:
    return JobKind(name, name.title(), body, **kw)  # type: ignore[arg-type]


def test_job_runs_reports_progress_and_item_failures(container: Container) -> None:
    events: list[Event] = []
    container.bus.listen(events.append)

    async def body(ctx: JobContext) -> str:
        for step in range(1, 6):
            ctx.progress(step, 5, f"step {step}")
            if step == 3:
                ctx.item_failed("item-3", "could not read it")
            await asyncio.sleep(0)
        return "five steps"

    async def scenario() -> Job:
        container.runner.register(_kind("demo", body))
        await container.runner.start()
        try:
            job = container.runner.submit("demo", {"x": 1})
            await _wait_for(lambda: _status(container, job.id).finished)
        finally:
            await container.runner.stop()
        final = container.jobs.get(job.id)
        assert final is not None
        return final

    final = asyncio.run(scenario())
    assert final.status is JobStatus.SUCCEEDED
    assert final.message == "five steps"
    assert (final.done, final.total, final.percent) == (5, 5, 100)
    assert final.failed_items == 1
    assert container.jobs.failures(final.id)[0].reason == "could not read it"
    percents = [e.data["percent"] for e in events if e.data["id"] == final.id]
    assert 60 in percents
    assert percents[-1] == 100
    assert [e.data["status"] for e in events if e.data["id"] == final.id][-1] == "succeeded"


def test_user_error_and_bug_fail_the_job_with_a_message(container: Container) -> None:
    async def user(_ctx: JobContext) -> str:
        raise UserError("the feed is gone", "Check the URL.")

    async def bug(_ctx: JobContext) -> str:
        raise ZeroDivisionError("oops")

    async def scenario() -> tuple[Job, Job]:
        container.runner.register(_kind("user", user))
        container.runner.register(_kind("bug", bug))
        a = await container.runner.run_now("user")
        b = await container.runner.run_now("bug")
        return a, b

    a, b = asyncio.run(scenario())
    assert a.status is JobStatus.FAILED
    assert a.error == "the feed is gone Check the URL."
    assert b.status is JobStatus.FAILED
    assert "internal error: ZeroDivisionError" in b.error


def test_cancel_running_and_queued(container: Container) -> None:
    started = asyncio.Event()

    async def slow(ctx: JobContext) -> str:
        started.set()
        for _ in range(1000):
            ctx.check_cancelled()
            await asyncio.sleep(0.01)
        return "not cancelled"

    async def scenario() -> tuple[Job, Job]:
        container.runner.register(_kind("slow", slow))
        await container.runner.start()
        try:
            first = container.runner.submit("slow")
            second = container.runner.submit("slow")  # waits: concurrency 1 per kind
            await asyncio.wait_for(started.wait(), 10)
            assert _status(container, second.id) is JobStatus.QUEUED
            container.runner.cancel(second.id)
            container.runner.cancel(first.id)
            await _wait_for(lambda: _status(container, first.id).finished)
        finally:
            await container.runner.stop()
        a, b = container.jobs.get(first.id), container.jobs.get(second.id)
        assert a is not None
        assert b is not None
        return a, b

    first, second = asyncio.run(scenario())
    assert first.status is JobStatus.CANCELLED
    assert second.status is JobStatus.CANCELLED
    with pytest.raises(Conflict):
        container.runner.cancel(first.id)
    with pytest.raises(NotFound):
        container.runner.cancel(99999)


async def _endless(ctx: JobContext) -> str:
    while True:
        await asyncio.sleep(0.02)
        ctx.check_cancelled()


def _cancel_scenario(
    container: Container, submit: Callable[[], Awaitable[Job]], cancel: Callable[[int], Awaitable[object]]
) -> JobStatus:
    """Start an endless job with submit, cancel it with cancel once it runs; return its final status."""

    async def scenario() -> JobStatus:
        container.runner.register(_kind("slow", _endless))
        await container.runner.start()
        try:
            job = await submit()
            await _wait_for(lambda: _status(container, job.id) is JobStatus.RUNNING)
            await cancel(job.id)
            await _wait_for(lambda: _status(container, job.id).finished)
            return _status(container, job.id)
        finally:
            await container.runner.stop()

    return asyncio.run(scenario())


def test_cancel_requested_by_another_process_stops_the_job(container: Container) -> None:
    async def submit() -> Job:
        return container.runner.submit("slow")

    async def cancel(job_id: int) -> object:
        return container.jobs.request_cancel(job_id)  # what `antenna jobs cancel` does from another process

    assert _cancel_scenario(container, submit, cancel) is JobStatus.CANCELLED


def test_concurrency_per_kind_is_bounded(container: Container) -> None:
    running = 0
    peak = 0

    async def body(_ctx: JobContext) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        return "ok"

    async def scenario() -> None:
        container.runner.register(_kind("pair", body, concurrency=2))
        await container.runner.start()
        try:
            jobs = [container.runner.submit("pair") for _ in range(6)]
            await _wait_for(lambda: all(_status(container, j.id).finished for j in jobs))
        finally:
            await container.runner.stop()

    asyncio.run(scenario())
    assert peak == 2


def _dead_owner() -> str:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host, _pid, _ticks = current_owner().rsplit(":", 2)
    return f"{host}:{int(child.stdout)}:1"


def test_recover_marks_dead_owner_interrupted_and_requeues_resumable(container: Container) -> None:
    now = datetime.now(UTC)

    async def body(_ctx: JobContext) -> str:
        return "ok"

    container.runner.register(_kind("resumable", body, resumable=True))
    container.runner.register(_kind("oneshot", body))
    dead = _dead_owner()
    jobs = []
    for kind in ("resumable", "oneshot"):
        job = container.jobs.create(kind, {"p": 1}, now=now)
        assert container.jobs.claim(job.id, dead, now=now)
        jobs.append(job)
    alive = container.jobs.create("oneshot", {}, now=now)
    container.jobs.claim(alive.id, container.runner.owner, now=now)

    requeued = container.runner.recover()

    assert [_status(container, j.id) for j in jobs] == [JobStatus.INTERRUPTED, JobStatus.INTERRUPTED]
    assert _status(container, alive.id) is JobStatus.RUNNING
    assert len(requeued) == 1
    assert requeued[0].retry_of == jobs[0].id
    assert requeued[0].params == {"p": 1}
    assert requeued[0].status is JobStatus.QUEUED


def test_stop_interrupts_and_requeues_resumable(container: Container) -> None:
    async def forever(_ctx: JobContext) -> str:
        await asyncio.sleep(3600)
        return "never"

    async def scenario() -> int:
        container.runner.register(_kind("long", forever, resumable=True))
        await container.runner.start()
        job = container.runner.submit("long")
        await _wait_for(lambda: _status(container, job.id) is JobStatus.RUNNING)
        await container.runner.stop()
        return job.id

    job_id = asyncio.run(scenario())
    assert _status(container, job_id) is JobStatus.INTERRUPTED
    retries = [j for j in container.jobs.active() if j.retry_of == job_id]
    assert len(retries) == 1


def test_scheduled_job_never_overlaps_and_quiet_window_defers(container: Container, tmp_path: Path) -> None:
    async def body(_ctx: JobContext) -> str:
        return "ok"

    container.runner.register(_kind("tick", body))
    container.schedule_service.set("tick", "every 1h", timezone="UTC")
    noon = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    scheduler = Scheduler(container.schedules, container.jobs, container.runner, clock=lambda: noon)

    first = scheduler.fire("tick")
    assert first is not None
    assert scheduler.fire("tick") is None  # the first is still queued: no overlap
    container.runner.cancel(first)

    container.schedule_service.set("tick", "every 1h", quiet_window="01:00-05:00")
    assert scheduler.fire("tick") is None  # noon is outside the window: deferred
    assert scheduler.fire("tick", deferred=True) is not None  # the deferred fire runs
    view = container.schedule_service.get("tick")
    assert view.schedule.last_job_id is not None


def test_schedule_service_refuses_bad_input(container: Container) -> None:
    with pytest.raises(UserError, match="not valid"):
        container.schedule_service.set("nightly", "evry 5m", job_kind="backup")
    with pytest.raises(NotFound, match="No job kind"):
        container.schedule_service.set("nightly", "daily 03:00", job_kind="nope")
    with pytest.raises(UserError):
        container.schedule_service.set("nightly", "daily 03:00", job_kind="backup", timezone="Mars/Base")
    with pytest.raises(UserError):
        container.schedule_service.set(
            "nightly", "daily 03:00", job_kind="backup", quiet_window="25:00-26:00"
        )
    assert container.schedules.get("nightly") is None


def test_maintenance_purges_old_trash_and_job_history(container: Container, tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    old_file = library / "old.mp3"
    old_file.write_bytes(b"x")
    new_file = library / "new.mp3"
    new_file.write_bytes(b"y")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    container.trash.put(old_file, relative_to=library, now=long_ago)
    container.trash.put(new_file, relative_to=library, now=datetime.now(UTC))
    ancient = container.jobs.create("backup", {}, now=long_ago)
    container.jobs.finish(ancient.id, JobStatus.SUCCEEDED, now=long_ago)

    job = asyncio.run(container.runner.run_now("maintenance"))

    assert job.status is JobStatus.SUCCEEDED
    assert job.message == "1 trashed item(s) purged, 1 old job(s) pruned"
    assert [e.original.name for e in container.trash.entries()] == ["new.mp3"]
    assert container.jobs.get(ancient.id) is None


def test_jobs_run_by_another_process_are_mirrored_on_the_bus(container: Container) -> None:
    events: list[dict[str, object]] = []
    container.bus.listen(lambda e: events.append(e.data))
    now = datetime.now(UTC)
    job = container.jobs.create("backup", {}, now=now)
    container.jobs.claim(job.id, "another-host:4242:1", now=now)  # e.g. `antenna backup` in a shell

    async def scenario() -> None:
        await container.runner.start()
        try:
            container.jobs.progress(job.id, 3, 10, "copying")
            await _wait_for(lambda: any(e["id"] == job.id and e["done"] == 3 for e in events))
            container.jobs.finish(job.id, JobStatus.SUCCEEDED, now=datetime.now(UTC), message="done")
            await _wait_for(lambda: any(e["id"] == job.id and e["status"] == "succeeded" for e in events))
        finally:
            await container.runner.stop()

    asyncio.run(scenario())
    mine = [e for e in events if e["id"] == job.id]
    assert mine[0]["percent"] == 30
    assert mine[-1]["percent"] == 100


def test_submit_and_cancel_from_worker_threads(container: Container) -> None:
    """Sync web routes run in a threadpool: submit() and cancel() must be safe from there."""

    async def submit() -> Job:
        return await asyncio.to_thread(container.runner.submit, "slow")

    async def cancel(job_id: int) -> object:
        return await asyncio.to_thread(container.runner.cancel, job_id)

    assert _cancel_scenario(container, submit, cancel) is JobStatus.CANCELLED


def test_cancels_from_threads_never_lose_the_final_state(container: Container) -> None:
    """A body that stops on the flag must not then have its final write cancelled by the same cancel."""

    async def scenario() -> list[JobStatus]:
        container.runner.register(_kind("slow", _endless))
        await container.runner.start()
        statuses = []
        try:
            for _ in range(30):
                job_id = (await asyncio.to_thread(container.runner.submit, "slow")).id
                await _wait_for(lambda i=job_id: _status(container, i) is JobStatus.RUNNING)
                await asyncio.to_thread(container.runner.cancel, job_id)
                await _wait_for(lambda i=job_id: _status(container, i).finished, timeout=10)
                statuses.append(_status(container, job_id))
        finally:
            await container.runner.stop()
        return statuses

    assert asyncio.run(scenario()) == [JobStatus.CANCELLED] * 30
