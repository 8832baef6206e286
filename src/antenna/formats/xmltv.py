"""XMLTV guides: a streaming reader and writer (see xmltv_read, xmltv_stream, xmltv_time, xmltv_write)."""

from __future__ import annotations

from antenna.formats.xmltv_read import (
    MAX_WARNINGS,
    GuideError,
    ReadStats,
    read_programme_elements,
    read_xmltv,
)
from antenna.formats.xmltv_stream import open_stream
from antenna.formats.xmltv_time import parse_time, parse_time_warning
from antenna.formats.xmltv_write import XmltvWriter, format_time

__all__ = [
    "MAX_WARNINGS",
    "GuideError",
    "ReadStats",
    "XmltvWriter",
    "format_time",
    "open_stream",
    "parse_time",
    "parse_time_warning",
    "read_programme_elements",
    "read_xmltv",
]
