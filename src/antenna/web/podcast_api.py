"""Podcasts REST API under /api/podcasts (X-Api-Key): subscriptions, episodes, jobs, OPML."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from antenna.errors import UserError
from antenna.jobs.runner import job_payload
from antenna.podcasts.models import CHECK_JOB, DOWNLOAD_JOB, HOUSEKEEP_JOB, Episode, EpisodeState, Podcast
from antenna.podcasts.records import options_to_json
from antenna.podcasts.service import PodcastSummary
from antenna.podcasts.subscriptions import Preview
from antenna.web.deps import ContainerDep, require_api_key

router = APIRouter(prefix="/api/podcasts", tags=["podcasts"], dependencies=[Depends(require_api_key)])
OPML_LIMIT = 5 * 1024 * 1024


class Options(BaseModel):
    """Subscription options; a field left out keeps its value (or the default, when subscribing)."""

    keep: int | None = Field(None, ge=0, description="Episodes to keep; 0 keeps all.")
    order: Literal["newest", "oldest"] | None = Field(
        None, description="Which end of the feed the quota keeps."
    )
    quota_mode: Literal["rotate", "wait"] | None = Field(
        None,
        description="rotate: a new episode replaces the oldest unplayed; wait: nothing new until one goes.",
    )
    count_marked_as_gone: bool | None = Field(None, description="Episodes marked for delete stop counting.")
    delete_watched: bool | None = Field(None, description="Remove episodes watched in Plex.")
    watched_grace_days: int | None = Field(None, ge=0, description="Days a watched episode stays.")
    backfill: bool | None = Field(None, description="Download older episodes when some are removed.")
    expire_days: int | None = Field(None, ge=0, description="Remove episodes older than this; 0 never.")
    expire_buffer_days: int | None = Field(None, ge=0, description="Days marked for delete before the trash.")
    audio_to_video: bool | None = Field(None, description="Turn audio into MP4 with the artwork, for Plex.")
    kodi_safe: bool | None = Field(None, description="Strip emoji from NFO text.")

    def changes(self) -> dict[str, Any]:
        """Return only the options that were given."""
        return self.model_dump(exclude_unset=True)


class PreviewRequest(BaseModel):
    """A feed to preview, with the options and folder that would be used."""

    url: str = Field(description="The podcast's RSS feed URL.")
    options: Options = Field(default_factory=Options)
    folder: str = Field("", description="Show folder; empty: <podcast library>/<Show>.")


class SubscribeRequest(PreviewRequest):
    """Subscribe to a feed."""

    paused: bool = Field(False, description="Subscribe without checking or downloading yet.")


class Ids(BaseModel):
    """Podcast or episode ids."""

    ids: list[int] = Field(min_length=1)


class CheckRequest(BaseModel):
    """Which feeds to check."""

    ids: list[int] = Field(default_factory=list, description="Podcast ids; empty: every active podcast.")
    force: bool = Field(False, description="Fetch even when the feed says it is unchanged.")


class HousekeepRequest(BaseModel):
    """Run housekeeping now, or only show what it would do."""

    dry_run: bool = Field(True, description="true: return the plan; false: start the job.")


def podcast_json(podcast: Podcast, summary: PodcastSummary | None = None) -> dict[str, Any]:
    """Return a subscription as JSON, with its counts when the summary is given."""
    data: dict[str, Any] = {
        "id": podcast.id,
        "title": podcast.title,
        "author": podcast.author,
        "url": podcast.url,
        "folder": podcast.folder,
        "image_url": podcast.image_url,
        "paused": podcast.paused,
        "status": podcast.status.value,
        "status_message": podcast.status_message,
        "checked_at": podcast.checked_at.isoformat() if podcast.checked_at else None,
        "options": options_to_json(podcast.options),
    }
    if summary is not None:
        data.update(in_library=summary.in_library, pending=summary.pending, counts=dict(summary.counts))
    return data


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def episode_json(episode: Episode) -> dict[str, Any]:
    """Return an episode as JSON."""
    return {
        "id": episode.id,
        "podcast_id": episode.podcast_id,
        "title": episode.title,
        "published": episode.published.isoformat(),
        "state": episode.state.value,
        "reason": episode.reason,
        "relpath": episode.relpath,
        "season": episode.season,
        "number": episode.number,
        "enclosure_url": episode.enclosure_url,
        "size": episode.size,
        "duration": episode.duration,
        "downloaded_at": _when(episode.downloaded_at),
        "watched_at": _when(episode.watched_at),
        "attempts": episode.attempts,
    }


def preview_json(preview: Preview) -> dict[str, Any]:
    """Return a preview as JSON (every listed episode with its exact file path)."""
    return {
        "url": preview.url,
        "title": preview.title,
        "author": preview.author,
        "description": preview.description,
        "image_url": preview.image_url,
        "episode_count": preview.episode_count,
        "folder": preview.folder,
        "warnings": list(preview.warnings),
        "duplicate_of": preview.duplicate_of or None,
        "episodes": [
            {
                "title": e.title,
                "published": e.published.isoformat(),
                "path": e.relpath,
                "size": e.size,
                "duration": e.duration,
            }
            for e in preview.episodes
        ],
    }


def _summary(container: ContainerDep, podcast_id: int) -> PodcastSummary:
    podcast = container.podcasts.get(podcast_id)  # NotFound (404) names the id
    return next(s for s in container.podcasts.summaries() if s.podcast.id == podcast.id)


@router.get("")
def list_podcasts(container: ContainerDep) -> list[dict[str, Any]]:
    """List subscriptions with their episode counts (in library, pending, per state)."""
    return [podcast_json(s.podcast, s) for s in container.podcasts.summaries()]


@router.post("", status_code=201)
def subscribe(body: SubscribeRequest, container: ContainerDep) -> dict[str, Any]:
    """Subscribe to a feed; a duplicate is refused with 409 naming the existing subscription."""
    done = container.podcasts.subscribe(body.url, body.options.changes(), body.folder, paused=body.paused)
    return {
        **podcast_json(done.podcast),
        "episodes": done.episodes,
        "queued": done.queued,
        "adopted": done.adopted,
    }


@router.post("/preview")
def preview(body: PreviewRequest, container: ContainerDep) -> dict[str, Any]:
    """Show what subscribing would do: feed details, warnings, the folder and each episode's file name."""
    return preview_json(container.podcasts.preview(body.url, body.options.changes(), body.folder))


