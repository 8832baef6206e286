"""Generate the IPTV benchmark's inputs: a big XMLTV guide (plain and .gz), its playlist, a 200k-entry M3U.

Everything is streamed to disk in ~1 MB blocks (never a whole file in memory) from pools of pre-escaped
snippets, so 300 MB take seconds. The content is what real guides carry: long descriptions, `&amp;`-style
and numeric character references, non-ASCII (é, ß, 日本語) and emoji, categories in English, German and
Spanish, episode numbers, credits, ratings and icons. Deterministic for a given seed and `now`.
"""

from __future__ import annotations

import gzip
import queue
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20
GZIP_LEVEL = 6
DURATIONS = (15, 30, 45, 60, 60, 60, 90, 90, 120, 50)  # minutes; mean 62, so ~23 programmes a day

_WORDS = (
    "the", "night", "city", "river", "house", "world", "story", "journey", "secret", "family", "game",
    "kitchen", "garden", "island", "mountain", "detective", "doctor", "summer", "winter", "road", "school",
    "team", "match", "final", "season", "legend", "planet", "ocean", "desert", "train", "market", "music",
    "über", "straße", "große", "mädchen", "café", "élan", "señor", "niño", "año", "corazón", "fútbol",
    "日本語", "東京", "ニュース", "ドラマ", "données", "naïve", "smörgåsbord", "Øresund", "Kraków",
)  # fmt: skip
_ENTITIES = (
    "&amp;", "&lt;3", "&gt;", "&quot;quoted&quot;", "&apos;s", "&#233;t&#233;", "&#x1F4FA;", "&#8212;",
    "Tom &amp; Jerry", "R&amp;B", "Q&amp;A",
)  # fmt: skip
_EMOJI = ("📺", "⚽", "🎬", "🎵", "🌍", "🔥", "👨‍👩‍👧", "🏳️‍🌈", "🇩🇪")
_CATEGORIES = (
    ("News", "en"), ("Nachrichten", "de"), ("Noticias", "es"), ("Sports", "en"), ("Fußball", "de"),
    ("Deportes", "es"), ("Movie", "en"), ("Spielfilm", "de"), ("Película", "es"), ("Series", "en"),
    ("Serie", "de"), ("Drama", "en"), ("Documentary", "en"), ("Dokumentation", "de"), ("Kids", "en"),
    ("Comedy", "en"), ("Talk", "en"), ("Weather", "en"), ("Magazin", "de"), ("Telenovela", "es"),
)  # fmt: skip
_ROLES = ("director", "actor", "actor", "actor", "writer", "presenter", "guest")


@dataclass(frozen=True)
class GuideInfo:
    """What a generated guide holds."""

    channels: int
    programmes: int
    first_start: datetime
    last_stop: datetime
    size: int
    gz_size: int


class _BlockWriter:
    """Collect text and write it as ~1 MB UTF-8 blocks to a file and, in a thread, to a gzip copy."""

    def __init__(self, out: BinaryIO, gz_path: Path | None) -> None:
        self._out = out
        self._parts: list[str] = []
        self._size = 0
        self.bytes = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if gz_path is not None:
            self._thread = threading.Thread(target=self._compress, args=(gz_path,), daemon=True)
            self._thread.start()

    def _compress(self, gz_path: Path) -> None:
        # zlib releases the GIL, so compressing overlaps with generating on a second core.
        try:
            with gzip.open(gz_path, "wb", compresslevel=GZIP_LEVEL) as packed:
                while (block := self._queue.get()) is not None:
                    packed.write(block)
        except BaseException as exc:  # noqa: BLE001 - re-raised in close()
            self._error = exc
            while self._queue.get() is not None:  # keep the producer from blocking
                pass

    def put(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= BLOCK:
            self.flush()

    def flush(self) -> None:
        if not self._parts:
            return
        block = "".join(self._parts).encode()
        self._parts.clear()
        self._size = 0
        self._out.write(block)
        self.bytes += len(block)
        if self._thread is not None:
            self._queue.put(block)

    def close(self) -> None:
        self.flush()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


def channel_id(n: int) -> str:
    """Return the XMLTV id of guide channel n (1-based)."""
    return f"ch{n:04d}.example"


def channel_name(n: int) -> str:
    """Return the display name of guide channel n, some of them non-ASCII."""
    extra = ("", " HD", " Österreich", " España", " 日本", " Kids 🎈", " +1", " Nachrichten")[n % 8]
    return f"Channel {n}{extra}"


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(9, 15))
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), rng.choice(_ENTITIES))
    if rng.random() < 0.25:
        words.append(rng.choice(_EMOJI))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _title(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(2, 5))
    if rng.random() < 0.15:
        words.insert(1, rng.choice(("&amp;", "&#8211;", "vs.", "&quot;Live&quot;")))
    if rng.random() < 0.1:
        words.append(rng.choice(_EMOJI))
    return " ".join(w.capitalize() for w in words)


