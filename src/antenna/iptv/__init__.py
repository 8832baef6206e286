"""IPTV: channel and guide sources, merge, Kodi M3U and Plex-correct XMLTV."""
