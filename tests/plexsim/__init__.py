"""A fake Plex Media Server and fake Plex player on loopback, for tests."""

from tests.plexsim.player import FakePlayer
from tests.plexsim.server import PlexSim
from tests.plexsim.state import Command

__all__ = ["Command", "FakePlayer", "PlexSim"]
