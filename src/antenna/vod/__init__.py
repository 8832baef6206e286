"""VOD: an IPTV provider's movies and series as a .strm + NFO tree for Jellyfin, Emby and Kodi."""
