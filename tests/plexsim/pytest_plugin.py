"""Pytest fixtures: a seeded, started PlexSim (`plexsim`) and a started FakePlayer (`fake_player`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plexsim import FakePlayer, PlexSim

EPISODES = ("Pilot", "Graveyard", "Daybreak")


def seed(sim: PlexSim) -> PlexSim:
    """Seed accounts owner/alice, a "TV Shows" section with Night Shift S01E01-03, and a "Movies" section."""
    sim.add_account(1, "owner")
    sim.add_account(2, "alice")
    tv = sim.add_section("TV Shows", "show", "/srv/tv")
    show = sim.add_show(tv, "Night Shift", 2021, "Nurses on the late shift.")
    for n, title in enumerate(EPISODES, start=1):
        path = f"/srv/tv/Night Shift/Season 01/Night Shift - S01E{n:02d} - {title}.mkv"
        sim.add_episode(show, 1, n, title, path, summary=f"Episode {n}.")
    movies = sim.add_section(
        "Movies", "movie", "/srv/movies", agent="tv.plex.agents.none", scanner="Plex Movie"
    )
    sim.add_movie(movies, "Arrival Day", 2019, "/srv/movies/Arrival Day (2019)/Arrival Day (2019).mkv")
    return sim


@pytest.fixture
def plexsim() -> Iterator[PlexSim]:
    """A started, seeded fake Plex server (section 1 "TV Shows": show 1, season 2, episodes 3-5; movie 6)."""
    sim = seed(PlexSim()).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def fake_player() -> Iterator[FakePlayer]:
    """A started fake Plex player."""
    player = FakePlayer().start()
    try:
        yield player
    finally:
        player.stop()
