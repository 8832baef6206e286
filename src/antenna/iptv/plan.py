"""Pure IPTV merge decisions: which channels, their numbers and guide mapping, and Plex-correct programmes."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urljoin

from antenna.formats.guide import EpisodeNum, GuideChannel, Programme
from antenna.formats.m3u import M3UEntry
from antenna.iptv.models import Channel, ChannelFilter, MergeReport, Override, SourceConfig

PLAYLIST_ATTRS = frozenset(
    {
        "catchup",
        "catchup-type",
        "catchup-source",
        "catchup-days",
        "catchup-correction",
        "tvg-shift",
        "tvg-rec",
        "timeshift",
        "provider",
        "provider-type",
        "provider-logo",
        "provider-countries",
        "provider-languages",
    }
)
_QUALITY = re.compile(r"\b(?:u?hd|fhd|sd|4k|uhd|hevc|h265|1080p?|720p?|\+1)\b", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_name(name: str) -> str:
    """Return a channel name reduced for fuzzy matching: no accents, case, quality tags or punctuation."""
    folded = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _NOT_ALNUM.sub("", _QUALITY.sub(" ", ascii_only))


def keep(entry: M3UEntry, groups: Sequence[str], rules: ChannelFilter) -> bool:
    """Return True when the channel passes the source's group and regex filters."""
    return keep_name(entry.name, groups, rules)


def keep_name(name: str, groups: Sequence[str], rules: ChannelFilter) -> bool:
    """Return True when a channel of this name and groups passes the source's group and regex filters."""
    if not (rules.include_groups or rules.exclude_groups or rules.include_regex or rules.exclude_regex):
        return True
    wanted = {g.lower() for g in rules.include_groups}
    unwanted = {g.lower() for g in rules.exclude_groups}
    lowered = {g.lower() for g in groups}
    if wanted and not lowered & wanted:
        return False
    if unwanted and lowered & unwanted:
        return False
    if rules.include_regex and not re.search(rules.include_regex, name, re.IGNORECASE):
        return False
    return not (rules.exclude_regex and re.search(rules.exclude_regex, name, re.IGNORECASE))


_NUMBER = re.compile(r"\d{1,6}(?:\.\d{1,3})?")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def valid_number(text: str) -> bool:
    """Return True for a channel number: digits, optionally a dot and a sub-number (5.1)."""
    return _NUMBER.fullmatch(text.strip()) is not None


def number_or_empty(text: str) -> str:
    """Return a channel number stripped, or "" when text is not one."""
    return text.strip() if valid_number(text) else ""


_number = number_or_empty


def merge_channels(
    sources: Sequence[tuple[SourceConfig, Sequence[M3UEntry]]],
    overrides: Mapping[tuple[int, str], Override],
    *,
    first_number: int = 1,
) -> tuple[list[Channel], list[str], list[str]]:
    """Return (channels numbered without clashes, duplicate keys, warnings) from every channel source."""
    drafts: list[tuple[SourceConfig, M3UEntry, str, tuple[str, ...], Override]] = []
    duplicates: list[str] = []
    warnings: list[str] = []
    for source, entries in sources:
        seen: set[str] = set()
        for entry in entries:
            key = entry.tvg_id or entry.tvg_name or entry.name
            if key in seen:
                duplicates.append(f"{source.name}: {key}")
                continue
            seen.add(key)
            groups = entry.groups or (source.name,)
            if not keep(entry, groups, source.filter):
                continue
            drafts.append((source, entry, key, groups, overrides.get((source.id, key), Override())))
    taken: set[str] = set()
    numbers: list[str] = []
    # Pass 1: numbers the user chose, then the source's preset/tvg-chno, first come first served.
    for source, entry, _key, _groups, override in drafts:
        wanted = _number(override.number or "") or _number(entry.tvg_chno)
        if wanted and wanted in taken:
            warnings.append(f"{source.name}: {entry.name} wanted number {wanted}, already taken; renumbered")
            wanted = ""
        if wanted:
            taken.add(wanted)
        numbers.append(wanted)
    starts = {
        (source.id, group.lower()): start
        for source, _, _, _, _ in drafts
        for group, start in source.group_starts
    }
    counters: dict[tuple[int, str], int] = {}
    next_free = first_number
    channels = []
    for (source, entry, key, groups, override), number in zip(drafts, numbers, strict=True):
        group = override.group or groups[0]
        if not number:
            start_key = (source.id, group.lower())
            if start_key in starts:
                candidate = counters.get(start_key, starts[start_key])
                while str(candidate) in taken:
                    candidate += 1
                counters[start_key] = candidate + 1
            else:
                candidate = next_free
                while str(candidate) in taken:
                    candidate += 1
                next_free = candidate + 1
            number = str(candidate)
            taken.add(number)
        logo = override.logo or entry.tvg_logo or source.icon
        channels.append(
            Channel(
                source_id=source.id,
                key=key,
                name=override.name or entry.tvg_name or entry.name,
                url=entry.url,
                number=number,
                groups=(override.group, *[g for g in groups if g != override.group])
                if override.group
                else groups,
                logo=absolute(logo, source.base_url),
                tvg_id=entry.tvg_id,
                radio=entry.radio,
                enabled=override.enabled if override.enabled is not None else True,
                kodiprops=entry.kodiprops,
                vlcopts=entry.vlcopts,
                attrs=tuple((k, v) for k, v in entry.attrs if k.lower() in PLAYLIST_ATTRS),
            )
        )
    channels.sort(key=lambda c: _sort_key(c.number))
    return channels, duplicates, warnings


