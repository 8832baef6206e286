"""Pure IPTV merge: filters, numbering, guide mapping, priority fill, Plex programme rewriting, reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from antenna.formats.guide import EpisodeNum, GuideChannel, Programme
from antenna.formats.m3u import M3UEntry
from antenna.iptv import plan
from antenna.iptv.guide_merge import GuideMerger
from antenna.iptv.models import ChannelFilter, Override, SourceConfig, plex_safe_id

T0 = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


def entry(name: str, tvg_id: str = "", chno: str = "", group: str = "", logo: str = "") -> M3UEntry:
    attrs = [("tvg-id", tvg_id)] if tvg_id else []
    if chno:
        attrs.append(("tvg-chno", chno))
    if logo:
        attrs.append(("tvg-logo", logo))
    return M3UEntry(
        name=name, url=f"http://p/{name}.ts", attrs=tuple(attrs), groups=(group,) if group else ()
    )


SRC = SourceConfig(id=1, name="Prov", icon="http://p/icon.png", base_url="http://p/list.m3u")


def test_numbers_honour_presets_then_fill_without_clashes() -> None:
    entries = [entry("A", chno="2"), entry("B"), entry("C", chno="2"), entry("D", chno="1")]
    channels, dups, warnings = plan.merge_channels([(SRC, entries)], {})
    assert [(c.name, c.number) for c in channels] == [("D", "1"), ("A", "2"), ("B", "3"), ("C", "4")]
    assert dups == []
    assert "already taken" in warnings[0]


def test_group_start_numbers_and_defaults_from_source() -> None:
    source = SourceConfig(
        id=1, name="Prov", icon="logo.png", base_url="http://p/x/list.m3u", group_starts=(("Sports", 500),)
    )
    channels, _, _ = plan.merge_channels(
        [(source, [entry("S1", group="Sports"), entry("N1"), entry("S2", group="Sports")])], {}
    )
    by_name = {c.name: c for c in channels}
    assert by_name["S1"].number == "500"
    assert by_name["S2"].number == "501"
    assert by_name["N1"].number == "1"
    assert by_name["N1"].groups == ("Prov",)  # as IPTV Manager: the source name
    assert by_name["N1"].logo == "http://p/x/logo.png"  # made absolute


def test_filters_and_duplicates() -> None:
    source = SourceConfig(
        id=1, name="Prov", filter=ChannelFilter(exclude_groups=("Adult",), exclude_regex=r"\bTEST\b")
    )
    entries = [
        entry("One", "one"),
        entry("Two", "two", group="Adult"),
        entry("TEST feed"),
        entry("One again", "one"),
    ]
    channels, dups, _ = plan.merge_channels([(source, entries)], {})
    assert [c.name for c in channels] == ["One"]
    assert dups == ["Prov: one"]


def test_overrides_survive_and_win() -> None:
    overrides = {(1, "one"): Override(name="Uno", number="42", group="Fav", enabled=False)}
    channels, _, _ = plan.merge_channels([(SRC, [entry("One", "one")])], overrides)
    channel = channels[0]
    assert (channel.name, channel.number, channel.groups[0], channel.enabled) == ("Uno", "42", "Fav", False)


def test_guide_mapping_order_id_name_normalised_override() -> None:
    channels, _, _ = plan.merge_channels(
        [(SRC, [entry("BBC One HD", "bbc1.uk"), entry("ITV", ""), entry("Das Erste HD"), entry("Unknown")])],
        {},
    )
    guide = [
        GuideChannel("BBC1.UK", (("BBC One", "en"),)),
        GuideChannel("itv.uk", (("ITV", "en"),)),
        GuideChannel("daserste.de", (("Das Erste", "de"),)),
        GuideChannel("other", (("Other", ""),)),
    ]
    mapped = {
        c.name: c.guide_ids for c in plan.map_guide(channels, [(SourceConfig(id=9, name="G"), guide)], {})
    }
    assert mapped["BBC One HD"] == ((9, "BBC1.UK"),)
    assert mapped["ITV"] == ((9, "itv.uk"),)
    assert mapped["Das Erste HD"] == ((9, "daserste.de"),)
    assert mapped["Unknown"] == ()
    forced = plan.map_guide(
        channels, [(SourceConfig(id=9, name="G"), guide)], {(1, "Unknown"): Override(guide_id="other")}
    )
    assert next(c for c in forced if c.name == "Unknown").guide_ids == ((9, "other"),)


def prog(channel: str, start_h: float, hours: float, title: str = "Show", **kw: object) -> Programme:
    start = T0 + timedelta(hours=start_h)
    return Programme(
        channel=channel, start=start, stop=start + timedelta(hours=hours), titles=((title, ""),), **kw
    )  # type: ignore[arg-type]


def test_priority_fill_gaps_and_drop_overlaps() -> None:
    channels, _, _ = plan.merge_channels([(SRC, [entry("A", "a")])], {})
    high, low = SourceConfig(id=2, name="High", priority=1), SourceConfig(id=3, name="Low", priority=2)
    guides = [(high, [GuideChannel("a")]), (low, [GuideChannel("a")])]
    channels = plan.map_guide(channels, guides, {})
    merger = GuideMerger(channels, window_start=T0 - timedelta(hours=1), window_end=T0 + timedelta(days=1))
    first = list(merger.feed(2, [prog("a", 0, 1, "H1"), prog("a", 2, 1, "H2")]))
    second = list(
        merger.feed(3, [prog("a", 0.5, 1, "L overlap"), prog("a", 1, 1, "L gap"), prog("a", 3, 1, "L after")])
    )
    assert [p.title for p in first] == ["H1", "H2"]
    assert [p.title for p in second] == ["L gap", "L after"]
    assert all(p.channel == plex_safe_id("1") for p in first + second)
    assert merger.programmes == 4
    assert merger.coverage()[0].guide_hours == 4.0


def test_window_drops_old_and_far_programmes() -> None:
    channels = plan.map_guide(
        plan.merge_channels([(SRC, [entry("A", "a")])], {})[0],
        [(SourceConfig(id=2, name="G"), [GuideChannel("a")])],
        {},
    )
    merger = GuideMerger(channels, window_start=T0, window_end=T0 + timedelta(days=1))
    kept = list(merger.feed(2, [prog("a", -3, 1), prog("a", -0.5, 1), prog("a", 30, 1), prog("b", 1, 1)]))
    assert len(kept) == 1


def test_plex_programme_category_episode_and_lang() -> None:
    news = plan.plex_programme(prog("x", 0, 1, categories=(("Nachrichten", "de"),)), "C1.1.antenna")
    assert news.categories[0] == ("News", "en")
    assert news.episode_nums[-1].system == "original-air-date"
    assert news.titles == (("Show", "en"),)
    assert news.descs == (("Show", "en"),)  # Plex wants a desc on every programme
    movie = plan.plex_programme(prog("x", 0, 2, categories=(("Spielfilm", "de"),)), "C1.1.antenna")
    assert movie.categories[0][0] == "Movie"
    assert movie.episode_nums == ()
    series = plan.plex_programme(
        prog("x", 0, 1, episode_nums=(EpisodeNum("xmltv_ns", "0.1."),)), "C1.1.antenna"
    )
    assert series.categories[0][0] == "Series"
    assert series.episode_nums == (EpisodeNum("xmltv_ns", "0.1."),)


def test_plex_safe_ids_never_prefix_each_other() -> None:
    ids = [plex_safe_id(str(n)) for n in range(1, 200)]
    assert len(set(ids)) == len(ids)
    assert plex_safe_id("1") == "C1.1.antenna"
    assert not any(b.startswith(a) for a in ids for b in ids if a != b)


def test_guide_channel_display_names() -> None:
    channels, _, _ = plan.merge_channels([(SRC, [entry("News One", chno="101")])], {})
    names = [n for n, _ in plan.guide_channel(channels[0]).display_names]
    assert names == ["101 News One", "101", "News One"]


def test_report_changes() -> None:
    added, removed, renamed = plan.report_changes({"1:a": "A", "1:b": "B"}, {"1:a": "A2", "1:c": "C"})
    assert (added, removed, renamed) == (["C"], ["B"], [("A", "A2")])


@given(st.lists(st.one_of(st.just(""), st.integers(1, 30).map(str)), max_size=40))
def test_numbers_are_unique_whatever_the_presets(presets: list[str]) -> None:
    entries = [entry(f"ch{i}", chno=p) for i, p in enumerate(presets)]
    channels, _, _ = plan.merge_channels([(SRC, entries)], {})
    numbers = [c.number for c in channels]
    assert len(numbers) == len(set(numbers)) == len(entries)


@given(st.text(max_size=30))
def test_normalise_name_keeps_only_lowercase_letters_and_digits(name: str) -> None:
    assert all(c.isascii() and (c.isdigit() or c.islower()) for c in plan.normalise_name(name))


def test_channels_without_guide_get_placeholders() -> None:
    channels, _, _ = plan.merge_channels([(SRC, [entry("A", "a"), entry("B", "b")])], {})
    channels = plan.map_guide(channels, [(SourceConfig(id=2, name="G"), [GuideChannel("a")])], {})
    merger = GuideMerger(channels, window_start=T0, window_end=T0 + timedelta(hours=6))
    list(merger.feed(2, [prog("a", 0, 1)]))
    fillers = list(merger.placeholders())
    assert [p.channel for p in fillers] == [plex_safe_id("2")] * 3
    assert fillers[0].title == "B"
    assert fillers[0].episode_nums[0].system == "original-air-date"
