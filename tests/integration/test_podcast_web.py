"""Podcast pages and REST API in-process, against feeds and media served by a real local HTTP server."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.podcasts.models import EpisodeState
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from antenna.web.podcast_download_views import Board
from tests.integration.test_podcasts import items, rss
from tests.mediaserver import MediaServer
from tests.webclient import PASSWORD, htmx_headers

FIRST_FILE = "Season 2024/Test Show - S2024E030301 - Episode 2.mp3"
OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="Other Show" type="rss" xmlUrl="{other}"/>
<outline text="Broken" type="rss" xmlUrl="{missing}"/>
</body></opml>"""


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    # No background runner: jobs stay queued and downloads are run directly where a test needs them.
    with TestClient(create_app(container, start_background=False), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def feeds(media_server: MediaServer) -> MediaServer:
    """Serve two small feeds, an HTML page and the episodes' media."""
    media_server.add_file("ep.mp3", size=20_000)
    media_server.add_file("feed.rss", rss(media_server, items(3)))
    media_server.add_file("other.rss", rss(media_server, items(2), title="Other Show"))
    media_server.add_file(
        "page.html", b"<!doctype html><html><body>A blog</body></html>", content_type="text/html"
    )
    return media_server


@pytest.fixture
def hx(client: TestClient) -> dict[str, str]:
    """Log in and return the headers an HTMX request from the page sends."""
    return htmx_headers(client, "/podcasts")


@pytest.fixture
def api(client: TestClient, container: Container) -> dict[str, str]:
    return {"X-Api-Key": AuthService(container.secrets, container.clock).api_key()}


def _text(response_text: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", response_text))


def _errors(text: str) -> dict[str, str]:
    found = re.findall(r'id="([\w-]+)-error" class="field-error"[^>]*>([^<]*)<', text)
    return {name: html.unescape(message).strip() for name, message in found}


def _subscribe(client: TestClient, hx: dict[str, str], url: str, **options: str) -> str:
    form = {"url": url, "q": url, "options": "1", "keep": "", "order": "newest", "backfill": "on", **options}
    response = client.post("/podcasts/add", data=form, headers=hx)
    assert response.status_code == 200
    return _text(response.text)


def test_pages_explain_the_next_step_when_empty(client: TestClient, hx: dict[str, str]) -> None:
    page = _text(client.get("/podcasts").text)
    assert "No podcasts yet" in page
    assert 'href="/podcasts/add"' in page
    assert "antenna podcast add URL" in page
    assert "Import and export (OPML)" in page
    assert "does not have Podcasts" not in page
    add = _text(client.get("/podcasts/add").text)
    assert "Where do I find a feed URL?" in add
    assert (
        "javascript:location.href='http://testserver/podcasts/add?url='+encodeURIComponent(location.href)"
        in add
    )
    downloads = _text(client.get("/podcasts/downloads").text)
    assert "Nothing is downloading right now" in downloads
    assert "Check now" in downloads
    for href in ('href="/podcasts"', 'href="/podcasts/add"', 'href="/podcasts/downloads"'):
        assert href in page


def test_add_preview_subscribe_and_list(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    url = feeds.url("feed.rss")
    preview = _text(client.post("/podcasts/add/preview", data={"q": url}, headers=hx).text)
    assert "Test Show" in preview
    assert "3 episode(s)" in preview
    assert str(container.settings.podcast_library / "Test Show") in preview
    assert FIRST_FILE in preview
    assert container.podcasts.podcasts() == []  # a preview stores nothing
    assert re.search(r'id="add-backfill" name="backfill" checked', preview)  # the defaults, ready to change

    # Audio-to-video changes the file names the preview shows.
    again = client.post(
        "/podcasts/add/preview",
        data={"q": url, "options": "1", "audio_to_video": "on", "keep": ""},
        headers=hx,
    ).text
    assert FIRST_FILE.replace(".mp3", ".mp4") in _text(again)

    done = _subscribe(client, hx, url, keep="2")
    assert "Subscribed to Test Show" in done
    assert "2 queued for download" in done
    assert 'href="/podcasts/downloads"' in done
    listed = _text(client.get("/podcasts").text)
    assert "Test Show" in listed
    row = re.search(r'<tr id="podcast-1".*?</tr>', listed)
    assert row
    assert '<span class="podcast-count">0</span>' in row.group(0)
    assert '<span class="podcast-count">2</span>' in row.group(0)
    assert "keep 2 newest" in row.group(0)


def test_bookmarklet_link_prefills_and_previews(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    page = _text(client.get("/podcasts/add", params={"url": feeds.url("feed.rss")}).text)
    assert f'value="{feeds.url("feed.rss")}"' in page
    assert FIRST_FILE in page
    assert "Subscribe" in page
    # Search words go to the directory (served locally here): each result can be previewed.
    feeds.add_file(
        "search.json",
        b'{"resultCount": 1, "results": [{"collectionName": "Other Show", "artistName": "Tester", '
        b'"feedUrl": "' + feeds.url("other.rss").encode() + b'", "trackCount": 2}]}',
        content_type="application/json",
    )
    container.podcasts.subscriptions.search_url = feeds.url("search.json")
    found = _text(client.get("/podcasts/add", params={"q": "other show"}).text)
    assert "Search results for “other show”" in found
    assert 'aria-label="Preview Other Show"' in found
    assert f'value="{feeds.url("other.rss")}"' in found


def test_duplicate_is_refused_with_the_existing_name(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    url = feeds.url("feed.rss")
    _subscribe(client, hx, url)
    preview = _text(client.post("/podcasts/add/preview", data={"q": url}, headers=hx).text)
    assert "You are already subscribed to this feed as Test Show." in re.sub(r"<[^>]+>", "", preview)
    assert 'href="/podcasts/1"' in preview
    assert '<button type="submit" disabled>Subscribe</button>' in preview
    refused = _subscribe(client, hx, url + "?again=1")
    assert "Already subscribed to this feed as 'Test Show'" in refused
    assert len(container.podcasts.podcasts()) == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [("page.html", "is an HTML page, not a podcast feed"), ("missing.rss", "answered 404")],
)
def test_a_bad_url_shows_one_clear_message_and_stores_nothing(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container, path: str, message: str
) -> None:
    text = client.post("/podcasts/add/preview", data={"q": feeds.url(path)}, headers=hx).text
    errors = _errors(text)
    assert list(errors) == ["podcast-q"]
    assert message in errors["podcast-q"]
    assert 'id="podcast-subscribe"' not in text
    refused = _subscribe(client, hx, feeds.url(path))
    assert message in refused
    assert container.podcasts.podcasts() == []
    empty = _errors(client.post("/podcasts/add/preview", data={"q": " "}, headers=hx).text)
    assert "Paste a podcast's feed URL" in empty["podcast-q"]


def test_bulk_pause_resume_settings_and_delete(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    _subscribe(client, hx, feeds.url("feed.rss"))
    _subscribe(client, hx, feeds.url("other.rss"))
    ids = [str(p.id) for p in container.podcasts.podcasts()]

    def bulk(**form: str | list[str]) -> str:
        response = client.post("/podcasts/bulk", data={"ids": ids, **form}, headers=hx)
        assert response.status_code == 200
        return _text(response.text)

    assert "Paused 2 podcast(s)" in bulk(action="pause")
    assert all(p.paused for p in container.podcasts.podcasts())
    assert "Resumed 2 podcast(s)" in bulk(action="resume")
    assert not any(p.paused for p in container.podcasts.podcasts())

    bad = bulk(action="settings", keep="lots")
    assert "must be a whole number" in _errors(bad)["bulk-keep"]
    changed = bulk(action="settings", keep="1", delete_watched="yes", expire_days="30", order="")
    assert "Changed delete_watched, expire_days, keep on 2 podcast(s)" in changed
    for podcast in container.podcasts.podcasts():
        assert (podcast.options.keep, podcast.options.delete_watched, podcast.options.expire_days) == (
            1,
            True,
            30,
        )
        assert podcast.options.order.value == "newest"  # left as it was
    assert "No setting was changed" in bulk(action="settings")

    asyncio.run(container.podcasts.download())
    folder = Path(container.podcasts.podcasts()[0].folder)
    assert any(folder.rglob("*.mp3"))
    confirm = client.post("/podcasts/bulk", data={"ids": ids, "action": "delete"}, headers=hx)
    assert confirm.headers["HX-Retarget"] == "#podcast-confirm"
    text = _text(confirm.text)
    assert "Unsubscribe from 2 podcast(s)?" in text
    assert str(folder) in text
    assert "Test Show: 3 episode file(s) in" in re.sub(r"<[^>]+>", "", text)
    assert "Also move their folders (5 episode file(s)" in text
    assert len(container.podcasts.podcasts()) == 2  # nothing happens before the confirmation

    gone = bulk(action="delete", confirm="yes", trash="yes")
    assert "Unsubscribed from" in gone
    assert "their folders are in the trash" in gone
    assert "No podcasts yet" in gone
    assert container.podcasts.podcasts() == []
    assert not folder.exists()


def test_show_page_episode_actions(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    _subscribe(client, hx, feeds.url("feed.rss"), keep="1")
    podcast = container.podcasts.podcasts()[0]
    page = _text(client.get(f"/podcasts/{podcast.id}").text)
    assert "Test Show" in page
    assert "Check now" in page
    assert "queued" in page
    assert "Outside the kept number" in page
    episodes = {e.title: e for e in container.podcasts.episodes(podcast.id)}

    def act(action: str, *titles: str) -> str:
        data = {"action": action, "ids": [str(episodes[t].id) for t in titles]}
        response = client.post(f"/podcasts/{podcast.id}/episodes", data=data, headers=hx)
        assert response.status_code == 200
        return _text(response.text)

    assert "Queued 1 episode(s)" in act("download", "Episode 0")
    assert container.podcasts.episode(episodes["Episode 0"].id).state == EpisodeState.QUEUED
    asyncio.run(container.podcasts.download())
    assert "Marked 2 episode(s) watched" in act("watched", "Episode 0", "Episode 2")
    deleted = act("delete", "Episode 2")
    assert "Moved 1 episode(s) to the trash" in deleted
    assert container.podcasts.episode(episodes["Episode 2"].id).state == EpisodeState.DELETED
    assert "No episode is selected" in _text(
        client.post(f"/podcasts/{podcast.id}/episodes", data={"action": "delete"}, headers=hx).text
    )
    failed = client.get(f"/podcasts/{podcast.id}/episodes", params={"show": "library"}).text
    assert "Episode 0" in failed
    assert "Episode 2" not in failed

    checked = _text(client.post(f"/podcasts/{podcast.id}/check", headers=hx).text)
    assert "Checking Test Show now" in checked
    assert container.jobs.active(kind="podcast_check")

    paused = _text(client.post(f"/podcasts/{podcast.id}/pause", headers=hx).text)
    assert "Paused Test Show" in paused
    assert ">Resume<" in paused
    saved = client.post(
        f"/podcasts/{podcast.id}/settings",
        data={"keep": "5", "order": "oldest", "quota_mode": "wait", "backfill": "on"},
        headers=hx,
    )
    assert "Saved the settings of Test Show" in _text(saved.text)
    assert container.podcasts.get(podcast.id).options.keep == 5
    invalid = client.post(f"/podcasts/{podcast.id}/settings", data={"keep": "-3"}, headers=hx).text
    assert "set-keep" in _errors(invalid)

    missing = client.get("/podcasts/999")
    assert missing.status_code == 404
    assert "No podcast with id 999" in missing.text


def test_unsubscribe_from_the_show_page_goes_back_to_the_list(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    _subscribe(client, hx, feeds.url("feed.rss"))
    podcast = container.podcasts.podcasts()[0]
    confirm = client.post(
        "/podcasts/bulk", data={"action": "delete", "ids": podcast.id, "next": "/podcasts"}, headers=hx
    )
    assert 'name="next" value="/podcasts"' in confirm.text
    done = client.post(
        "/podcasts/bulk",
        data={"action": "delete", "ids": podcast.id, "next": "/podcasts", "confirm": "yes"},
        headers=hx,
    )
    assert done.headers["HX-Redirect"] == "/podcasts"
    page = _text(client.get("/podcasts").text)
    assert "Unsubscribed from Test Show; their files stay in the library." in page
    assert "Unsubscribed from" not in _text(client.get("/podcasts").text)  # shown once


def test_opml_import_and_export_from_the_list_page(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    data = OPML.replace(b"{other}", feeds.url("other.rss").encode()).replace(
        b"{missing}", feeds.url("missing.rss").encode()
    )
    response = client.post("/podcasts/opml", files={"opml": ("subs.opml", data, "text/x-opml")}, headers=hx)
    text = _text(response.text)
    assert "Imported 1 podcast(s). 1 could not be added: Broken:" in text
    assert "answered 404" in text
    assert [p.title for p in container.podcasts.podcasts()] == ["Other Show"]
    exported = client.get("/podcasts/opml")
    assert exported.headers["content-disposition"].startswith("attachment")
    assert feeds.url("other.rss").encode() in exported.content
    empty = client.post("/podcasts/opml", files={"opml": ("x.opml", b"", "text/x-opml")}, headers=hx)
    assert "Choose an OPML file first" in _text(empty.text)


def test_downloads_page_lists_downloading_episodes_and_failures(
    client: TestClient, hx: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    _subscribe(client, hx, feeds.url("feed.rss"))
    first, second, _ = container.podcasts.episodes(1)
    container.podcasts.repo.update_episode(first.id, {"state": "downloading"}, container.clock())
    container.podcasts.repo.update_episode(
        second.id, {"state": "failed", "reason": "server answered 500"}, container.clock()
    )
    page = _text(client.get("/podcasts/downloads").text)
    assert 'sse-connect="/podcasts/downloads/events"' in page
    assert f'data-testid="download-{first.id}"' in page
    assert "starting…" in page
    assert "Recently failed" in page
    assert "server answered 500" in page
    retried = _text(client.post("/podcasts/downloads/retry", data={"ids": str(second.id)}, headers=hx).text)
    assert "Queued 1 episode(s) again" in retried


def test_download_board_follows_progress_events() -> None:
    board = Board()
    board.progress(
        {"episode_id": 7, "podcast_id": 1, "podcast": "Show", "title": "Ep", "done": 50, "total": 200}
    )
    assert [(a.title, a.percent) for a in board.active.values()] == [("Ep", 25)]
    board.progress({"episode_id": 7, "finished": True})
    assert board.active == {}
    board.progress(
        {"episode_id": 7, "podcast_id": 1, "podcast": "Show", "title": "Ep", "done": 200, "total": 200}
    )
    assert board.active == {}  # a late progress message does not bring a finished download back


def test_api_round_trip(
    client: TestClient, api: dict[str, str], feeds: MediaServer, container: Container
) -> None:
    assert client.get("/api/podcasts").status_code == 401
    assert client.get("/api/podcasts", headers=api).json() == []
    url = feeds.url("feed.rss")
    preview = client.post("/api/podcasts/preview", json={"url": url}, headers=api).json()
    assert preview["title"] == "Test Show"
    assert preview["episodes"][0]["path"] == FIRST_FILE
    assert preview["duplicate_of"] is None
    bad = client.post("/api/podcasts/preview", json={"url": feeds.url("page.html")}, headers=api)
    assert bad.status_code == 400
    assert "HTML page" in bad.json()["error"]

    created = client.post("/api/podcasts", json={"url": url, "options": {"keep": 2}}, headers=api)
    assert created.status_code == 201
    body = created.json()
    assert (body["title"], body["queued"], body["options"]["keep"]) == ("Test Show", 2, 2)
    podcast_id = body["id"]
    again = client.post("/api/podcasts", json={"url": url}, headers=api)
    assert again.status_code == 409
    assert "Test Show" in again.json()["error"]

    detail = client.get(f"/api/podcasts/{podcast_id}", headers=api).json()
    assert detail["pending"] == 2
    assert len(detail["episodes"]) == 3
    patched = client.patch(
        f"/api/podcasts/{podcast_id}", json={"keep": 3, "order": "oldest"}, headers=api
    ).json()
    assert (patched["options"]["keep"], patched["options"]["order"]) == (3, "oldest")
    assert (
        client.patch(f"/api/podcasts/{podcast_id}", json={"order": "sideways"}, headers=api).status_code
        == 422
    )
    assert client.post(f"/api/podcasts/{podcast_id}/pause", headers=api).json()["paused"] is True
    assert client.post(f"/api/podcasts/{podcast_id}/resume", headers=api).json()["paused"] is False

    check = client.post("/api/podcasts/check", json={"ids": [podcast_id]}, headers=api)
    assert (check.status_code, check.json()["kind"]) == (202, "podcast_check")
    assert client.post("/api/podcasts/check", json={"ids": [999]}, headers=api).status_code == 404
    download = client.post("/api/podcasts/download", headers=api)
    assert (download.status_code, download.json()["kind"]) == (202, "podcast_download")
    plan = client.post("/api/podcasts/housekeep", json={"dry_run": True}, headers=api)
    assert plan.status_code == 200
    assert plan.json()["dry_run"] is True
    job = client.post("/api/podcasts/housekeep", json={"dry_run": False}, headers=api)
    assert (job.status_code, job.json()["kind"]) == (202, "podcast_housekeep")

    asyncio.run(container.podcasts.download())
    library = client.get("/api/podcasts/episodes", params={"state": "unwatched"}, headers=api).json()
    assert len(library) == 3
    ids = [e["id"] for e in library]
    assert client.post("/api/podcasts/episodes/watched", json={"ids": ids[:1]}, headers=api).json() == {
        "marked": 1
    }
    assert client.post("/api/podcasts/episodes/delete", json={"ids": ids[:1]}, headers=api).json() == {
        "deleted": 1
    }
    assert client.get(f"/api/podcasts/episodes/{ids[0]}", headers=api).json()["state"] == "deleted"
    assert client.post("/api/podcasts/episodes/download", json={"ids": ids[:1]}, headers=api).json() == {
        "queued": 1
    }

    exported = client.get("/api/podcasts/opml", headers=api)
    assert url.encode() in exported.content
    removed = client.delete(
        f"/api/podcasts/{podcast_id}", params={"delete_files": "true"}, headers=api
    ).json()
    assert removed == {"removed": "Test Show", "files": "trashed"}
    imported = client.post(
        "/api/podcasts/opml", files={"file": ("subs.opml", exported.content, "text/x-opml")}, headers=api
    ).json()
    assert [p["title"] for p in imported["added"]] == ["Test Show"]
    assert client.get("/api/podcasts/999", headers=api).status_code == 404


def test_openapi_documents_the_podcast_routes(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/api/podcasts": {"get", "post"},
        "/api/podcasts/preview": {"post"},
        "/api/podcasts/search": {"get"},
        "/api/podcasts/check": {"post"},
        "/api/podcasts/download": {"post"},
        "/api/podcasts/housekeep": {"post"},
        "/api/podcasts/episodes": {"get"},
        "/api/podcasts/episodes/{episode_id}": {"get"},
        "/api/podcasts/episodes/download": {"post"},
        "/api/podcasts/episodes/delete": {"post"},
        "/api/podcasts/episodes/watched": {"post"},
        "/api/podcasts/opml": {"get", "post"},
        "/api/podcasts/{podcast_id}": {"get", "patch", "delete"},
        "/api/podcasts/{podcast_id}/pause": {"post"},
        "/api/podcasts/{podcast_id}/resume": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            assert paths[path][method]["summary"], (path, method)
            assert paths[path][method]["description"], (path, method)
    assert "SubscribeRequest" in spec["components"]["schemas"]
    assert "Options" in spec["components"]["schemas"]
    assert not any(p.startswith("/podcasts") for p in paths)  # the HTML pages stay out of the API docs
