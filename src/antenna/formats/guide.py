"""Guide data shared by the XMLTV and JSONTV formats: channels and programmes as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

Text = tuple[str, str]  # (text, lang); lang "" when the source gave none


@dataclass(frozen=True, slots=True)
class Credit:
    """A person in a programme's credits; role is the XMLTV element (director, actor, writer, …)."""

    role: str
    name: str
    character: str = ""


@dataclass(frozen=True, slots=True)
class EpisodeNum:
    """An episode number in one system: xmltv_ns ("0.1.0/1"), onscreen ("S01E02"), original-air-date, …."""

    system: str
    value: str


@dataclass(frozen=True, slots=True)
class GuideChannel:
    """A `<channel>`: its id, display names in order, icons and URLs."""

    id: str
    display_names: tuple[Text, ...] = ()
    icons: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Return the first display name, or the id."""
        return self.display_names[0][0] if self.display_names else self.id


@dataclass(frozen=True, slots=True)
class Programme:
    """A `<programme>`: times are timezone-aware (converted to UTC by the readers)."""

    channel: str
    start: datetime
    stop: datetime | None = None
    titles: tuple[Text, ...] = ()
    sub_titles: tuple[Text, ...] = ()
    descs: tuple[Text, ...] = ()
    credits: tuple[Credit, ...] = ()
    date: str = ""
    categories: tuple[Text, ...] = ()
    keywords: tuple[Text, ...] = ()
    language: str = ""
    length_seconds: int | None = None
    icons: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    episode_nums: tuple[EpisodeNum, ...] = ()
    previously_shown: bool = False
    premiere: bool = False
    new: bool = False
    ratings: tuple[tuple[str, str], ...] = ()  # (system, value)
    star_ratings: tuple[str, ...] = ()  # "7.5/10"
    catchup_id: str = ""  # IPTV Simple's non-DTD attribute, kept for Kodi outputs only

    @property
    def title(self) -> str:
        """Return the first title, or ""."""
        return self.titles[0][0] if self.titles else ""


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something a reader skipped or repaired; never fatal."""

    where: str  # "line 12", "programme 5,001", "channel bbc1"
    message: str
