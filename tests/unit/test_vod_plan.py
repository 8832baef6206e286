"""The VOD tree: names, NFOs, the diff against the manifest, cleanup verdicts, path safety for any title."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.fs.names import MAX_NAME_BYTES, sanitize_name
from antenna.fs.root import LibraryRoot
from antenna.vod.export import Exporter, Job, Row
from antenna.vod.models import Cleanup, Episode, IdStyle, Movie, Naming, Series, VodFilter
from antenna.vod.plan import (
    UrlFor,
    all_files,
    cleanup_decision,
    keep,
    movie_chunks,
    series_files,
    series_folders,
)


def url(kind: str) -> UrlFor:
    return lambda stream_id, ext: f"http://antenna/vod/{kind}/{stream_id}"


MOVIES = [
    Movie(
        "12",
        "|FR| Le Film",
        2001,
        "mkv",
        tmdb="603",
        imdb="tt0133093",
        plot="Plot & more",
        genre="Drama, War",
    ),
    Movie("7", "Plain", None, "mp4"),
    Movie("30", "Twin", 1999, tmdb=""),
    Movie("31", "twin", 1999, tmdb=""),  # same name but for case: distinct folder, by provider id
]
SHOW = Series(
    "5",
    "4K-A+ The Show",
    2010,
    tmdb="1399",
    episodes=(
        Episode("501", 0, 1, "Pilot Special"),
        Episode("502", 1, 1, "Winter Is Coming", aired="2011-04-17"),
        Episode("503", 1, 2, ""),
    ),
)


def tree(naming: Naming | None = None, movies: list[Movie] | None = None) -> dict[str, bytes]:
    files = all_files(
        MOVIES if movies is None else movies,
        [SHOW],
        naming or Naming(),
        url("movie"),
        url("episode"),
    )
    return {f.path: f.data for f in files}


def test_golden_tree_with_plex_ids() -> None:
    assert sorted(tree()) == [
        "Movies/Le Film (2001) {tmdb-603}/Le Film (2001) {tmdb-603}.nfo",
        "Movies/Le Film (2001) {tmdb-603}/Le Film (2001) {tmdb-603}.strm",
        "Movies/Plain/Plain.nfo",
        "Movies/Plain/Plain.strm",
        "Movies/Twin (1999)/Twin (1999).nfo",
        "Movies/Twin (1999)/Twin (1999).strm",
        "Movies/twin (1999) [31]/twin (1999) [31].nfo",
        "Movies/twin (1999) [31]/twin (1999) [31].strm",
        "TV/The Show (2010) {tmdb-1399}/Season 00 (Specials)/The Show - S00E01 - Pilot Special.nfo",
        "TV/The Show (2010) {tmdb-1399}/Season 00 (Specials)/The Show - S00E01 - Pilot Special.strm",
        "TV/The Show (2010) {tmdb-1399}/Season 00 (Specials)/season.nfo",
        "TV/The Show (2010) {tmdb-1399}/Season 01/The Show - S01E01 - Winter Is Coming.nfo",
        "TV/The Show (2010) {tmdb-1399}/Season 01/The Show - S01E01 - Winter Is Coming.strm",
        "TV/The Show (2010) {tmdb-1399}/Season 01/The Show - S01E02.nfo",
        "TV/The Show (2010) {tmdb-1399}/Season 01/The Show - S01E02.strm",
        "TV/The Show (2010) {tmdb-1399}/Season 01/season.nfo",
        "TV/The Show (2010) {tmdb-1399}/tvshow.nfo",
    ]
    files = tree()
    assert files["Movies/Plain/Plain.strm"] == b"http://antenna/vod/movie/7\n"
    movie = etree.fromstring(files["Movies/Le Film (2001) {tmdb-603}/Le Film (2001) {tmdb-603}.nfo"])
    assert movie.findtext("title") == "Le Film"
    assert movie.findtext("plot") == "Plot & more"
    assert [g.text for g in movie.findall("genre")] == ["Drama", "War"]
    ids = {u.get("type"): (u.text, u.get("default")) for u in movie.findall("uniqueid")}
    assert ids == {"tmdb": ("603", "true"), "imdb": ("tt0133093", None)}
    episode = etree.fromstring(
        files["TV/The Show (2010) {tmdb-1399}/Season 01/The Show - S01E01 - Winter Is Coming.nfo"]
    )
    assert (episode.findtext("season"), episode.findtext("episode"), episode.findtext("aired")) == (
        "1",
        "1",
        "2011-04-17",
    )
    show = etree.fromstring(files["TV/The Show (2010) {tmdb-1399}/tvshow.nfo"])
    assert show.find("uniqueid").get("type") == "tmdb"


def test_id_styles() -> None:
    jellyfin = tree(Naming(id_style=IdStyle.JELLYFIN))
    assert "Movies/Le Film (2001) [tmdbid-603]/Le Film (2001) [tmdbid-603].strm" in jellyfin
    none = tree(Naming(id_style=IdStyle.NONE))
    assert "Movies/Le Film (2001)/Le Film (2001).strm" in none
    nfo = etree.fromstring(none["Movies/Le Film (2001)/Le Film (2001).nfo"])
    assert nfo.find("uniqueid").text == "603"  # the id is in the NFO whatever the folder says


def test_names_are_stable_whatever_the_order() -> None:
    assert tree(movies=list(reversed(MOVIES))) == tree()


class MemoryStore:
    """The manifest in a dict, for the exporter."""

    def __init__(self) -> None:
        self.rows_: dict[str, tuple[str, str, str, str]] = {}

    def known(self, items: Sequence[str], paths: Sequence[str]) -> Mapping[str, tuple[str, str, str, str]]:
        wanted = set(items)
        return {p: r for p, r in self.rows_.items() if r[1] in wanted or p in paths}

    def change(self, put: Sequence[Row], drop: Sequence[str]) -> None:
        for path in drop:
            self.rows_.pop(path, None)
        for path, digest, item, role, series in put:
            self.rows_[path] = (digest, item, role, series)

    def rows(self) -> Iterator[Row]:
        return iter([(p, *r) for p, r in list(self.rows_.items())])

    def any(self) -> bool:
        return bool(self.rows_)


def export(
    root: Path, store: MemoryStore, movies: list[Movie], series: list[Series], cleanup: Cleanup
) -> dict[str, int]:
    job = Job(LibraryRoot(root), url("movie"), url("episode"), cleanup=cleanup, threshold=1.0)
    exporter = Exporter(job, store, io.StringIO())
    for chunk in movie_chunks(movies, Naming(), job.movie_url, size=2):
        exporter.add(chunk)
    folders = series_folders(series, Naming())
    for show in series:
        exporter.add(series_files(show, Naming(), job.episode_url, folders[show.series_id]))
    counts = exporter.finish((), complete=True).counts
    exporter.close()
    return counts


def test_a_second_run_changes_nothing_and_an_edit_touches_only_its_item(tmp_path: Path) -> None:
    store = MemoryStore()
    first = export(tmp_path, store, MOVIES, [SHOW], Cleanup.APPLY)
    assert first == {"created": len(tree())}
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()} == set(tree())
    assert export(tmp_path, store, MOVIES, [SHOW], Cleanup.APPLY) == {"unchanged": len(tree())}
    edited = [Movie("7", "Plain Renamed", None), *[m for m in MOVIES if m.stream_id != "7"]]
    gone = Series(SHOW.series_id, SHOW.title, SHOW.year, tmdb=SHOW.tmdb, episodes=SHOW.episodes[1:])
    counts = export(tmp_path, store, edited, [gone], Cleanup.APPLY)
    assert counts == {"renamed": 2, "unchanged": len(tree()) - 2 - 3, "deleted": 3}  # the special's 3 files
    assert (
        tmp_path / "Movies/Plain Renamed/Plain Renamed.strm"
    ).read_bytes() == b"http://antenna/vod/movie/7\n"
    assert not (tmp_path / "Movies/Plain").exists()  # moved, and the emptied folder went
    assert not (tmp_path / "TV/The Show (2010) {tmdb-1399}/Season 00 (Specials)").exists()


def test_cleanup_verdicts() -> None:
    assert not cleanup_decision(Cleanup.OFF, 5, 100, complete=True, threshold=0.2, force=False).remove
    preview = cleanup_decision(Cleanup.PREVIEW, 5, 100, complete=True, threshold=0.2, force=False)
    assert (preview.remove, preview.reason) == (False, "preview: 5 files would be removed")
    assert cleanup_decision(Cleanup.APPLY, 5, 100, complete=True, threshold=0.2, force=False).remove
    partial = cleanup_decision(Cleanup.APPLY, 5, 100, complete=False, threshold=0.2, force=False)
    assert not partial.remove
    assert "not fetched completely" in partial.reason
    many = cleanup_decision(Cleanup.APPLY, 30, 100, complete=True, threshold=0.2, force=False)
    assert not many.remove
    assert "30 of 100 files (30%)" in many.reason
    assert cleanup_decision(Cleanup.APPLY, 30, 100, complete=True, threshold=0.2, force=True).remove


def test_filters() -> None:
    rules = VodFilter(include_categories=("Action",), year_min=2000, title_regex="^the")
    assert keep("The One", 2001, "3", "Action", rules)
    assert not keep("The One", 1999, "3", "Action", rules)
    assert not keep("One", 2001, "3", "Action", rules)
    assert not keep("The One", 2001, "4", "Drama", rules)
    assert keep("X", None, "4", "Drama", VodFilter(exclude_categories=("3",)))
    assert not keep("X", None, "3", "Drama", VodFilter(exclude_categories=("3",)))


TITLES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["..", ".", "CON", "a/b\\c", "/etc/passwd", "../../x", "x" * 400, "é" * 300, " ", "\x00"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(movie_title=TITLES, series_title=TITLES, episode_title=TITLES, style=st.sampled_from(list(IdStyle)))
def test_no_title_escapes_the_root_or_splits_an_episode_from_its_nfo(
    movie_title: str, series_title: str, episode_title: str, style: IdStyle
) -> None:
    movie = Movie("1", movie_title, 2000, tmdb="9")
    show = Series(
        "2", series_title, None, episodes=(Episode("3", 1, 2, episode_title), Episode("4", 0, 1, ""))
    )
    naming = Naming(id_style=style)
    files = list(all_files([movie], [show], naming, url("movie"), url("episode")))
    root = LibraryRoot(Path("/nonexistent/vod-root"))
    bases: dict[tuple[str, str], set[str]] = {}
    for file in files:
        parts = file.path.split("/")
        assert all(part and part not in (".", "..") and sanitize_name(part) == part for part in parts)
        assert all(len(part.encode()) <= MAX_NAME_BYTES for part in parts)
        root.resolve(file.path)  # raises when it would leave the root
        if file.role in ("strm", "nfo"):
            folder, name = file.path.rsplit("/", 1)
            bases.setdefault((file.item, folder), set()).add(name.rsplit(".", 1)[0])
    assert all(len(names) == 1 for names in bases.values())  # .strm and .nfo share one base name
