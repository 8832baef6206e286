"""Plex: servers, library chores, live monitor, commands, art and events."""
