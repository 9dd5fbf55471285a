"""Coverage over time: how many matching articles fall in each day, week, month or year.

Counted from the per-generation docnum -> day array (search.facets), so a series over a
whole result set is one array operation and no stored-field reads.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from search.docset import distinct_counts

BUCKETS = ("day", "week", "month", "year")
# The widest span (in days) each bucket is used for: enough bars to show a shape, few
# enough (at most about 60) to stay readable on a phone.
MAX_SPAN_DAYS = {"day": 45, "week": 26 * 7, "month": 5 * 366}


def choose_bucket(first: date, last: date) -> str:
    span = (last - first).days
    for bucket in ("day", "week", "month"):
        if span <= MAX_SPAN_DAYS[bucket]:
            return bucket
    return "year"


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":  # ISO weeks start on Monday
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    if bucket == "year":
        return day.replace(month=1, day=1)
    return day


_DAY_ONE = np.datetime64("0001-01-01", "D")  # ordinal 1, a Monday


def bucket_starts(ordinals: np.ndarray, bucket: str) -> np.ndarray:
    """``bucket_start`` of each day ordinal, as ordinals, in one array operation."""
    if bucket == "day":
        return ordinals
    if bucket == "week":
        return ordinals - (ordinals - 1) % 7
    days = _DAY_ONE + (ordinals - 1).astype("timedelta64[D]")
    unit = "M" if bucket == "month" else "Y"
    return (days.astype(f"datetime64[{unit}]").astype("datetime64[D]") - _DAY_ONE).astype(
        np.int64
    ) + 1


def next_start(start: date, bucket: str) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    if bucket == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def bucket_label(start: date, bucket: str) -> str:
    if bucket == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if bucket == "month":
        return start.strftime("%Y-%m")
    if bucket == "year":
        return str(start.year)
    return start.isoformat()


def coverage(days: np.ndarray) -> dict[str, Any]:
    """``{"bucket", "from", "to", "dated", "undated", "series": [{"start", "end", "label",
    "count"}]}`` of the matches whose day ordinals are ``days`` (-1: undated): every
    bucket from the first match's to the last one's, empty ones included, so that gaps
    in coverage show as gaps."""
    dated = days[days >= 0]
    undated = len(days) - len(dated)
    if not len(dated):
        return {
            "bucket": None,
            "from": None,
            "to": None,
            "dated": 0,
            "undated": undated,
            "series": [],
        }
    first, last = date.fromordinal(int(dated.min())), date.fromordinal(int(dated.max()))
    bucket = choose_bucket(first, last)
    starts, per_bucket = distinct_counts(bucket_starts(dated, bucket))
    counts = {
        date.fromordinal(start): count
        for start, count in zip(starts.tolist(), per_bucket.tolist(), strict=True)
    }
    series = []
    start = bucket_start(first, bucket)
    while start <= last:
        following = next_start(start, bucket)
        series.append(
            {
                "start": start.isoformat(),
                "end": (following - timedelta(days=1)).isoformat(),
                "label": bucket_label(start, bucket),
                "count": counts.get(start, 0),
            }
        )
        start = following
    return {
        "bucket": bucket,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "dated": len(dated),
        "undated": undated,
        "series": series,
    }