def sort_key(number: str) -> tuple[int, int]:
    """Return the key channels are listed by: 9 before 10, 5 before 5.1."""
    major, _, minor = number.partition(".")
    return int(major or 0), int(minor or 0)


_sort_key = sort_key


def absolute(url: str, base: str) -> str:
    """Return url made absolute against the source's URL (IPTV Simple and Plex need absolute logo URLs)."""
    if not url or not base or _SCHEME.match(url):
        return url
    return urljoin(base, url)


def map_guide(
    channels: Sequence[Channel],
    guides: Sequence[tuple[SourceConfig, Sequence[GuideChannel]]],
    overrides: Mapping[tuple[int, str], Override],
) -> list[Channel]:
    """Attach guide channel ids to every channel: override, then tvg-id, display name, normalised name."""
    if not guides:
        return list(channels)
    ordered = sorted(guides, key=lambda g: (g[0].priority, g[0].id))
    indexes = []
    for source, guide_channels in ordered:
        by_id = {c.id: c.id for c in guide_channels}
        by_id_folded = {c.id.lower(): c.id for c in guide_channels}
        by_name: dict[str, str] = {}
        by_norm: dict[str, str] = {}
        for c in guide_channels:
            for name, _lang in c.display_names:
                by_name.setdefault(name.lower(), c.id)
                by_norm.setdefault(normalise_name(name), c.id)
        indexes.append((source.id, by_id, by_id_folded, by_name, by_norm))
    result = []
    for channel in channels:
        override = overrides.get((channel.source_id, channel.key), Override())
        found: list[tuple[int, str]] = []
        for source_id, by_id, by_id_folded, by_name, by_norm in indexes:
            guide_id = _match(channel, override, by_id, by_id_folded, by_name, by_norm)
            if guide_id:
                found.append((source_id, guide_id))
        result.append(replace(channel, guide_ids=tuple(found)))
    return result


def _match(
    channel: Channel,
    override: Override,
    by_id: Mapping[str, str],
    by_id_folded: Mapping[str, str],
    by_name: Mapping[str, str],
    by_norm: Mapping[str, str],
) -> str:
    if override.guide_id:
        return by_id.get(override.guide_id, "")
    if channel.tvg_id:
        hit = by_id.get(channel.tvg_id) or by_id_folded.get(channel.tvg_id.lower())
        if hit:
            return hit
    for name in (channel.name, channel.name.replace("_", " ")):
        hit = by_name.get(name.lower())
        if hit:
            return hit
    norm = normalise_name(channel.name)
    return by_norm.get(norm, "") if norm else ""


def guide_channel(channel: Channel) -> GuideChannel:
    """Return the `<channel>` Antenna writes: a Plex-safe id and display names "N Name", "N", "Name"."""
    names = ((f"{channel.number} {channel.name}", ""), (channel.number, ""), (channel.name, ""))
    return GuideChannel(
        id=channel.xmltv_id, display_names=names, icons=(channel.logo,) if channel.logo else ()
    )


