"""Changing a VOD source's settings: renames in place, filters, clean rules, schedule and output folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from antenna.container import Container
from antenna.errors import NotFound, UserError
from antenna.vod.models import DEFAULT_CLEAN_RULES
from tests.integration.test_vod import add, tree
from tests.vodserver import Catalogue, VodServer


@pytest.fixture
def panel() -> Iterator[VodServer]:
    """A 12-movie, 4-series provider (the same catalogue test_vod.py exports)."""
    with VodServer(Catalogue(movies=12, series=4, episodes_per_series=3, seed=7)) as server:
        yield server


def movie_folders(root: Path) -> set[str]:
    return {p.name for p in (root / "Movies").iterdir()} if (root / "Movies").exists() else set()


def by_content(root: Path, suffix: str) -> dict[bytes, str]:
    """Return each .strm's content (its stream's URL, one per item) -> its path."""
    return {data: path for path, data in tree(root).items() if path.endswith(suffix)}


def test_a_naming_change_renames_the_tree_in_place_at_the_next_export(
    container: Container, panel: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    source_id = add(container, panel, root)
    container.vod.export("prov")
    before = tree(root)
    strm_before = by_content(root, ".strm")
    manifest = container.vod.repo.count_manifest(source_id)
    assert "Le Fabuleux Destin d'Amélie Poulain (2001) {tmdb-500}" in movie_folders(root)

    view = container.vod.update_source(
        "prov", {"movie_template": "{title} [{year}] {id}", "id_style": "jellyfin"}
    )
    assert (view.movie_template, view.id_style) == ("{title} [{year}] {id}", "jellyfin")
    assert tree(root) == before  # nothing moves until the export

    summary = container.vod.export("prov")
    assert "renamed" in summary
    assert "0 created" in summary
    after = tree(root)
    assert len(after) == len(before)  # nothing duplicated, nothing lost
    assert container.vod.repo.count_manifest(source_id) == manifest
    strm_after = by_content(root, ".strm")
    assert strm_after.keys() == strm_before.keys()  # the same streams, each once
    movies = {c: p for c, p in strm_before.items() if p.startswith("Movies/")}
    moved = {c: p for c, p in movies.items() if strm_after[c] != p}
    assert len(moved) == len(movies) - 1  # all but the 400-byte title, cut before its year and id
    for path in moved.values():
        assert not (root / path).exists()
        assert not (root / path).parent.exists()  # the old folder went with it
    folders = movie_folders(root)
    assert "Le Fabuleux Destin d'Amélie Poulain [2001] [tmdbid-500]" in folders
    assert "The Thing [2011]" in folders  # no id: no empty brackets left behind
    assert not any("{tmdb-" in p for p in after)  # series folders took the new id style too
    assert any(p.startswith("TV/") and "[tmdbid-" in p for p in after)

    _run, rows = container.vod.report()
    renamed = [r for r in rows if r["action"] == "renamed"]
    assert any(r["type"] == "movie" and "[2001] [tmdbid-500]" in r["strm_path"] for r in renamed)
    assert all(r["reason"].startswith("was ") for r in renamed)
    assert not [r for r in rows if r["action"] in ("created", "deleted")]

    again = container.vod.export("prov")
    assert "0 created, 0 updated, 0 renamed" in again
    assert tree(root) == after


def test_filters_take_fewer_movies_and_cleanup_preview_names_the_rest(
    container: Container, panel: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    add(container, panel, root)
    container.vod.export("prov")
    assert len(movie_folders(root)) == 12
    categories = panel.catalogue.vod_categories
    excluded = {"Horror", "3"}  # by name, and "Kids" by its id

    def wanted(category_id: str, year: int | None) -> bool:
        in_range = year is not None and 2000 <= year <= 2020
        return in_range and category_id not in excluded and categories[category_id] not in excluded

    kept = [m for m in panel.catalogue.movies if wanted(m.category_id, m.year)]
    assert 0 < len(kept) < 12
    view = container.vod.update_source(
        "prov", {"exclude_categories": ["Horror", "3"], "year_min": 2000, "year_max": "2020"}
    )
    assert (view.exclude_categories, view.year_min, view.year_max) == (("Horror", "3"), 2000, 2020)

    preview = container.vod.export("prov", cleanup="preview")
    assert f"{len(kept)} movies" in preview
    assert len(movie_folders(root)) == 12  # a preview deletes nothing
    _run, rows = container.vod.report()
    would = {r["uuid"] for r in rows if r["action"] == "would delete" and r["type"] == "movie"}
    assert would == {str(m.stream_id) for m in panel.catalogue.movies} - {str(m.stream_id) for m in kept}

    refused = container.vod.export("prov", cleanup="apply")
    assert "refused" in refused  # more than the 20 % threshold
    container.vod.update_source("prov", {"threshold": "80%"})  # series went too: 76 % of the tree
    assert "deleted" in container.vod.export("prov", cleanup="apply")
    assert len(movie_folders(root)) == len(kept)

    container.vod.update_source(
        "prov", {"exclude_categories": None, "year_min": None, "year_max": None, "threshold": None}
    )
    assert container.vod.source("prov").threshold == 0.2
    container.vod.export("prov")
    assert len(movie_folders(root)) == 12


def test_title_filter_and_a_custom_clean_rule(container: Container, panel: VodServer, tmp_path: Path) -> None:
    root = tmp_path / "vod"
    add(container, panel, root)
    container.vod.update_source("prov", {"title_regex": "^the thing$", "include_categories": []})
    summary = container.vod.export("prov")
    assert "3 movies, 0 series" in summary
    assert movie_folders(root) == {
        "The Thing (1982) {tmdb-505}",
        "The Thing (1982) {tmdb-506}",
        "The Thing (2011)",
    }

    # A rule of one's own beside the defaults: "The Thing" is named "Thing"; the title filter sees the
    # cleaned title, so it follows.
    view = container.vod.update_source(
        "prov", {"clean_rules": [*DEFAULT_CLEAN_RULES, r"^The\s+"], "title_regex": "^thing$"}
    )
    assert not view.default_clean_rules
    summary = container.vod.export("prov")
    assert "6 renamed" in summary  # each .strm and .nfo
    assert movie_folders(root) == {"Thing (1982) {tmdb-505}", "Thing (1982) {tmdb-506}", "Thing (2011)"}

    container.vod.update_source("prov", {"title_regex": "", "clean_rules": [r"^The\s+"]})
    container.vod.export("prov")
    folders = movie_folders(root)
    assert "EN| The Matrix (1999) {tmdb-511}" not in folders  # the default rules are gone: the tag stays
    assert "EN_ The Matrix (1999) {tmdb-511}" in folders
    view = container.vod.update_source("prov", {"clean_rules": None})  # back to the defaults
    assert view.default_clean_rules
    container.vod.export("prov")
    assert "The Matrix (1999) {tmdb-511}" in movie_folders(root)


def test_schedule_output_folder_and_refused_changes(
    container: Container, panel: VodServer, tmp_path: Path
) -> None:
    root = tmp_path / "vod"
    source_id = add(container, panel, root)
    name = f"vod-source-{source_id}"
    with pytest.raises(NotFound):
        container.schedule_service.get(name)
    container.vod.update_source("prov", {"schedule": "daily 03:00"})
    assert container.schedule_service.get(name).schedule.expression == "daily 03:00"
    container.vod.update_source(source_id, {"schedule": "0 4 * * *"})
    assert container.schedule_service.get(name).schedule.expression == "0 4 * * *"
    container.vod.update_source("prov", {"schedule": ""})
    with pytest.raises(NotFound):
        container.schedule_service.get(name)

    container.vod.export("prov")
    stored = container.vod.repo.source(source_id)
    for bad, message in (
        ({"movie_template": "{title} {season}"}, "uses {season}"),
        ({"title_regex": "[a-"}, "not a valid regular expression"),
        ({"provider_workers": 0}, "out of range"),
        ({"schedule": "whenever"}, "is not valid"),
        ({"year_min": 2010, "year_max": 2000}, "is after the last year"),
        ({"colour": "red"}, "Unknown VOD setting"),
    ):
        with pytest.raises(UserError, match=message):
            container.vod.update_source("prov", bad)
    assert container.vod.repo.source(source_id) == stored  # a refused change stores nothing
    with pytest.raises(NotFound):
        container.vod.update_source("nope", {"threshold": 0.5})

    # A new output folder gets a whole tree; the old folder keeps what it had.
    elsewhere = tmp_path / "elsewhere" / ".." / "moved"
    view = container.vod.update_source("prov", {"root": str(elsewhere)})
    assert view.root == str((tmp_path / "moved").resolve())
    old = tree(root)
    summary = container.vod.export("prov")
    assert "0 unchanged" in summary
    assert tree(tmp_path / "moved") == old
    assert tree(root) == old

    # Credentials change; the password is never shown, the new one is used.
    panel.password = "new-pass"
    container.vod.update_source("prov", {"password": "new-pass"})
    assert "new-pass" not in str(container.vod.source("prov").to_dict())
    assert "12 movies" in container.vod.test_source("prov")
