"""The one place that builds things: engine, repositories, bus, runner, scheduler and services."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from antenna.backup.service import BackupService
from antenna.clients.plex import PlexClient
from antenna.db.engine import make_engine, make_session_factory
from antenna.db.migrate import upgrade
from antenna.db.repos.iptv import IptvRepository
from antenna.db.repos.jobs import JobRepository
from antenna.db.repos.plex import PlexRepository
from antenna.db.repos.schedules import ScheduleRepository
from antenna.db.repos.secrets import SecretRepository
from antenna.fs import Trash, prepare_data_dir, write_if_missing
from antenna.iptv.models import JOB_KIND as IPTV_JOB
from antenna.iptv.service import IptvService
from antenna.jobs.bus import EventBus
from antenna.jobs.models import JobKind
from antenna.jobs.runner import JobRunner
from antenna.jobs.schedule_service import ScheduleService
from antenna.jobs.scheduler import Scheduler
from antenna.maintenance.service import MaintenanceService
from antenna.plex.hub import PlexHub
from antenna.plex.models import ServerConfig
from antenna.plex.outputs import PlexOutputs
from antenna.plex.service import PlexService
from antenna.settings import SETTINGS_FILE, Settings, default_toml, load_settings

DEFAULT_SCHEDULES = {"maintenance": "daily 04:30"}


def utc_now() -> datetime:
    """Return the current time in UTC (the clock everything gets)."""
    return datetime.now(UTC)


def open_data_dir(data_dir: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Make the data dir usable, write antenna.toml with commented defaults on first start, load settings."""
    path = prepare_data_dir(data_dir)
    write_if_missing(path / SETTINGS_FILE, default_toml())
    return load_settings(path, environ)


def plex_client(config: ServerConfig) -> PlexClient:
    """Return a python-plexapi backed client for a server."""
    return PlexClient(config.url, config.token, verify_tls=config.verify_tls)


@dataclass
class Container:
    """Everything a shell (web, CLI) needs, built from settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: EventBus
    jobs: JobRepository
    schedules: ScheduleRepository
    secrets: SecretRepository
    runner: JobRunner
    scheduler: Scheduler
    schedule_service: ScheduleService
    backups: BackupService
    trash: Trash
    plex: PlexService
    plex_hub: PlexHub
    plex_outputs: PlexOutputs
    iptv: IptvService
    clock: Callable[[], datetime]

    @property
    def data_dir(self) -> Path:
        """Return the data dir."""
        return self.settings.data_dir

    def close(self) -> None:
        """Release Plex clients and database connections."""
        self.plex.close()
        self.engine.dispose()


def build_container(settings: Settings, *, migrate: bool = True) -> Container:
    """Build every service from settings; run migrations first unless told not to."""
    clock = utc_now
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    sessions = make_session_factory(engine)
    bus = EventBus()
    jobs = JobRepository(sessions)
    schedules = ScheduleRepository(sessions)
    runner = JobRunner(jobs, bus, max_parallel=settings.job_concurrency, clock=clock)
    backups = BackupService(
        data_dir=settings.data_dir,
        database_url=settings.effective_database_url,
        keep=settings.backup_keep,
        pages_per_step=settings.backup_pages_per_step,
        step_sleep_ms=settings.backup_step_sleep_ms,
        clock=clock,
    )
    trash = Trash(settings.data_dir / "trash")
    maintenance = MaintenanceService(
        trash=trash,
        jobs=jobs,
        retention_days=settings.trash_retention_days,
        clock=clock,
        temp_dirs=[(settings.data_dir / "tmp", "*"), (backups.backup_dir, ".*.tmp")],
    )
    runner.register(
        JobKind(
            "backup",
            "Backup",
            backups.run,
            resumable=True,
            description="Copy the database and settings into a timestamped archive in the data dir.",
        )
    )
    runner.register(
        JobKind(
            "maintenance",
            "Maintenance",
            maintenance.run,
            resumable=True,
            description="Purge trashed files past their retention and old job history.",
        )
    )
    if migrate:
        for name, expression in DEFAULT_SCHEDULES.items():
            schedules.insert_if_missing(name, job_kind=name, expression=expression, now=clock())
    iptv = IptvService(
        IptvRepository(sessions), data_dir=settings.data_dir, base_url=settings.base_url, clock=clock
    )
    runner.register(
        JobKind(
            IPTV_JOB,
            "IPTV refresh",
            iptv.run,
            resumable=True,
            description="Fetch IPTV sources, merge them and rewrite the playlist and the guide.",
        )
    )
    plex_repo = PlexRepository(sessions)
    plex = PlexService(plex_repo, client_factory=plex_client, clock=clock)
    plex_hub = PlexHub(
        plex,
        plex_repo,
        bus,
        clock=clock,
        poll_seconds=settings.plex_poll_seconds,
        base_url=settings.base_url,
        retention_days=settings.plex_event_retention_days,
    )
    scheduler = Scheduler(schedules, jobs, runner, default_timezone=settings.timezone, clock=clock)
    schedule_service = ScheduleService(schedules, runner, default_timezone=settings.timezone, clock=clock)
    iptv.schedules = schedule_service
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bus=bus,
        jobs=jobs,
        schedules=schedules,
        secrets=SecretRepository(sessions),
        runner=runner,
        scheduler=scheduler,
        schedule_service=schedule_service,
        backups=backups,
        trash=trash,
        plex=plex,
        plex_hub=plex_hub,
        plex_outputs=plex_hub.outputs,
        iptv=iptv,
        clock=clock,
    )
