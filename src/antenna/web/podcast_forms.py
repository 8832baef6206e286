"""Podcast option forms: what the fields mean, reading them into option changes, and describing options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from antenna.errors import UserError
from antenna.podcasts.models import Episode, EpisodeState, FeedStatus, PodcastOptions
from antenna.podcasts.records import change_options
from antenna.podcasts.service import PodcastSummary


@dataclass(frozen=True, slots=True)
class OptionField:
    """One option as a form field."""

    name: str
    label: str
    kind: str  # number | choice | flag
    help: str
    choices: tuple[tuple[str, str], ...] = ()
    blank: str = ""  # what an empty number means, for the placeholder


OPTION_FIELDS = (
    OptionField("keep", "Episodes to keep", "number", "Empty keeps every episode.", blank="all"),
    OptionField(
        "order",
        "Keep which end",
        "choice",
        "Newest follows the show; oldest starts from its first episode.",
        (("newest", "The newest episodes"), ("oldest", "The oldest episodes")),
    ),
    OptionField(
        "quota_mode",
        "When the quota is full",
        "choice",
        "What a new episode does once the kept number is reached.",
        (("rotate", "Replace the oldest unplayed"), ("wait", "Wait until one is removed")),
    ),
    OptionField(
        "delete_watched", "Delete watched episodes", "flag", "Needs Plex: watched files go to the trash."
    ),
    OptionField(
        "watched_grace_days", "Days a watched episode stays", "number", "0 removes it at the next run."
    ),
    OptionField("backfill", "Backfill", "flag", "Download older episodes when some are removed."),
    OptionField("expire_days", "Expire after days", "number", "Empty never expires.", blank="never"),
    OptionField("audio_to_video", "Audio to video (MP4)", "flag", "Plex lists audio-only shows poorly."),
    OptionField("kodi_safe", "Kodi-safe text", "flag", "Strip emoji from the NFO files."),
)
FIELDS_BY_NAME = {f.name: f for f in OPTION_FIELDS}
YES = ("1", "true", "yes", "on")


def form_values(options: PodcastOptions) -> dict[str, str]:
    """Return options as the strings an add form starts with."""
    values: dict[str, str] = {}
    for field in OPTION_FIELDS:
        value = getattr(options, field.name)
        if field.kind == "flag":
            values[field.name] = "on" if value else ""
        elif value is None:
            values[field.name] = ""
        else:
            values[field.name] = str(getattr(value, "value", value))
    return values


def read_options(
    form: Mapping[str, Any], base: PodcastOptions, *, bulk: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the option changes a form asks for and an error per field.

    In a bulk form an empty field leaves the option as it is (flags are yes / no / unchanged); in an add form
    every field it has counts, an unticked box is "no" and an empty number is "all" or "never".
    """
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in OPTION_FIELDS:
        raw = str(form.get(field.name) or "").strip()
        if field.kind == "flag":
            if bulk and raw == "":
                continue
            changes[field.name] = raw.lower() in YES
            continue
        if (bulk and raw == "") or field.name not in form:
            continue  # bulk: left as it is; a field the form does not have keeps its value
        if field.kind == "number":
            lowered = raw.lower()
            if lowered in ("", "all", "never", "none"):
                changes[field.name] = None if field.blank else 0
                continue
            if not lowered.isdigit():
                what = f"a whole number, or empty for {field.blank}" if field.blank else "a whole number"
                errors[field.name] = f"{field.label} must be {what}; '{raw}' is not."
                continue
            changes[field.name] = int(lowered)
            continue
        if raw not in {value for value, _ in field.choices}:
            errors[field.name] = f"Choose one of: {', '.join(label for _, label in field.choices)}."
            continue
        changes[field.name] = raw
    try:
        change_options(base, changes)
    except UserError as exc:  # the service's own rules, attributed to the field it names
        name = next((n for n in changes if f"'{n}'" in exc.message), "keep")
        errors[name] = str(exc)
    return changes, errors


def describe(options: PodcastOptions) -> str:
    """Return the options in a short line, e.g. "keep 5 newest · delete watched · expire 30 d"."""
    parts = [f"keep {options.keep} {options.order.value}" if options.keep else "keep all"]
    if options.keep and options.quota_mode.value == "wait":
        parts.append("wait when full")
    if options.delete_watched:
        grace = f" after {options.watched_grace_days} d" if options.watched_grace_days else ""
        parts.append(f"delete watched{grace}")
    if options.expire_days:
        parts.append(f"expire {options.expire_days} d")
    if not options.backfill:
        parts.append("no backfill")
    if options.audio_to_video:
        parts.append("audio → video")
    if options.kodi_safe:
        parts.append("Kodi-safe")
    return " · ".join(parts)


def feed_advice(summary: PodcastSummary) -> str:
    """Return what to do about a subscription's feed, in a sentence ("" when all is well)."""
    podcast = summary.podcast
    if podcast.status == FeedStatus.GONE:
        return (
            "The feed is gone for good. Find the show's new feed address, subscribe to it, "
            "then delete this subscription."
        )
    if podcast.status == FeedStatus.FAILING:
        return "Open the feed URL in a browser to see what it answers; Antenna retries at every check."
    if podcast.paused:
        return "Paused: not checked and nothing downloads. Resume it to continue."
    if podcast.checked_at is None:
        return "Not checked yet."
    return ""


STATE_LABELS = {
    EpisodeState.AVAILABLE: "not downloaded",
    EpisodeState.QUEUED: "queued",
    EpisodeState.DOWNLOADING: "downloading",
    EpisodeState.DOWNLOADED: "downloaded",
    EpisodeState.TAGGING: "tagging",
    EpisodeState.MOVING: "moving",
    EpisodeState.UNWATCHED: "in library",
    EpisodeState.WATCHED: "watched",
    EpisodeState.MARKED_FOR_DELETE: "leaving soon",
    EpisodeState.DELETED: "deleted",
    EpisodeState.FAILED: "failed",
    EpisodeState.SKIPPED: "skipped",
}


def episode_reason(episode: Episode) -> str:
    """Return why an episode is in its state, with what to do for a failure."""
    if episode.state == EpisodeState.FAILED:
        fix = "Press Download to try again; if it keeps failing, open the enclosure URL in a browser."
        return f"{episode.reason or 'The download failed.'} {fix}"
    if episode.state == EpisodeState.AVAILABLE and not episode.reason:
        return "Outside the kept number; select it and press Download to get it anyway."
    return episode.reason
