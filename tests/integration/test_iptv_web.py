"""IPTV pages in-process: empty states, add form field errors, refresh, channels, bulk and inline edits."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.integration.test_iptv import Provider
from tests.webclient import PASSWORD, htmx_headers


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    # No background runner: refreshes are run directly so the tests do not wait on the job queue.
    with TestClient(create_app(container, start_background=False), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def web_provider() -> Iterator[Provider]:
    with Provider() as running:
        yield running


@pytest.fixture
def hx(client: TestClient) -> dict[str, str]:
    """Log in and return the headers an HTMX request from the page sends."""
    return htmx_headers(client, "/iptv")


def _errors(text: str) -> dict[str, str]:
    found = re.findall(r'id="([\w-]+)-error" class="field-error"[^>]*>([^<]*)<', text)
    return {name: html.unescape(message).strip() for name, message in found}


def _form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Provider",
        "kind": "url",
        "location": "",
        "role": "both",
        "username": "",
        "password": "",
        "timezone": "UTC",
        "schedule": "every 6h",
        "timeout": "60",
        "priority": "100",
    }
    form.update(changes)
    return form


def _add(client: TestClient, hx: dict[str, str], provider: Provider) -> None:
    playlist = _form(location=f"{provider.base}/list.m3u", role="channels")
    assert _errors(client.post("/iptv/sources", data=playlist, headers=hx).text) == {}
    guide = _form(name="Guide", location=f"{provider.base}/guide.xml", role="guide")
    assert _errors(client.post("/iptv/sources", data=guide, headers=hx).text) == {}


def test_pages_explain_the_next_step_when_empty(client: TestClient, hx: dict[str, str]) -> None:
    sources = client.get("/iptv").text
    assert "No IPTV sources yet" in sources
    assert "antenna iptv source add NAME URL" in sources
    assert "/iptv/playlist.m3u" in sources
    assert "/iptv/xmltv.xml.gz" in sources
    assert "Plex does not read" in sources
    for href in ('href="/iptv"', 'href="/iptv/channels"', 'href="/iptv/guide"'):
        assert href in sources
    assert "No channels yet — add a source and refresh" in client.get("/iptv/channels").text
    assert "No refresh has run yet" in client.get("/iptv/guide").text
    assert "does not have IPTV yet" not in sources


def test_add_form_shows_errors_by_their_fields(client: TestClient, hx: dict[str, str]) -> None:
    text = client.post("/iptv/sources", data=_form(location="ftp://nowhere/list"), headers=hx).text
    assert "is not an http(s) URL" in _errors(text)["iptv-location"]
    assert 'value="ftp://nowhere/list"' in text  # kept for correcting

    text = client.post("/iptv/sources", data=_form(kind="carrier-pigeon", location="x"), headers=hx).text
    assert "Choose a kind" in _errors(text)["iptv-kind"]

    bad = _form(kind="xtream", location="http://x.example", username="me", timeout="0", timezone="Mars/Base")
    errors = _errors(client.post("/iptv/sources", data=bad, headers=hx).text)
    assert "username and password" in errors["iptv-username"]
    assert "from 1 to 3600" in errors["iptv-timeout"]

    text = client.post(
        "/iptv/sources", data=_form(location="http://x.example/l.m3u", timezone="Mars/Base"), headers=hx
    ).text
    assert "Unknown timezone" in _errors(text)["iptv-timezone"]

    plain = {"X-CSRF-Token": hx["X-CSRF-Token"]}
    failed = client.post("/iptv/sources", data=_form(name=""), headers=plain)
    assert failed.status_code == 400
    assert "<h1>IPTV</h1>" in failed.text
    assert "iptv-name-error" in failed.text


def test_xtream_password_is_never_shown(client: TestClient, hx: dict[str, str], container: Container) -> None:
    form = _form(kind="xtream", location="http://xt.example:8080", username="alice", password="s3cret-pw")
    response = client.post("/iptv/sources", data=form, headers=hx)
    assert _errors(response.text) == {}
    assert response.headers["HX-Trigger"] == "iptv-sources-changed"
    assert "s3cret-pw" not in response.text
    page = client.get("/iptv").text
    assert "alice" in page
    assert "password set" in page
    assert "s3cret-pw" not in page
    assert container.iptv.sources()[0].has_password


def test_refresh_shows_status_channels_and_coverage(
    client: TestClient, hx: dict[str, str], container: Container, web_provider: Provider
) -> None:
    _add(client, hx, web_provider)
    table = client.get("/iptv/sources").text
    assert "never fetched" in table
    assert "Press Refresh" in table

    container.iptv.refresh()
    table = client.get("/iptv/sources").text
    assert table.count('class="badge iptv-status-ok"') == 2
    assert "m3u" in table.lower()

    page = client.get("/iptv/channels").text
    for name in ("BBC One HD", "Sports Two", "No Guide"):
        assert name in page
    assert "no guide" in page
    assert '<option value="News"' in page
    assert "one.uk" in page

    searched = client.get("/iptv/channels/table", params={"q": "sports"}).text
    assert "Sports Two" in searched
    assert "BBC One HD" not in searched
    grouped = client.get("/iptv/channels/table", params={"group": "Misc"}).text
    assert "No Guide" in grouped
    assert "Sports Two" not in grouped
    assert "No channel matches" in client.get("/iptv/channels/table", params={"q": "zzz"}).text
    by_name = client.get("/iptv/channels/table", params={"sort": "name"}).text
    assert by_name.index("BBC One HD") < by_name.index("No Guide") < by_name.index("Sports Two")

    guide = client.get("/iptv/guide").text
    assert "Channels without guide data (1)" in guide
    assert "3 No Guide" in guide
    assert guide.index("No Guide") < guide.index("Sports Two")  # fewest hours first
    assert "iptv-bar" in guide
    assert "Sports Two" not in client.get("/iptv/guide/table", params={"q": "bbc"}).text


def test_source_actions_test_toggle_remove_and_start_jobs(
    client: TestClient, hx: dict[str, str], container: Container, web_provider: Provider
) -> None:
    _add(client, hx, web_provider)
    tested = client.post("/iptv/sources/1/test", headers=hx).text
    assert "flash-ok" in tested
    assert "Provider: m3u" in tested

    web_provider.fail = True
    failed = client.post("/iptv/sources/1/test", headers=hx).text
    assert "flash-error" in failed
    assert "Testing Provider failed" in failed
    assert "500" in failed
    web_provider.fail = False

    started = client.post("/iptv/sources/1/refresh", headers=hx).text
    job = container.jobs.active(kind="iptv_refresh")[-1]
    assert job.params == {"sources": [1]}
    assert f'sse-swap="job-{job.id}"' in started  # the row shows live progress

    everything = client.post("/iptv/refresh", headers=hx).text
    whole = container.jobs.active(kind="iptv_refresh")[-1]
    assert whole.params == {"sources": []}
    assert f'sse-swap="job-{whole.id}"' in everything
    assert "Refreshing all sources" in everything
    status = client.get(f"/iptv/refresh/{whole.id}", headers=hx)
    assert "HX-Trigger" not in status.headers  # still queued

    toggled = client.post("/iptv/sources/2/toggle", headers=hx).text
    assert ">Enable<" in toggled
    assert "Guide is disabled" in toggled
    assert not container.iptv.source(2).enabled

    removed = client.post("/iptv/sources/2/delete", headers=hx).text
    assert "Removed Guide" in removed
    assert [s.name for s in container.iptv.sources()] == ["Provider"]


def test_inline_edit_and_bulk_changes_are_stored_as_overrides(
    client: TestClient, hx: dict[str, str], container: Container, web_provider: Provider
) -> None:
    _add(client, hx, web_provider)
    container.iptv.refresh()
    key = next(c["key"] for c in container.iptv.channels() if c["name"] == "Sports Two")

    edit = client.get("/iptv/channels/row", params={"source_id": 1, "key": key, "edit": "true"}).text
    assert 'name="number"' in edit
    assert 'value="Sports Two"' in edit
    form = {"source_id": "1", "key": key, "name": "Sports Two", "number": "12x", "group_name": "Sports"}
    wrong = client.post("/iptv/channels/row", data={**form, "guide_id": "two.uk"}, headers=hx).text
    assert "is not a channel number" in wrong
    assert 'value="12x"' in wrong
    saved = client.post(
        "/iptv/channels/row", data={**form, "number": "105", "guide_id": "two.uk"}, headers=hx
    )
    assert "→ 105" in saved.text
    assert "apply at the next refresh" in saved.text
    override = container.iptv.overrides()[(1, key)]
    assert override.number == "105"
    assert override.name is None
    assert override.group is None

    ids = [f"1:{c['key']}" for c in container.iptv.channels() if c["name"] != "Sports Two"]
    bulk = {"ids": ids, "action": "disable", "sort": "number"}
    text = client.post("/iptv/channels/bulk", data=bulk, headers=hx).text
    assert "Disabled 2 channel(s)" in text
    assert text.count("→ off") == 2
    assert all(container.iptv.overrides()[(1, i.split(":", 1)[1])].enabled is False for i in ids)

    text = client.post(
        "/iptv/channels/bulk", data={**bulk, "action": "renumber", "start": "200"}, headers=hx
    ).text
    assert "Renumbered 2 channel(s) from 200" in text
    numbers = [container.iptv.overrides()[(1, i.split(":", 1)[1])].number for i in ids]
    assert numbers == ["200", "201"]  # in the order submitted (the order shown)

    client.post("/iptv/channels/bulk", data={**bulk, "action": "group", "group_name": "Later"}, headers=hx)
    assert {container.iptv.overrides()[(1, i.split(":", 1)[1])].group for i in ids} == {"Later"}
    empty = client.post("/iptv/channels/bulk", data={"action": "disable"}, headers=hx).text
    assert "No channel is selected" in empty

    container.iptv.refresh()
    page = client.get("/iptv/channels").text
    assert "→" not in page.split("<tbody>")[1]  # applied: nothing pending any more
    assert "2 disabled" in page
    channels = {c["name"]: c for c in container.iptv.channels()}
    assert channels["Sports Two"]["number"] == "105"
    assert channels["BBC One HD"]["enabled"] is False
