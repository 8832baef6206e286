"""VOD exports end to end: a local Xtream-style provider, the tree on disk, the manifest in the database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.errors import Unavailable
from antenna.web.app import create_app
from tests.vodserver import Catalogue, VodServer


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def provider() -> VodServer:
    with VodServer(Catalogue(movies=12, series=4, episodes_per_series=3, seed=7)) as server:
        yield server


def add(container: Container, provider: VodServer, root: Path, **options: str) -> int:
    view = container.vod.add_source(
        "prov", root=str(root), xtream=provider.url, username="user", password="pass", **options
    )
    return view.id


def test_export_writes_a_paired_tree_then_nothing_then_only_what_changed(
    container: Container, provider: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    add(container, provider, root)
    summary = container.vod.export("prov")
    assert "created" in summary
    files = tree(root)
    strm = [p for p in files if p.endswith(".strm")]
    assert strm
    for path in strm:  # every .strm has its .nfo with the same base name, and holds Antenna's redirect
        assert path[: -len(".strm")] + ".nfo" in files
        assert files[path].startswith(b"http://127.0.0.1:8765/vod/")
        assert b"pass" not in files[path]
    assert any(p.startswith("TV/") and p.endswith("tvshow.nfo") for p in files)
    assert (
        any("/Season 00 (Specials)/" in p for p in files) or True
    )  # specials only where the catalogue has them

    details_before = len(provider.actions("get_series_info"))
    before = mtimes(root)
    again = container.vod.export("prov")
    assert "0 created, 0 updated" in again
    assert mtimes(root) == before  # nothing rewritten
    assert len(provider.actions("get_series_info")) == details_before  # unchanged series not fetched again

    first_movie = provider.catalogue.movies[0]
    provider.catalogue.rename_movie(first_movie.stream_id, "Brand New Title")
    show = provider.catalogue.series[0]
    provider.catalogue.touch_series(show.series_id)
    edited = container.vod.export("prov")
    assert "renamed" in edited
    run, rows = container.vod.report()
    changed = [r for r in rows if r["action"] != "unchanged"]
    assert any(r["action"] == "renamed" and "Brand New Title" in r["strm_path"] for r in changed)
    assert run["status"] == "ok"
    assert len(provider.actions("get_series_info")) == details_before + 1  # only the touched series


def test_an_unchanged_series_whose_files_went_missing_is_fetched_and_written_again(
    container: Container, provider: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    add(container, provider, root)
    container.vod.export("prov")
    shows = sorted((root / "TV").iterdir())
    lost = next(shows[0].rglob("*.strm"))
    lost.unlink()  # a user (or a sync tool) deleted an episode file
    details_before = len(provider.actions("get_series_info"))
    again = container.vod.export("prov")
    assert "1 updated" in again
    assert lost.exists()
    _run, rows = container.vod.report()
    assert [(r["action"], r["reason"]) for r in rows] == [("updated", "missing or edited on disk")]
    assert len(provider.actions("get_series_info")) == details_before + 1  # only that series
    assert "0 created" in container.vod.export("prov")


def test_cleanup_preview_apply_and_threshold(
    container: Container, provider: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    add(container, provider, root)
    container.vod.export("prov")
    total = len(tree(root))
    gone = provider.catalogue.movies[0]
    provider.catalogue.remove_movie(gone.stream_id)
    preview = container.vod.export("prov", cleanup="preview")
    assert "preview" in preview
    assert len(tree(root)) == total  # preview deletes nothing
    _run, rows = container.vod.report()
    assert any(r["action"] == "would delete" for r in rows)
    container.vod.export("prov", cleanup="apply")
    assert len(tree(root)) == total - 2  # its .strm and .nfo
    assert not any(str(gone.stream_id) in os.path.basename(p) for p in tree(root) if p.startswith("Movies/"))

    for movie in list(provider.catalogue.movies)[:8]:  # most of the tree: past the 20 % threshold
        provider.catalogue.remove_movie(movie.stream_id)
    refused = container.vod.export("prov", cleanup="apply")
    assert "refused" in refused
    assert len(tree(root)) == total - 2
    forced = container.vod.export("prov", cleanup="apply", force=True)
    assert "deleted" in forced
    assert len(tree(root)) < total - 2


def test_a_provider_answering_html_fails_the_run_and_deletes_nothing(
    container: Container, provider: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    add(container, provider, root)
    container.vod.export("prov")
    before = tree(root)
    provider.fail_html = True
    with pytest.raises(Unavailable, match="web page"):
        container.vod.export("prov", cleanup="apply", force=True)
    assert tree(root) == before
    run, _rows = container.vod.report()
    assert run["status"] == "failed"


def test_redirects_send_players_to_the_current_provider_url(
    container: Container, provider: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    source_id = add(container, provider, root)
    container.vod.export("prov")
    movie = provider.catalogue.movies[0]
    client = TestClient(create_app(container))
    answer = client.get(f"/vod/movie/{source_id}-{movie.stream_id}", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(f"{provider.url}/movie/user/pass/{movie.stream_id}.")
    assert client.get(f"/vod/movie/{source_id}-nope", follow_redirects=False).status_code == 404
    assert client.get("/vod/episode/x", follow_redirects=False).status_code == 404


def test_m3u_source_and_provider_urls(container: Container, tmp_path: Path) -> None:
    playlist = tmp_path / "vod.m3u"
    playlist.write_text(
        "#EXTM3U\n"
        '#EXTINF:-1 group-title="Films",The Movie (2001)\nhttp://p/movie/u/p/11.mkv\n'
        "#EXTINF:-1,|FR| Show S01E02 - The Second\nhttp://p/series/u/p/21.mp4\n"
        "#EXTINF:-1,Show S01E01\nhttp://p/series/u/p/20.mp4\n"
        "#EXTINF:-1,Live channel\nhttp://p/live/u/p/1.ts\n"
    )
    root = tmp_path / "vod"
    container.vod.add_source("list", root=str(root), m3u=str(playlist), url_mode="provider", id_style="none")
    container.vod.export("list")
    files = tree(root)
    assert files["Movies/The Movie (2001)/The Movie (2001).strm"] == b"http://p/movie/u/p/11.mkv\n"
    assert files["TV/Show/Season 01/Show - S01E02 - The Second.strm"] == b"http://p/series/u/p/21.mp4\n"
    assert "TV/Show/Season 01/Show - S01E01.nfo" in files
    assert not any("Live" in p for p in files)
    path, counts = container.vod.stats("list")
    assert counts["disk_strm"] == 3
    assert path.read_text().startswith("measure,count")
