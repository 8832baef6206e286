"""Kodi/Jellyfin NFO files: tvshow.nfo, episode and season NFO writers, and a reader for episode edits."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from antenna.errors import UserError
from antenna.formats.safe_xml import safe_xml

# XML 1.0 cannot carry C0 controls (bar tab and newline), surrogates or U+FFFE/U+FFFF; C1 controls are legal
# but always mis-decoded Windows-1252 in practice, so they go too.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Kodi's NFO reader chokes on 4-byte UTF-8 (emoji); kodi_safe drops everything outside the BMP, with the
# variation selectors and joiners that only shape emoji, and the doubled space a dropped emoji leaves.
_ASTRAL = re.compile("[\U00010000-\U0010ffff][\ufe0e\ufe0f\u200d]*")
_DOUBLE_SPACE = re.compile("(?<= ) +")
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


class NfoError(UserError):
    """An NFO file cannot be read back."""


@dataclass(frozen=True, slots=True)
class ShowInfo:
    """What tvshow.nfo says about a show folder."""

    title: str
    uniqueid: str  # the feed identity (or channel id)
    plot: str = ""
    studio: str = ""  # the author or network
    premiered: date | None = None
    genres: tuple[str, ...] = ()
    poster: str = "poster.jpg"  # "" leaves the tag out
    fanart: str = "fanart.jpg"
    named_seasons: tuple[tuple[int, str], ...] = ()  # Kodi's season names: (number, name)
    id_type: str = "podcast"


@dataclass(frozen=True, slots=True)
class EpisodeInfo:
    """What an episode NFO says about one media file."""

    title: str
    show_title: str
    season: int
    episode: int
    aired: date
    uniqueid: str  # the episode key
    plot: str = ""
    runtime_seconds: int | None = None
    studio: str = ""
    genres: tuple[str, ...] = ()
    thumb: str = ""  # file name of the "-thumb.jpg" next to the media file
    date_added: datetime | None = None  # written as given: Kodi shows it as local time
    id_type: str = "podcast"


@dataclass(frozen=True, slots=True)
class EpisodeNfoEdits:
    """The fields of an episode NFO a user may have edited by hand."""

    title: str
    plot: str
    aired: date | None
    studio: str = ""
    genres: tuple[str, ...] = ()
    uniqueid: str = ""


def xml_text(text: str, *, kodi_safe: bool = False) -> str:
    """Return text as an NFO carries it: XML-illegal characters removed, newlines as LF, stripped."""
    if not text.isprintable():  # the cheap test first: printable text has nothing to remove
        text = _ILLEGAL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if kodi_safe and not text.isascii():
        text, dropped = _ASTRAL.subn("", text)
        if dropped:
            text = _DOUBLE_SPACE.sub("", text)
    return text.strip()


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"}
)


class NfoBuilder:
    """Appends child elements with cleaned text; empty optional values are left out.

    Writes the text itself, byte for byte what lxml's pretty printer gives (a test compares the two): a VOD
    export renders hundreds of thousands of NFOs, and building lxml elements was most of the cost.
    """

    def __init__(self, root: str, kodi_safe: bool) -> None:
        self.tag = root
        self.kodi_safe = kodi_safe
        self.lines: list[str] = []

    def add(self, tag: str, value: str, *, required: bool = False, inside: str = "", **attrs: str) -> None:
        """Add <tag attrs>value</tag> (in a new <inside> element when given) unless value cleans to ""."""
        text = xml_text(value, kodi_safe=self.kodi_safe)
        if not (text or required):
            return
        head = tag
        for name, raw in attrs.items():
            if _ILLEGAL.search(raw):
                raise ValueError(f"attribute {name}={raw!r} holds characters XML cannot carry")
            head += f' {name}="{raw.translate(_ATTR_ESCAPES)}"'
        element = f"<{head}>{text.translate(_TEXT_ESCAPES)}</{tag}>"
        if inside:
            self.lines.append(f"  <{inside}>\n    {element}\n  </{inside}>\n")
        else:
            self.lines.append(f"  {element}\n")

    def render(self) -> bytes:
        """Return the document, with its XML declaration."""
        if not self.lines:
            return _DECLARATION + f"<{self.tag}/>\n".encode()
        return _DECLARATION + f"<{self.tag}>\n{''.join(self.lines)}</{self.tag}>\n".encode()


def render_tvshow_nfo(show: ShowInfo, *, kodi_safe: bool = False) -> bytes:
    """Return tvshow.nfo for a show folder."""
    b = NfoBuilder("tvshow", kodi_safe)
    b.add("title", show.title, required=True)
    b.add("showtitle", show.title)
    b.add("plot", show.plot)
    b.add("studio", show.studio)
    if show.premiered is not None:
        b.add("premiered", show.premiered.isoformat())
    for genre in show.genres:
        b.add("genre", genre)
    b.add("uniqueid", show.uniqueid, type=show.id_type, default="true")
    b.add("thumb", show.poster, aspect="poster")
    if show.fanart:
        b.add("thumb", show.fanart, inside="fanart")
    for number, name in show.named_seasons:
        b.add("namedseason", name, number=str(number))
    return b.render()


def render_episode_nfo(ep: EpisodeInfo, *, kodi_safe: bool = False) -> bytes:
    """Return the NFO that sits next to an episode's media file."""
    b = NfoBuilder("episodedetails", kodi_safe)
    b.add("title", ep.title, required=True)
    b.add("showtitle", ep.show_title)
    b.add("season", str(ep.season))
    b.add("episode", str(ep.episode))
    b.add("aired", ep.aired.isoformat())
    b.add("plot", ep.plot)
    if ep.runtime_seconds:
        b.add("runtime", str(math.ceil(ep.runtime_seconds / 60)))
    b.add("uniqueid", ep.uniqueid, type=ep.id_type, default="true")
    b.add("studio", ep.studio)
    for genre in ep.genres:
        b.add("genre", genre)
    b.add("thumb", ep.thumb)
    if ep.date_added is not None:
        b.add("dateadded", ep.date_added.strftime("%Y-%m-%d %H:%M:%S"))
    return b.render()


