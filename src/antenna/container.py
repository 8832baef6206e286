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
from antenna.db.repos.podcasts import PodcastRepository
from antenna.db.repos.schedules import ScheduleRepository
from antenna.db.repos.secrets import SecretRepository
from antenna.db.repos.vod import VodRepository
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
from antenna.podcasts.models import CHECK_JOB, DOWNLOAD_JOB, HOUSEKEEP_JOB, KeepOrder, PodcastOptions
from antenna.podcasts.service import PodcastService
from antenna.settings import SETTINGS_FILE, Settings, default_toml, load_settings
from antenna.vod.service import JOB_KIND as VOD_JOB
from antenna.vod.service import VodService

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
    podcasts: PodcastService
    vod: VodService
    clock: Callable[[], datetime]

    @property
    def data_dir(self) -> Path:
        """Return the data dir."""
        return self.settings.data_dir

    def close(self) -> None:
        """Release Plex clients and database connections."""
        self.plex.close()
        self.podcasts.close()
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
    defaults_schedules = {
        **DEFAULT_SCHEDULES,
        CHECK_JOB: settings.podcasts_check_schedule,
        HOUSEKEEP_JOB: settings.podcasts_housekeep_schedule,
    }
    if migrate:
        for name, expression in defaults_schedules.items():
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
    vod = VodService(
        VodRepository(sessions), data_dir=settings.data_dir, base_url=settings.base_url, clock=clock
    )
    runner.register(
        JobKind(
            VOD_JOB,
            "VOD export",
            vod.run,
            resumable=True,
            description="Write a provider's movies and series as .strm + NFO files; unchanged ones stay.",
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
    podcasts = build_podcasts(settings, sessions, bus, trash, plex, clock)
    _register_podcast_jobs(runner, podcasts)
    scheduler = Scheduler(schedules, jobs, runner, default_timezone=settings.timezone, clock=clock)
    schedule_service = ScheduleService(schedules, runner, default_timezone=settings.timezone, clock=clock)
    iptv.schedules = schedule_service
    vod.schedules = schedule_service
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
        podcasts=podcasts,
        vod=vod,
        clock=clock,
    )


def podcast_defaults(settings: Settings) -> PodcastOptions:
    """Return the options a new subscription starts with."""
    return PodcastOptions(
        keep=settings.podcasts_keep or None,
        order=KeepOrder(settings.podcasts_order),
        delete_watched=settings.podcasts_delete_watched,
        watched_grace_days=settings.podcasts_watched_grace_days,
        backfill=settings.podcasts_backfill,
        expire_days=settings.podcasts_expire_days or None,
        audio_to_video=settings.podcasts_audio_to_video,
        kodi_safe=settings.podcasts_kodi_safe,
    )


def build_podcasts(
    settings: Settings,
    sessions: sessionmaker[Session],
    bus: EventBus,
    trash: Trash,
    plex: PlexService,
    clock: Callable[[], datetime],
) -> PodcastService:
    """Build the podcast service and connect it to Plex (watched state, partial rescans)."""
    podcasts = PodcastService(
        PodcastRepository(sessions),
        data_dir=settings.data_dir,
        library_root=settings.podcast_library,
        defaults=podcast_defaults(settings),
        search_url=settings.podcasts_search_url,
        trash=trash,
        clock=clock,
        publish=bus.publish,
        concurrency=settings.podcasts_concurrency,
        per_host=settings.podcasts_per_host,
    )
    server = settings.podcasts_plex_server or None

    def refresh(folder: str) -> None:
        if plex.servers():
            plex.refresh(ref=server, path=folder)

    def watched(paths: list[str]) -> dict[str, datetime]:
        if not plex.servers():
            return {}
        found = {}
        for item in plex.watched(paths, ref=server):
            if item.watched:
                seen = item.episode.last_viewed_at if item.episode is not None else None
                found[item.path] = seen or clock()
        return found

    podcasts.refresh_folder = refresh
    podcasts.set_watched_lookup(watched)
    return podcasts


def _register_podcast_jobs(runner: JobRunner, podcasts: PodcastService) -> None:
    runner.register(
        JobKind(
            CHECK_JOB,
            "Podcast check",
            podcasts.run_check,
            resumable=True,
            description="Check podcast feeds for new episodes and queue what the quotas want.",
        )
    )
    runner.register(
        JobKind(
            DOWNLOAD_JOB,
            "Podcast downloads",
            podcasts.run_download,
            resumable=True,
            description="Download queued episodes into the library (resumes partial downloads).",
        )
    )
    runner.register(
        JobKind(
            HOUSEKEEP_JOB,
            "Podcast housekeeping",
            podcasts.run_housekeep,
            description="Apply quotas, expiry and watched removal; backfill older episodes.",
        )
    )
    podcasts.submit = lambda kind: runner.submit(kind)
