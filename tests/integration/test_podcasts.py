"""Podcasts end to end: real feeds and media over a local HTTP server, real database, real files, plexsim."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from PIL import Image

from antenna.clients.feed_http import FeedHttp
from antenna.container import Container
from antenna.errors import Conflict, UserError
from antenna.podcasts.models import EpisodeState
from tests.conftest import service_missing
from tests.mediaserver import MediaServer
from tests.support import self_signed_https

Item = tuple[str, str, datetime, str]  # guid, title, published, media file name


def rss(server: MediaServer, items: Sequence[Item], *, title: str = "Test Show", extra: str = "") -> bytes:
    """Return an RSS 2.0 feed whose enclosures point at the server."""
    body = "".join(
        f"<item><title>{escape(t)}</title>"
        + (f"<guid>{escape(g)}</guid>" if g else "")
        + f"<pubDate>{format_datetime(when)}</pubDate><description>About {escape(t)}</description>"
        f'<enclosure url="{escape(server.url(media))}" length="0" type="audio/mpeg"/></item>'
        for g, t, when, media in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/{escape(title)}</link>"
        f"<description>A show</description><itunes:author>Tester</itunes:author>{extra}{body}"
        "</channel></rss>"
    ).encode()


DAY = timedelta(days=1)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "feeds"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def items(count: int, *, media: str = "ep.mp3", start: datetime = T0) -> list[Item]:
    """Return `count` daily episodes, oldest first."""
    return [(f"guid-{i}", f"Episode {i}", start + i * DAY, f"{media}?n={i}") for i in range(count)]


@pytest.fixture
def server() -> Iterator[MediaServer]:
    served = MediaServer().start()
    served.add_file("ep.mp3", size=50_000)
    served.add_file("cover.jpg", b"\xff\xd8\xff\xe0" + b"x" * 500)
    try:
        yield served
    finally:
        served.stop()


def download(container: Container) -> None:
    asyncio.run(container.podcasts.download())


def states(container: Container, podcast_id: int) -> dict[str, str]:
    return {e.title: e.state.value for e in container.podcasts.episodes(podcast_id)}


def library_files(container: Container) -> list[str]:
    root = container.settings.podcast_library
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_preview_shows_exact_names_and_stores_nothing(container: Container, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, items(3)))
    preview = container.podcasts.preview(server.url("feed.rss"))
    assert preview.title == "Test Show"
    assert preview.episode_count == 3
    assert preview.folder == str(container.settings.podcast_library / "Test Show")
    assert [e.relpath for e in preview.episodes] == [
        "Season 2024/Test Show - S2024E030301 - Episode 2.mp3",
        "Season 2024/Test Show - S2024E030201 - Episode 1.mp3",
        "Season 2024/Test Show - S2024E030101 - Episode 0.mp3",
    ]
    assert container.podcasts.podcasts() == []


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("page.html", b"<!doctype html><html><body>Hello</body></html>", "HTML page"),
        ("junk.rss", b"\x00\x01 not xml at all", "not"),
    ],
)
def test_not_a_feed_is_one_clear_message(
    container: Container, server: MediaServer, name: str, data: bytes, words: str
) -> None:
    server.add_file(name, data)
    with pytest.raises(UserError) as caught:
        container.podcasts.preview(server.url(name))
    assert words in caught.value.message
    with pytest.raises(UserError):
        container.podcasts.subscribe(server.url(name))
    with pytest.raises(UserError, match="404"):
        container.podcasts.subscribe(server.url("status/404"))
    assert container.podcasts.podcasts() == []


class _FeedOverTls(BaseHTTPRequestHandler):
    """Answer with a feed; the client refuses the self-signed certificate before it gets here."""

    def do_GET(self) -> None:
        body = b"<rss version='2.0'><channel><title>Never read</title></channel></rss>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def test_tls_errors_and_timeouts_at_preview_are_one_line_and_store_nothing(
    container: Container, server: MediaServer, tmp_path: Path
) -> None:
    with self_signed_https(tmp_path, _FeedOverTls) as url, pytest.raises(UserError) as tls:
        container.podcasts.preview(f"{url}/feed.rss")
    assert "certificate" in tls.value.message.lower()
    assert "\n" not in tls.value.message
    server.add_file("slow.rss", rss(server, items(1)))
    subscriptions = container.podcasts.subscriptions
    default_http, subscriptions.http = subscriptions.http, FeedHttp(timeout=0.5)
    try:
        with pytest.raises(UserError) as slow:
            container.podcasts.subscribe(server.url("slow-headers/3/slow.rss"))
    finally:
        subscriptions.http.close()
        subscriptions.http = default_http
    assert slow.value.message.endswith("did not answer within 0.5 s.")
    assert container.podcasts.podcasts() == []


def test_subscribe_downloads_into_library_with_nfo_and_art(container: Container, server: MediaServer) -> None:
    extra = f'<itunes:image href="{server.url("cover.jpg")}"/>'
    server.add_file("feed.rss", rss(server, items(2), extra=extra))
    done = container.podcasts.subscribe(server.url("feed.rss"))
    assert (done.episodes, done.queued) == (2, 2)
    download(container)
    assert set(states(container, done.podcast.id).values()) == {"unwatched"}
    assert library_files(container) == [
        "Test Show/Season 2024/Test Show - S2024E030101 - Episode 0-thumb.jpg",
        "Test Show/Season 2024/Test Show - S2024E030101 - Episode 0.mp3",
        "Test Show/Season 2024/Test Show - S2024E030101 - Episode 0.nfo",
        "Test Show/Season 2024/Test Show - S2024E030201 - Episode 1-thumb.jpg",
        "Test Show/Season 2024/Test Show - S2024E030201 - Episode 1.mp3",
        "Test Show/Season 2024/Test Show - S2024E030201 - Episode 1.nfo",
        "Test Show/fanart.jpg",
        "Test Show/poster.jpg",
        "Test Show/season2024-poster.jpg",
        "Test Show/tvshow.nfo",
    ]
    root = container.settings.podcast_library / "Test Show"
    media = root / "Season 2024/Test Show - S2024E030101 - Episode 0.mp3"
    assert media.read_bytes() == server.data("ep.mp3")
    nfo = media.with_suffix(".nfo").read_text()
    assert "<episodedetails>" in nfo
    assert "<season>2024</season>" in nfo
    assert "<episode>30101</episode>" in nfo
    assert "<title>Test Show</title>" in (root / "tvshow.nfo").read_text()
    assert not list((container.data_dir / "downloads").glob("*.part"))


def test_duplicates_refused_naming_the_existing_one(container: Container, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, items(1)))
    container.podcasts.subscribe(server.url("feed.rss"), {"keep": 0}, paused=True)
    with pytest.raises(Conflict, match="Test Show"):
        container.podcasts.subscribe(server.url("feed.rss").replace("http://", "HTTP://") + "#top")
    server.add_file("mirror.rss", rss(server, items(1)))  # same feed identity (link) at another URL
    with pytest.raises(Conflict, match="Already subscribed"):
        container.podcasts.subscribe(server.url("mirror.rss"))
    assert len(container.podcasts.podcasts()) == 1


def test_edited_feed_never_duplicates_and_conditional_get(container: Container, server: MediaServer) -> None:
    no_guid = [("", t, w, m) for _, t, w, m in items(3)]
    server.add_file("feed.rss", rss(server, no_guid))
    podcast = container.podcasts.subscribe(server.url("feed.rss"), {"keep": 0}, paused=True).podcast
    container.podcasts.set_paused([podcast.id], False)
    first = container.podcasts.check([podcast.id])[0]
    assert first.status in ("updated", "unchanged")
    again = container.podcasts.check([podcast.id])[0]
    assert again.status == "unchanged"  # ETag → 304
    assert server.requests_for("feed.rss")[-1].status == 304
    edited = [("", t + " (edited)", w, m) for _, t, w, m in no_guid]
    server.set_content("feed.rss", rss(server, edited))
    result = container.podcasts.check([podcast.id])[0]
    assert (result.status, result.added, result.updated) == ("updated", 0, 3)
    assert len(container.podcasts.episodes(podcast.id)) == 3


def test_permanent_redirect_and_gone(container: Container, server: MediaServer) -> None:
    server.add_file("new.rss", rss(server, items(1)))
    podcast = container.podcasts.subscribe(server.url("new.rss"), {"keep": 0}).podcast
    container.podcasts.repo.update_podcast(podcast.id, {"url": server.url("moved/new.rss"), "url_key": "x"})
    result = container.podcasts.check([podcast.id], force=True)[0]
    assert result.status == "updated"
    assert container.podcasts.get(podcast.id).url == server.url("new.rss")
    container.podcasts.repo.update_podcast(podcast.id, {"url": server.url("status/410")})
    gone = container.podcasts.check([podcast.id])[0]
    assert gone.status == "gone"
    assert "410" in gone.message
    assert container.podcasts.get(podcast.id).status.value == "gone"


def test_keep_newest_rotates_and_housekeeping_trashes(container: Container, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, items(3)))
    podcast = container.podcasts.subscribe(
        server.url("feed.rss"), {"keep": 2, "expire_buffer_days": 0}
    ).podcast
    download(container)
    assert states(container, podcast.id) == {
        "Episode 0": "available",
        "Episode 1": "unwatched",
        "Episode 2": "unwatched",
    }
    server.set_content("feed.rss", rss(server, items(4)))
    result = container.podcasts.check([podcast.id])[0]
    assert (result.added, result.queued) == (1, 1)
    download(container)
    got = states(container, podcast.id)
    assert got["Episode 3"] == "unwatched"
    assert got["Episode 2"] == "unwatched"
    assert got["Episode 1"] in ("marked_for_delete", "deleted")
    container.podcasts.housekeep()
    assert states(container, podcast.id)["Episode 1"] == "deleted"
    names = library_files(container)
    assert not any("Episode 1" in n for n in names)
    trashed = [e.path.name for e in container.trash.entries()]
    assert any(n.endswith("Episode 1.mp3") for n in trashed)
    assert any(n.endswith("Episode 1.nfo") for n in trashed)


def test_dry_run_matches_the_real_run(container: Container, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, items(4)))
    container.podcasts.clock = lambda: T0 + 5 * DAY
    podcast = container.podcasts.subscribe(server.url("feed.rss"), {"expire_days": 30}).podcast
    download(container)
    later = datetime(2024, 4, 15, tzinfo=UTC)
    container.podcasts.clock = lambda: later
    preview = container.podcasts.housekeep(dry_run=True)
    assert preview.steps
    assert all(s.action == "mark_for_delete" for s in preview.steps)
    assert set(states(container, podcast.id).values()) == {"unwatched"}
    real = container.podcasts.housekeep()
    assert [(s.episode_id, s.action) for s in real.steps] == [(s.episode_id, s.action) for s in preview.steps]
    container.podcasts.clock = lambda: later + 2 * DAY
    container.podcasts.housekeep()
    assert set(states(container, podcast.id).values()) == {"deleted"}


def test_watched_in_plex_removed_and_backfilled(container: Container, server: MediaServer, plexsim) -> None:  # type: ignore[no-untyped-def]
    server.add_file("feed.rss", rss(server, items(4)))
    podcast = container.podcasts.subscribe(
        server.url("feed.rss"), {"keep": 2, "delete_watched": True, "expire_buffer_days": 0}
    ).podcast
    download(container)
    container.plex.add_server(plexsim.url, plexsim.token, name="sim")
    section = plexsim.add_section("Podcasts", location=str(container.settings.podcast_library))
    show = plexsim.add_show(section, "Test Show")
    newest = next(e for e in container.podcasts.episodes(podcast.id) if e.title == "Episode 3")
    media = str(container.settings.podcast_library / podcast.title / newest.relpath)
    key = plexsim.add_episode(show, 2024, 30401, "Episode 3", media)
    plexsim.mark_watched(key, viewed_at=datetime(2024, 3, 6, tzinfo=UTC))
    report = container.podcasts.housekeep()
    assert ("Episode 3", "delete") in {(s.title, s.action) for s in report.steps}
    got = states(container, podcast.id)
    assert got["Episode 3"] == "deleted"
    assert got["Episode 1"] == "queued"  # backfill
    download(container)
    assert states(container, podcast.id)["Episode 1"] == "unwatched"
    assert any(path and path.endswith("Test Show") for _, path in plexsim.refresh_calls)


def test_existing_files_are_adopted(container: Container, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, items(2)))
    first = container.podcasts.subscribe(server.url("feed.rss")).podcast
    download(container)
    container.podcasts.remove([first.id])
    requests = len(server.requests_for("ep.mp3"))
    again = container.podcasts.subscribe(server.url("feed.rss"))
    assert (again.queued, again.adopted) == (0, 2)
    assert set(states(container, again.podcast.id).values()) == {"unwatched"}
    assert len(server.requests_for("ep.mp3")) == requests


def test_hostile_titles_stay_inside_the_show_folder(container: Container, server: MediaServer) -> None:
    hostile = [
        ("a", "../../etc/passwd", T0, "ep.mp3"),
        ("b", "\U0001f600" * 300, T0 + DAY, "ep.mp3"),
        ("c", "/abs/..\\x", T0 + 2 * DAY, "ep.mp3"),
    ]
    server.add_file("feed.rss", rss(server, hostile, title="../Evil"))
    podcast = container.podcasts.subscribe(server.url("feed.rss")).podcast
    download(container)
    root = container.settings.podcast_library.resolve()
    assert Path(podcast.folder).resolve().parent == root
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len([p for p in files if p.suffix == ".mp3"]) == 3
    for path in files:
        assert path.resolve().is_relative_to(root)
        assert len(path.name.encode()) <= 255


def test_failed_download_recorded_and_library_untouched(container: Container, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, [("x", "Broken", T0, "status/404")]))
    podcast = container.podcasts.subscribe(server.url("feed.rss")).podcast
    download(container)
    episode = container.podcasts.episodes(podcast.id)[0]
    assert episode.state == EpisodeState.FAILED
    assert "404" in episode.reason
    assert not [p for p in library_files(container) if p.endswith(".mp3")]


def test_opml_round_trip(container: Container, server: MediaServer) -> None:
    server.add_file("a.rss", rss(server, items(1), title="Alpha"))
    server.add_file("b.rss", rss(server, items(1), title="Beta"))
    container.podcasts.subscribe(server.url("a.rss"), paused=True)
    container.podcasts.subscribe(server.url("b.rss"), paused=True)
    exported = container.podcasts.export_opml()
    assert server.url("a.rss").encode() in exported
    assert b"Beta" in exported
    for podcast in container.podcasts.podcasts():
        container.podcasts.remove([podcast.id])
    added, problems = container.podcasts.import_opml(exported)
    assert sorted(p.title for p in added) == ["Alpha", "Beta"]
    assert problems == []
    again, problems = container.podcasts.import_opml(exported)
    assert again == []
    assert len(problems) == 2
    assert "Already subscribed" in problems[0]


def test_audio_episodes_become_mp4_for_plex(
    container: Container, server: MediaServer, tmp_path: Path
) -> None:
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        service_missing("ffmpeg/ffprobe are not installed (Debian package ffmpeg)")
    tone = tmp_path / "tone.mp3"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=3",
            str(tone),
        ],
        check=True,
    )
    server.add_file("tone.mp3", tone.read_bytes())
    cover = Image.new("RGB", (301, 201), (200, 40, 40))
    buffer = io.BytesIO()
    cover.save(buffer, "JPEG")
    server.add_file("cover.jpg", buffer.getvalue())
    extra = f'<itunes:image href="{server.url("cover.jpg")}"/>'
    server.add_file("feed.rss", rss(server, [("t", "Tone", T0, "tone.mp3")], extra=extra))
    podcast = container.podcasts.subscribe(server.url("feed.rss"), {"audio_to_video": True}).podcast
    download(container)
    episode = container.podcasts.episodes(podcast.id)[0]
    assert episode.state == EpisodeState.UNWATCHED
    assert episode.relpath.endswith(".mp4")
    media = Path(podcast.folder) / episode.relpath
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(media)],
            check=True,
            capture_output=True,
        ).stdout
    )
    codecs = sorted(s["codec_name"] for s in probe["streams"])
    assert codecs == ["h264", "mp3"]
    assert probe["format"]["tags"]["title"] == "Tone"
    assert probe["format"]["tags"]["show"] == "Test Show"
    assert not list((container.data_dir / "downloads").iterdir())


def test_verify_reads_nfo_edits_and_notices_missing_files(container: Container, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, items(2)))
    podcast = container.podcasts.subscribe(server.url("feed.rss")).podcast
    download(container)
    first, second = sorted(container.podcasts.episodes(podcast.id), key=lambda e: e.title)
    (Path(podcast.folder) / first.relpath).unlink()
    nfo = (Path(podcast.folder) / second.relpath).with_suffix(".nfo")
    nfo.write_text(nfo.read_text().replace("<title>Episode 1</title>", "<title>My better title</title>"))
    report = container.podcasts.maintain()
    assert report.checked == 2
    assert report.missing == ["Test Show / Episode 0"]
    assert report.nfo_updates == ["Test Show / My better title"]
    assert report.integrity == []
    assert states(container, podcast.id) == {"Episode 0": "deleted", "My better title": "unwatched"}
    container.podcasts.check([podcast.id], force=True)  # the feed's title no longer wins
    assert container.podcasts.episode(second.id).title == "My better title"
    container.podcasts.queue_episodes([first.id])  # the user asks for it back
    download(container)
    assert (Path(podcast.folder) / first.relpath).exists()


@pytest.mark.parametrize(
    "fixture",
    [
        "itunes.rss",
        "atom.xml",
        "missing_guids.rss",
        "duplicate_guids.rss",
        "old_dates.rss",
        "relative_enclosures.rss",
        "html_descriptions.rss",
    ],
)
def test_real_world_feeds_over_http(container: Container, server: MediaServer, fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    server.add_file(fixture, data, content_type="application/rss+xml")
    preview = container.podcasts.preview(server.url(fixture))
    assert preview.episode_count > 0
    subscribed = container.podcasts.subscribe(server.url(fixture), paused=True)
    assert subscribed.episodes == preview.episode_count
    again = container.podcasts.check([subscribed.podcast.id], force=True)[0]
    assert again.added == 0  # keys are stable: nothing duplicated on a re-read
    assert len(container.podcasts.episodes(subscribed.podcast.id)) == preview.episode_count


def test_huge_feed_of_5000_items(container: Container, server: MediaServer) -> None:
    server.add_file("huge.rss", rss(server, items(5000)))
    done = container.podcasts.subscribe(server.url("huge.rss"), {"keep": 3})
    assert (done.episodes, done.queued) == (5000, 3)
    assert container.podcasts.check([done.podcast.id])[0].status == "unchanged"


def test_search_uses_the_configured_directory(container: Container, server: MediaServer) -> None:
    server.add_file("search", (FIXTURES / "search.json").read_bytes(), content_type="application/json")
    container.podcasts.subscriptions.search_url = server.url("search")
    found = container.podcasts.search("example")
    assert found
    assert all(r.feed_url.startswith("http") for r in found)
    assert server.requests_for("search")[0].path.split("?")[1].startswith("term=example")


def test_many_feeds_are_parsed_in_worker_processes(container: Container, server: MediaServer) -> None:
    from antenna.podcasts import service as service_module

    for n in range(service_module.PARALLEL_PARSE_FROM):
        server.add_file(f"f{n}.rss", rss(server, items(3), title=f"Show {n}"))
        container.podcasts.subscribe(server.url(f"f{n}.rss"), paused=True)
    for podcast in container.podcasts.podcasts():
        container.podcasts.set_paused([podcast.id], False)
    server.set_content("f0.rss", b"<html><body>moved</body></html>")  # errors cross the process boundary
    for n in range(1, service_module.PARALLEL_PARSE_FROM):
        server.set_content(f"f{n}.rss", rss(server, items(4), title=f"Show {n}"))
    results = {r.title: r for r in container.podcasts.check()}
    assert results["Show 0"].status == "failed"
    assert "HTML page" in results["Show 0"].message
    assert all(results[f"Show {n}"].added == 1 for n in range(1, service_module.PARALLEL_PARSE_FROM))
    again = container.podcasts.check()
    assert sorted({r.status for r in again}) == ["failed", "unchanged"]
