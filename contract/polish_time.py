"""Polish time: the zone the offices live in, in which reports show times, a time given without a zone is read,
and domain systems stamp their changes (`data_modyfikacji`, the deletions journal)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONE = "Europe/Warsaw"


def polish_zone() -> dt.tzinfo:
    """Polish time (UTC where the machine has no tz database: times stay unambiguous)."""
    try:
        return ZoneInfo(ZONE)
    except ZoneInfoNotFoundError:
        return dt.UTC


def _ambiguous(moment: dt.datetime, zone: dt.tzinfo) -> bool:
    """Whether a local time happens twice (PEP 495: its first occurrence is ahead of UTC by more)."""
    first, second = moment.replace(tzinfo=zone).utcoffset(), moment.replace(tzinfo=zone, fold=1).utcoffset()
    return first is not None and second is not None and first > second


def repeated_hour(moment: dt.datetime) -> dt.datetime | None:
    """For a local time without a zone that falls in the hour Polish clocks repeat when they go back (the last
    Sunday of October, 03:00 CEST -> 02:00 CET, so 02:00-02:59 happen twice): that hour's start; else None."""
    zone = polish_zone()
    if moment.tzinfo is not None or not _ambiguous(moment, zone):
        return None
    start = moment.replace(minute=0, second=0, microsecond=0)
    while _ambiguous(start - dt.timedelta(hours=1), zone):
        start -= dt.timedelta(hours=1)
    return start
