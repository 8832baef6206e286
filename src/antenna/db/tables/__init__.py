"""ORM tables, one module per area; importing this package registers them all on Base.metadata."""

from antenna.db.tables.core import AppSecret, JobItemFailureRow, JobRow, ScheduleRow
from antenna.db.tables.iptv import IptvOverrideRow, IptvSourceRow
from antenna.db.tables.plex import MqttRow, PlexEventRow, PlexServerRow, WebhookRow
from antenna.db.tables.podcasts import EpisodeRow, PodcastRow
from antenna.db.tables.vod import VodFileRow, VodRunRow, VodSeriesRow, VodSourceRow, VodStreamRow

__all__ = [
    "AppSecret",
    "EpisodeRow",
    "IptvOverrideRow",
    "IptvSourceRow",
    "JobItemFailureRow",
    "JobRow",
    "MqttRow",
    "PlexEventRow",
    "PlexServerRow",
    "PodcastRow",
    "ScheduleRow",
    "VodFileRow",
    "VodRunRow",
    "VodSeriesRow",
    "VodSourceRow",
    "VodStreamRow",
    "WebhookRow",
]