@router.get("/search")
def search(container: ContainerDep, term: str = Query(min_length=1)) -> list[dict[str, Any]]:
    """Search the podcast directory; each result's feed_url can be previewed."""
    return [
        {
            "title": r.title,
            "author": r.author,
            "feed_url": r.feed_url,
            "image_url": r.image_url,
            "episode_count": r.episode_count,
            "genre": r.genre,
        }
        for r in container.podcasts.search(term)
    ]


@router.post("/check", status_code=202)
def check(body: CheckRequest, container: ContainerDep) -> dict[str, Any]:
    """Queue a check of the given feeds (or all active ones); what it queues downloads afterwards."""
    for podcast_id in body.ids:
        container.podcasts.get(podcast_id)
    return job_payload(container.runner.submit(CHECK_JOB, {"ids": body.ids, "force": body.force}))


@router.post("/download", status_code=202)
def download(container: ContainerDep) -> dict[str, Any]:
    """Queue a download run of every queued episode; follow it at /api/jobs/{id} or /api/events."""
    return job_payload(container.runner.submit(DOWNLOAD_JOB))


@router.post(
    "/housekeep",
    responses={202: {"description": "The housekeeping job was queued (dry_run false)."}},
)
def housekeep(body: HousekeepRequest, container: ContainerDep) -> Any:
    """Apply quotas, expiry and watched removal: with dry_run the plan is returned, otherwise a job starts."""
    if not body.dry_run:
        return JSONResponse(job_payload(container.runner.submit(HOUSEKEEP_JOB, {"dry_run": False})), 202)
    report = container.podcasts.housekeep(dry_run=True)
    return {
        "dry_run": True,
        "counts": report.counts(),
        "steps": [
            {
                "podcast": s.podcast,
                "episode_id": s.episode_id,
                "title": s.title,
                "action": s.action,
                "reason": s.reason,
            }
            for s in report.steps
        ],
        "problems": report.problems,
    }


