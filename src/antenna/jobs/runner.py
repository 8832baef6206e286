"""One runner for all long work: queue, run with bounded concurrency, cancel, recover after a crash."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from antenna.db.repos.jobs import JobRepository
from antenna.errors import Conflict, NotFound, UserError
from antenna.jobs.bus import EventBus
from antenna.jobs.context import RunContext
from antenna.jobs.models import Job, JobCancelled, JobKind, JobStatus
from antenna.jobs.models import job_payload as job_payload
from antenna.jobs.owner import current_owner, owner_alive

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


@dataclass(slots=True)
class _Running:
    job: Job
    context: RunContext
    task: asyncio.Task[None]


class JobRunner:
    """Runs queued jobs of registered kinds; persists every change and publishes it on the bus."""

    def __init__(
        self,
        repo: JobRepository,
        bus: EventBus,
        *,
        max_parallel: int = 2,
        clock: Callable[[], datetime] | None = None,
        owner: str | None = None,
    ) -> None:
        self._repo = repo
        self._bus = bus
        self._max_parallel = max_parallel
        self._clock = clock or (lambda: datetime.now(UTC))
        self.owner = owner or current_owner()
        self._kinds: dict[str, JobKind] = {}
        self._running: dict[int, _Running] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._foreign: dict[int, tuple[object, ...]] = {}

    # -- kinds -------------------------------------------------------------------------------------
    def register(self, kind: JobKind) -> None:
        """Make a kind of job runnable."""
        self._kinds[kind.name] = kind

    @property
    def kinds(self) -> dict[str, JobKind]:
        """Return the registered kinds by name."""
        return dict(self._kinds)

    def kind(self, name: str) -> JobKind:
        """Return a registered kind or raise NotFound."""
        try:
            return self._kinds[name]
        except KeyError:
            known = ", ".join(sorted(self._kinds)) or "none"
            raise NotFound(f"No job kind {name!r}.", f"Known kinds: {known}.") from None

    # -- queue -------------------------------------------------------------------------------------
    def submit(self, kind: str, params: dict[str, Any] | None = None, *, schedule: str | None = None) -> Job:
        """Queue a job; a started runner picks it up at once."""
        self.kind(kind)
        job = self._repo.create(kind, params or {}, now=self._clock(), schedule=schedule)
        log.info("queued job %s #%d", kind, job.id)
        self._publish(job)
        self._call_in_loop(self._wake.set)
        return job

    def cancel(self, job_id: int) -> Job:
        """Cancel a queued or running job (one run by another process is flagged and stops there)."""
        job = self._repo.get(job_id)
        if job is None:
            raise NotFound(f"No job #{job_id}.", "See `antenna jobs list`.")
        if job.status.finished:
            raise Conflict(f"Job #{job_id} is already {job.status.value}.")
        if job.status is JobStatus.QUEUED and job_id not in self._running:
            finished = self._repo.finish(job_id, JobStatus.CANCELLED, now=self._clock(), message="cancelled")
            if finished:
                self._publish(finished)
                log.info("cancelled queued job %s #%d", job.kind, job_id)
                return finished
        running = self._running.get(job_id)
        flagged = self._repo.request_cancel(job_id) or job
        if running is not None:
            running.context.request_cancel()
            self._call_in_loop(lambda: self._cancel_task(job_id))
        log.info("cancel requested for job %s #%d", job.kind, job_id)
        return flagged

    # -- life cycle --------------------------------------------------------------------------------
    def recover(self) -> list[Job]:
        """Mark jobs of dead processes interrupted and queue again the resumable ones; return new jobs."""
        requeued: list[Job] = []
        for job in self._repo.active():
            alive = owner_alive(job.owner) if job.owner else None
            if job.status is JobStatus.QUEUED:
                if job.owner and alive is False:
                    self._repo.set_owner(job.id, "")
                continue
            if alive is not False:
                continue
            stopped = self._repo.mark_interrupted(
                job.id, now=self._clock(), reason="the process running it died"
            )
            log.warning("job %s #%d was interrupted (its process died)", job.kind, job.id)
            if stopped:
                self._publish(stopped)
                retry = self._requeue_if_resumable(stopped)
                if retry:
                    requeued.append(retry)
        return requeued

    def abandon_active(self, reason: str) -> list[Job]:
        """Mark every queued or running job interrupted without a retry (after a restore, say)."""
        abandoned = []
        for job in self._repo.active():
            stopped = self._repo.mark_interrupted(job.id, now=self._clock(), reason=reason)
            if stopped:
                abandoned.append(stopped)
        return abandoned

    def _requeue_if_resumable(self, job: Job) -> Job | None:
        kind = self._kinds.get(job.kind)
        if kind is None or not kind.resumable:
            return None
        retry = self._repo.create(
            job.kind, job.params, now=self._clock(), schedule=job.schedule, retry_of=job.id
        )
        log.info("re-queued interrupted job %s #%d as #%d", job.kind, job.id, retry.id)
        self._publish(retry)
        return retry

    async def start(self) -> None:
        """Recover after a crash and start dispatching queued jobs."""
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.recover)
        self._loop_task = asyncio.create_task(self._dispatch_loop(), name="job-dispatcher")

    async def stop(self) -> None:
        """Stop dispatching; running jobs are interrupted (resumable ones queued again)."""
        self._stopping = True
        self._wake.set()
        if self._loop_task:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        for running in list(self._running.values()):
            running.context.request_shutdown()
            running.task.cancel()
        for running in list(self._running.values()):
            await asyncio.gather(running.task, return_exceptions=True)

    async def run_now(self, kind: str, params: dict[str, Any] | None = None) -> Job:
        """Create a job and run it in this process until it ends (the CLI path); return the finished job."""
        self.kind(kind)
        job = self._repo.create(kind, params or {}, now=self._clock(), owner=self.owner)
        self._publish(job)
        task = self._launch(job, foreground=True)
        if task is None:
            raise Conflict(f"Job #{job.id} was taken by another process.")
        await asyncio.gather(task, return_exceptions=True)
        final = self._repo.get(job.id)
        assert final is not None
        return final

    # -- internals ---------------------------------------------------------------------------------
    def _cancel_task(self, job_id: int) -> None:
        # Runs in the loop, maybe after the body already ended on the flag: a task that has left
        # self._running is writing its final state, and cancelling it then could drop that write.
        running = self._running.get(job_id)
        if running is not None:
            running.task.cancel()

    def _call_in_loop(self, callback: Callable[[], object]) -> None:
        # submit() and cancel() are also called from worker threads (sync web routes); asyncio objects may
        # only be touched from their own loop, so hop over to it when we are elsewhere.
        loop = self._loop
        if loop is None or loop.is_closed():
            callback()
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            callback()
        else:
            loop.call_soon_threadsafe(callback)

    async def _dispatch_loop(self) -> None:
        while not self._stopping:
            try:
                await self._dispatch_once()
            except Exception:  # the dispatcher must survive a database hiccup
                log.exception("job dispatcher error")
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancel that stop() sends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()
            self._wake.clear()

    async def _dispatch_once(self) -> None:
        queued = await asyncio.to_thread(self._repo.active)
        await self._mirror_foreign(queued)
        mine = [r.job.id for r in self._running.values()]
        # No thread hop when nothing runs here: this loop ticks every second for the life of `serve`.
        cancelled = await asyncio.to_thread(self._repo.cancel_requested, mine) if mine else set()
        for job_id in cancelled:
            running = self._running.get(job_id)
            if running and not running.context.cancelled:
                running.context.request_cancel()
                running.task.cancel()
        for job in queued:
            if job.status is not JobStatus.QUEUED or job.id in self._running:
                continue
            if job.owner and job.owner != self.owner:
                continue
            kind = self._kinds.get(job.kind)
            if kind is None:
                continue
            if len(self._running) >= self._max_parallel:
                break
            if sum(1 for r in self._running.values() if r.job.kind == job.kind) >= kind.concurrency:
                continue
            self._launch(job)

    async def _mirror_foreign(self, active: list[Job]) -> None:
        # Jobs another process runs (`antenna backup` from a shell, say) reach this bus, and so the pages,
        # through the database: publish each change we see, and the final state once one ends.
        seen: dict[int, tuple[object, ...]] = {}
        for job in active:
            if job.status is not JobStatus.RUNNING or job.owner == self.owner or job.id in self._running:
                continue
            key = (job.done, job.total, job.message)
            if self._foreign.get(job.id) != key:
                self._publish(job)
            seen[job.id] = key
        for gone in set(self._foreign) - set(seen):
            final = await asyncio.to_thread(self._repo.get, gone)
            if final is not None:
                self._publish(final)
        self._foreign = seen

    def _launch(self, job: Job, *, foreground: bool = False) -> asyncio.Task[None] | None:
        if not self._repo.claim(job.id, self.owner, now=self._clock()):
            return None
        started = self._repo.get(job.id) or job
        context = RunContext(job.id, dict(job.params), self._repo, self._progress_event, self._clock)
        # In the foreground (the CLI), a Ctrl-C is the user stopping the job: cancelled, not re-run later.
        context.foreground = foreground
        task = asyncio.create_task(self._execute(started, context), name=f"job-{job.kind}-{job.id}")
        self._running[job.id] = _Running(started, context, task)
        self._publish(started)
        return task

    async def _execute(self, job: Job, context: RunContext) -> None:
        kind = self._kinds[job.kind]
        log.info("started job %s #%d", job.kind, job.id)
        status, message, error = JobStatus.SUCCEEDED, "", ""
        try:
            summary = await kind.run(context)
            message = summary or "done"
        except (JobCancelled, asyncio.CancelledError):
            status, message = JobStatus.CANCELLED, "cancelled"
            stopped_by_user = context.cancelled or context.foreground
            context.request_cancel()  # who stopped it is decided above; threads stop at their next check
            if context.shutting_down or not stopped_by_user:
                status, message, error = (
                    JobStatus.INTERRUPTED,
                    "interrupted",
                    "Antenna stopped during the job",
                )
        except UserError as exc:
            status, error = JobStatus.FAILED, str(exc)
            log.warning("job %s #%d failed: %s", job.kind, job.id, exc)
        except Exception as exc:
            status, error = JobStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
            log.exception("job %s #%d crashed", job.kind, job.id)
        finally:
            self._running.pop(job.id, None)
        if status is JobStatus.SUCCEEDED:
            total = max(context.total, context.done, 1)
            await asyncio.to_thread(self._repo.progress, job.id, total, total, message)
        finished = await asyncio.to_thread(
            self._repo.finish, job.id, status, now=self._clock(), message=message, error=error
        )
        if finished:
            log.info("job %s #%d %s: %s", job.kind, job.id, status.value, error or message)
            self._publish(finished)
            if status is JobStatus.INTERRUPTED:
                await asyncio.to_thread(self._requeue_if_resumable, finished)
        self._wake.set()

    def _progress_event(self, job_id: int, done: int, total: int, message: str) -> None:
        running = self._running.get(job_id)
        if running is None:
            return
        job = replace(running.job, done=done, total=total, message=message)
        running.job = job
        self._publish(job)

    def _publish(self, job: Job) -> None:
        self._bus.publish("job", job_payload(job))