CATEGORY_WORDS = {
    "Movie": ("movie", "film", "cinema", "kino", "spielfilm", "película", "pelicula", "filme"),
    "Sports": (
        "sport",
        "football",
        "soccer",
        "basketball",
        "baseball",
        "hockey",
        "tennis",
        "golf",
        "racing",
        "fútbol",
        "futbol",
        "deportes",
        "fussball",
        "fußball",
        "cricket",
        "rugby",
        "nfl",
        "nba",
    ),
    "News": ("news", "nachrichten", "noticias", "journal", "actualités", "actualites", "weather"),
}


_CATEGORY_PATTERNS = {
    name: re.compile("|".join(map(re.escape, words))) for name, words in CATEGORY_WORDS.items()
}


@functools.lru_cache(maxsize=4096)
def _category_of(text: str, has_episode: bool) -> str:
    for category in ("Sports", "News", "Movie"):
        if _CATEGORY_PATTERNS[category].search(text):
            if category == "Movie" and has_episode:
                continue  # a "film series" episode is a series
            return category
    return "Series"


def plex_category(categories: Iterable[str], has_episode: bool) -> str:
    """Return the one category Plex understands (Movie, Series, Sports, News) for a programme."""
    # Guides repeat a few category sets across hundreds of thousands of programmes: cache by the set.
    return _category_of(" ".join(categories).lower(), has_episode)


def plex_programme(programme: Programme, channel_id: str, *, lang: str = "en") -> Programme:
    """Rewrite a programme for Plex: our channel id, langs, a Plex category, an episode-num unless a movie."""
    has_episode = any(n.system in ("xmltv_ns", "onscreen") for n in programme.episode_nums)
    category = plex_category((c for c, _ in programme.categories), has_episode)
    categories = [(category, lang)]
    categories += [(c, c_lang or lang) for c, c_lang in programme.categories if c.lower() != category.lower()]
    episode_nums = programme.episode_nums
    if category != "Movie" and not has_episode:
        # Plex treats a programme without an episode number as a movie (no series recording): give it a
        # date-based one, as xTeVe and Threadfin do.
        aired = f"{programme.start:%Y-%m-%d %H:%M:%S}"
        episode_nums = (*episode_nums, EpisodeNum("original-air-date", aired))
    titles = tuple((t, t_lang or lang) for t, t_lang in programme.titles) or (("Unknown", lang),)
    descs = tuple((t, t_lang or lang) for t, t_lang in programme.descs) or ((titles[0][0], lang),)
    # Built field by field: dataclasses.replace costs several microseconds a call, times 370k programmes.
    return Programme(
        channel=channel_id,
        start=programme.start,
        stop=programme.stop,
        titles=titles,
        sub_titles=tuple((t, t_lang or lang) for t, t_lang in programme.sub_titles),
        descs=descs,
        credits=programme.credits,
        date=programme.date,
        categories=tuple(categories),
        keywords=programme.keywords,
        language=programme.language,
        length_seconds=programme.length_seconds,
        icons=programme.icons,
        urls=programme.urls,
        countries=programme.countries,
        episode_nums=episode_nums,
        previously_shown=programme.previously_shown,
        premiere=programme.premiere,
        new=programme.new,
        ratings=programme.ratings,
        star_ratings=programme.star_ratings,
    )


def in_window(programme: Programme, start: datetime, end: datetime) -> bool:
    """Return True when the programme overlaps [start, end)."""
    stop = programme.stop or programme.start
    return programme.start < end and stop > start


def report_changes(
    previous: Mapping[str, str], current: Mapping[str, str]
) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Return (added, removed, renamed) between two {channel identity: name} maps."""
    added = sorted(current[k] for k in current.keys() - previous.keys())
    removed = sorted(previous[k] for k in previous.keys() - current.keys())
    renamed = sorted(
        (previous[k], current[k]) for k in current.keys() & previous.keys() if previous[k] != current[k]
    )
    return added, removed, renamed


def summary(report: MergeReport) -> str:
    """Return a one-line summary of a merge."""
    return summary_line(
        report.channels, report.programmes, len(report.without_guide), len(report.added), len(report.removed)
    )


def summary_line(channels: int, programmes: int, without_guide: int, added: int, removed: int) -> str:
    """Return a one-line summary of a merge from its counts."""
    return (
        f"{channels} channels, {programmes} programmes, "
        f"{without_guide} without guide, {added} added, {removed} removed"
    )