def render_season_nfo(season_number: int, title: str, *, kodi_safe: bool = False) -> bytes:
    """Return Jellyfin's `Season XXXX/season.nfo` naming one season."""
    b = NfoBuilder("season", kodi_safe)
    b.add("title", title, required=True)
    b.add("seasonnumber", str(season_number))
    return b.render()


def _child_text(root: Any, tag: str) -> str:
    el = root.find(tag)
    return "".join(el.itertext()).strip() if el is not None else ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def read_episode_nfo(data: bytes) -> EpisodeNfoEdits:
    """Read back the user-editable fields of an episode NFO."""
    try:
        root, _ = safe_xml(data)
    except ValueError as exc:
        raise NfoError(f"the NFO file is not well-formed XML: {exc}", _NFO_HINT) from exc
    if root.tag != "episodedetails":
        found = f"<{root.tag}>" if isinstance(root.tag, str) else "no element"
        raise NfoError(f"the NFO file holds {found}, not <episodedetails>", _NFO_HINT)
    uniqueid = root.find("uniqueid[@default='true']")
    if uniqueid is None:
        uniqueid = root.find("uniqueid")
    return EpisodeNfoEdits(
        title=_child_text(root, "title"),
        plot=_child_text(root, "plot"),
        aired=_date(_child_text(root, "aired")),
        studio=_child_text(root, "studio"),
        genres=tuple(g for g in ("".join(el.itertext()).strip() for el in root.iterfind("genre")) if g),
        uniqueid="".join(uniqueid.itertext()).strip() if uniqueid is not None else "",
    )


_NFO_HINT = (
    "Fix the file by hand (an XML validator shows where), or delete it to have Antenna write it again."
)