@router.get("/episodes")
def list_episodes(
    container: ContainerDep,
    podcast_id: int | None = None,
    state: Annotated[list[EpisodeState] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """List episodes, newest first, of one podcast and/or in some states."""
    return [episode_json(e) for e in container.podcasts.episodes(podcast_id, state)]


@router.get("/episodes/{episode_id}")
def get_episode(episode_id: int, container: ContainerDep) -> dict[str, Any]:
    """Return one episode with its state, reason and fixed file path."""
    return episode_json(container.podcasts.episode(episode_id))


@router.post("/episodes/download")
def download_episodes(body: Ids, container: ContainerDep) -> dict[str, Any]:
    """Queue chosen episodes whatever the quota says; the download job starts by itself."""
    for episode_id in body.ids:
        container.podcasts.episode(episode_id)
    return {"queued": container.podcasts.queue_episodes(body.ids)}


@router.post("/episodes/delete")
def delete_episodes(body: Ids, container: ContainerDep) -> dict[str, Any]:
    """Move chosen episodes' files to the trash; backfill never downloads them again."""
    return {"deleted": container.podcasts.delete_episodes(body.ids)}


@router.post("/episodes/watched")
def mark_watched(body: Ids, container: ContainerDep) -> dict[str, Any]:
    """Mark chosen library episodes watched (others are left as they are)."""
    for episode_id in body.ids:
        container.podcasts.episode(episode_id)
    return {"marked": container.podcasts.mark_watched(body.ids)}


@router.get("/opml", response_class=Response, responses={200: {"content": {"text/x-opml": {}}}})
def export_opml(container: ContainerDep) -> Response:
    """Return every subscription as an OPML 2.0 file."""
    headers = {"Content-Disposition": 'attachment; filename="antenna-podcasts.opml"'}
    return Response(
        container.podcasts.export_opml(), media_type="text/x-opml; charset=utf-8", headers=headers
    )


@router.post("/opml")
async def import_opml(
    container: ContainerDep, file: Annotated[UploadFile, File(description="An OPML file")]
) -> dict[str, Any]:
    """Subscribe to every feed of an uploaded OPML file; say which were not added and why."""
    data = await file.read(OPML_LIMIT + 1)
    if len(data) > OPML_LIMIT:
        raise UserError("That file is too large for an OPML list (over 5 MB).")
    added, problems = await run_in_threadpool(container.podcasts.import_opml, data)
    return {"added": [podcast_json(p) for p in added], "problems": problems}


@router.get("/{podcast_id}")
def get_podcast(podcast_id: int, container: ContainerDep) -> dict[str, Any]:
    """Return one subscription with its counts and every episode (newest first)."""
    summary = _summary(container, podcast_id)
    episodes = [episode_json(e) for e in container.podcasts.episodes(podcast_id)]
    return {**podcast_json(summary.podcast, summary), "episodes": episodes}


@router.patch("/{podcast_id}")
def change_options(podcast_id: int, body: Options, container: ContainerDep) -> dict[str, Any]:
    """Change some options of a subscription; the quota applies at once."""
    changes = body.changes()
    if not changes:
        raise UserError("No option was given.", 'Send e.g. {"keep": 5}.')
    changed = container.podcasts.set_options([podcast_id], changes)[0]
    return podcast_json(changed, _summary(container, changed.id))


@router.post("/{podcast_id}/pause")
def pause(podcast_id: int, container: ContainerDep) -> dict[str, Any]:
    """Pause a subscription: it is not checked and nothing new downloads."""
    return podcast_json(container.podcasts.set_paused([podcast_id], True)[0])


@router.post("/{podcast_id}/resume")
def resume(podcast_id: int, container: ContainerDep) -> dict[str, Any]:
    """Resume a paused subscription."""
    return podcast_json(container.podcasts.set_paused([podcast_id], False)[0])


@router.delete("/{podcast_id}")
def unsubscribe(podcast_id: int, container: ContainerDep, delete_files: bool = False) -> dict[str, Any]:
    """Unsubscribe; with ?delete_files=true the show folder goes to Antenna's trash, otherwise it stays."""
    titles = container.podcasts.remove([podcast_id], delete_files=delete_files)
    return {"removed": titles[0], "files": "trashed" if delete_files else "kept"}
