"""XMLTV times: "YYYYMMDDhhmmss ±hhmm" (or an initial substring, the zone optional) read into UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

# Digits (an initial substring of YYYYMMDDhhmmss) then an optional zone, with or without a space.
_TIME = re.compile(r"(\d{8,14})\s*(\S*)")
_NUMERIC_ZONE = re.compile(r"([+-])(\d\d):?(\d\d)")
_UTC_WORDS = frozenset({"UTC", "GMT", "Z", "+0000", "-0000"})


def _zone(text: str, tz: tzinfo) -> tuple[tzinfo | None, str]:
    """Return the zone a time suffix names and a warning for unusual spellings; None when unreadable."""
    if not text:
        return tz, ""
    if text in _UTC_WORDS:
        return UTC, ""
    m = _NUMERIC_ZONE.fullmatch(text)
    if m:
        hours, minutes = int(m[2]), int(m[3])
        if hours > 23 or minutes > 59:
            return None, ""
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if m[1] == "-" else 1)
        return timezone(offset), (f"zone {text!r} should be written ±hhmm" if ":" in text else "")
    if text.isalpha():
        # Abbreviations are ambiguous (CST is China, Cuba and US Central), so the configured zone wins.
        return tz, f"zone {text!r} is a name, not an offset; read in {tz}"
    return None, ""


def parse_time_warning(text: str, tz: tzinfo) -> tuple[datetime | None, str]:
    """Parse an XMLTV time into UTC; also return a warning ("" when none). None when unreadable."""
    m = _TIME.fullmatch(text.strip())
    if m is None or len(m[1]) % 2:
        return None, ""
    digits = m[1]
    zone, warning = _zone(m[2], tz)
    if zone is None:
        return None, ""
    try:
        local = datetime(
            int(digits[0:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10] or 0),
            int(digits[10:12] or 0),
            int(digits[12:14] or 0),
            tzinfo=zone,
        )
        # astimezone resolves DST gaps and folds of zoneinfo zones (fold=0: the earlier offset).
        return local.astimezone(UTC), warning
    except (ValueError, OverflowError):
        return None, ""


def parse_time(text: str, tz: tzinfo) -> datetime | None:
    """Parse "YYYYMMDDhhmmss ±hhmm" (or an initial substring, zone optional and read in tz) into UTC."""
    return parse_time_warning(text, tz)[0]