def _credits(rng: random.Random) -> str:
    lines = ["    <credits>\n"]
    for role in sorted(rng.sample(_ROLES, k=rng.randint(2, 5)), key=_ROLES.index):
        name = f"{rng.choice(_WORDS).capitalize()} {rng.choice(_WORDS).capitalize()}"
        if role == "actor":
            lines.append(f'      <actor role="{rng.choice(_WORDS).capitalize()}">{name}</actor>\n')
        else:
            lines.append(f"      <{role}>{name}</{role}>\n")
    lines.append("    </credits>\n")
    return "".join(lines)


def write_guide(
    path: Path,
    gz_path: Path | None,
    *,
    channels: int,
    start: datetime,
    days: float,
    seed: int = 7,
    desc_sentences: tuple[int, int] = (3, 5),
) -> GuideInfo:
    """Write an XMLTV guide of `channels` channels from `start` for `days` (and its .gz copy)."""
    rng = random.Random(seed)
    sentences = [_sentence(rng) for _ in range(4000)]
    titles = [_title(rng) for _ in range(3000)]
    sub_titles = [f"{_title(rng)}" for _ in range(3000)]
    credits = [_credits(rng) for _ in range(600)]
    category_lines = [
        "".join(
            f'    <category lang="{lang}">{name}</category>\n'
            for name, lang in rng.sample(_CATEGORIES, k=rng.randint(1, 3))
        )
        for _ in range(200)
    ]
    times: dict[tuple[int, int], str] = {}

    def stamp(minute: int, offset: int) -> str:
        # Times repeat across channels: format each (minute, zone) once.
        key = (minute, offset)
        text = times.get(key)
        if text is None:
            local = start + timedelta(minutes=minute + offset * 60)
            text = f"{local:%Y%m%d%H%M%S} {'+' if offset >= 0 else '-'}{abs(offset):02d}00"
            times[key] = text
        return text

    end_minute = int(days * 24 * 60)
    programmes = 0
    with path.open("wb") as raw:
        out = _BlockWriter(raw, gz_path)
        out.put(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n'
            '<tv generator-info-name="antenna-bench" source-info-name="Bench &amp; Co. TV-Daten">\n'
        )
        for n in range(1, channels + 1):
            out.put(
                f'  <channel id="{channel_id(n)}">\n'
                f'    <display-name lang="de">{channel_name(n)}</display-name>\n'
                f"    <display-name>{n}</display-name>\n"
                f'    <icon src="https://logos.example/{n:04d}.png?size=large&amp;v=2"/>\n'
                f"    <url>https://tv.example/channel/{n}</url>\n"
                "  </channel>\n"
            )
        lo, hi = desc_sentences
        for n in range(1, channels + 1):
            cid = channel_id(n)
            offset = (0, 1, 2, -5)[n % 4]  # UTC, Berlin winter/summer, New York
            minute = rng.choice((0, 5, 10, 15, 30))
            index = 0
            while minute < end_minute:
                length = DURATIONS[(n + index) % len(DURATIONS)]
                stop = minute + length
                index += 1
                r = rng.random()
                parts = [
                    f'  <programme start="{stamp(minute, offset)}" stop="{stamp(stop, offset)}" '
                    f'channel="{cid}">\n'
                    f'    <title lang="{"de" if r < 0.3 else "en"}">{titles[rng.randrange(3000)]}</title>\n'
                ]
                if r < 0.7:
                    parts.append(f"    <sub-title>{sub_titles[rng.randrange(3000)]}</sub-title>\n")
                desc = " ".join(rng.choices(sentences, k=rng.randint(lo, hi)))
                parts.append(f'    <desc lang="en">{desc} (#{n}-{index} &#169; Bench)</desc>\n')
                if r < 0.25:
                    parts.append(credits[rng.randrange(600)])
                if 0.2 < r < 0.35:
                    parts.append(f"    <date>{1960 + index % 65}</date>\n")
                parts.append(category_lines[rng.randrange(200)])
                if r > 0.5:
                    season, episode = n % 12, index % 40
                    onscreen = f"S{season + 1:02d}E{episode + 1:02d}"
                    parts.append(
                        f'    <episode-num system="xmltv_ns">{season}.{episode}.0/1</episode-num>\n'
                        f'    <episode-num system="onscreen">{onscreen}</episode-num>\n'
                    )
                if r < 0.2:
                    parts.append(f'    <icon src="https://img.example/p/{n}/{index}.jpg?w=300&amp;h=200"/>\n')
                if 0.4 < r < 0.55:
                    parts.append('    <rating system="FSK">\n      <value>12</value>\n    </rating>\n')
                if r > 0.9:
                    parts.append("    <previously-shown/>\n")
                parts.append("  </programme>\n")
                out.put("".join(parts))
                programmes += 1
                minute = stop
        out.put("</tv>\n")
        out.close()
    return GuideInfo(
        channels=channels,
        programmes=programmes,
        first_start=start,
        last_stop=start + timedelta(minutes=end_minute),
        size=path.stat().st_size,
        gz_size=gz_path.stat().st_size if gz_path is not None else 0,
    )


def write_guide_playlist(path: Path, channels: int) -> None:
    """Write the M3U of the guide's channels (tvg-id = the XMLTV ids, so every channel gets guide data)."""
    lines = ['#EXTM3U x-tvg-url="https://epg.example/guide.xml.gz"\n']
    for n in range(1, channels + 1):
        lines.append(
            f'#EXTINF:-1 tvg-id="{channel_id(n)}" tvg-name="{channel_name(n)}" '
            f'tvg-logo="https://logos.example/{n:04d}.png" group-title="Group {n % 20}",{channel_name(n)}\n'
            f"http://streams.example:8080/live/user/pass/{n}.ts\n"
        )
    path.write_text("".join(lines), encoding="utf-8")


_GROUPS = (
    "News", "Sports", "Movies", "Kids", "Music", "Documentary", "DE | Deutschland", "ES | España",
    "FR | Français", "JP | 日本", "UK | Entertainment", "US | Locals", "VOD | Películas", "PPV 🥊",
)  # fmt: skip


def write_big_playlist(path: Path, entries: int, seed: int = 11) -> int:
    """Write a provider-style M3U of `entries` channels; return how many tvg-ids repeat (about 1%)."""
    rng = random.Random(seed)
    duplicates = 0
    with path.open("wb") as raw:
        out = _BlockWriter(raw, None)
        out.put('#EXTM3U x-tvg-url="https://epg.example/xmltv.php?username=u&password=p" url-tvg="x"\n')
        for n in range(1, entries + 1):
            ident = n
            if rng.random() < 0.01 and n > 10:
                ident = rng.randrange(1, n)  # providers list some channels twice
                duplicates += 1
            group = _GROUPS[n % len(_GROUPS)]
            name = f"{group.split(' | ')[0]}: {rng.choice(_WORDS).capitalize()} {ident}"
            if n % 7 == 0:
                name += rng.choice((" HD", " FHD", " 4K", " ᴿᴬᵂ", " 🔴"))
            attrs = (
                f'tvg-id="{_WORDS[ident % len(_WORDS)]}{ident}.example" tvg-name="{name}" '
                f'tvg-logo="http://logos.provider.example/picons/{ident}.png" group-title="{group}"'
            )
            if n % 10 == 0:
                attrs += f' tvg-chno="{n}"'
            if n % 5 == 0:
                attrs += ' catchup="default" catchup-days="7" catchup-source="?utc={utc}&lutc={lutc}"'
            extra = ""
            if n % 50 == 0:
                extra += "#EXTVLCOPT:http-user-agent=Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)\n"
            if n % 80 == 0:
                extra += "#KODIPROP:inputstream.adaptive.manifest_type=mpd\n"
                extra += "#KODIPROP:inputstream=inputstream.adaptive\n"
            url = f"http://line.provider.example:8080/live/user123/pass456/{100000 + n}.ts"
            if n % 4 == 0:
                url += "|User-Agent=VLC%2F3.0.18%20LibVLC%2F3.0.18&Referer=http%3A%2F%2Fprovider.example%2F"
            out.put(f"#EXTINF:-1 {attrs},{name}\n{extra}{url}\n")
        out.close()
    return duplicates


def guide_start(now: datetime | None = None) -> datetime:
    """Return the first programme time: one day before now, on the hour (UTC)."""
    now = now or datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
