"""Dates from article metadata and from the top of an article's body.

Only dates that are written out in full are returned: a year, a month and a day must all be
present in the text. Nothing is ever filled in (no file times, no "today", no default year), so
"March 2" and "March 1987" give ``None``. Times are kept when they are given; a time with a zone
is converted to UTC and the zone dropped, a time without one is kept as written.

Forms read: ISO 8601 (``2024-03-05``, ``2024-03-05T14:30:00.5+01:00``, a space for the ``T``),
RFC 2822 (``Tue, 05 Mar 2024 14:30:00 +0000``, also ``GMT``/``EST``...), month names in English,
German, French and Spanish (``March 2, 1987``, ``2nd March 1987``, ``5. März 2024``,
``1er mars 2024``, ``5 de marzo de 2024``), numeric ``2024/03/05``, ``05.03.2024`` (day first)
and ``03/15/2024`` (only when one reading of day and month is impossible), and the Reuters-21578
``2-MAR-1987 10:15:00.00`` with its odd spacing and trailing junk.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = ["ParsedDate", "find_date_in_text", "parse_date", "plausible"]


@dataclass(frozen=True)
class ParsedDate:
    """A date read from text, with or without its time of day."""

    value: datetime  # naive UTC if a zone was given; naive as written otherwise
    has_time: bool  # False when only the date is known (value at 00:00)


_MONTH_NAMES = {
    1: "january jan januar janner janvier janv enero ene",
    2: "february feb februar fevrier fevr fev febrero",
    3: "march mar marz maerz mrz mars marzo",
    4: "april apr avril avr abril abr",
    5: "may mai mayo",
    6: "june jun juni juin junio",
    7: "july jul juli juillet juil julio",
    8: "august aug aout agosto ago",
    9: "september sept sep septembre septiembre setiembre set",
    10: "october oct oktober okt octobre octubre",
    11: "november nov novembre noviembre",
    12: "december dec dezember dez decembre diciembre dic",
}
_MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}
_WEEKDAY_NAMES = (
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri",
    "sat sun montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag",
    "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "lunes martes miercoles jueves viernes sabado domingo",
)
_WEEKDAYS = [name for names in _WEEKDAY_NAMES for name in names.split()]
# Zones with one meaning (RFC 2822's US zones and common European ones); IST, AST... are not.
_ZONE_NAMES = {  # minutes east of UTC
    0: "z ut utc gmt wet",
    60: "west bst cet mez",
    120: "cest mesz eet",
    180: "eest msk",
    540: "jst",
    -240: "edt",
    -300: "est cdt",
    -360: "cst mdt",
    -420: "mst pdt",
    -480: "pst",
}
_ZONES = {name: minutes for minutes, names in _ZONE_NAMES.items() for name in names.split()}


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_MON = rf"(?P<mon>{_alternation(_MONTHS)})\.?(?![a-z])"
_WEEKDAY = rf"(?:(?:{_alternation(_WEEKDAYS)})\.?,?\s?)?(?:(?:le|el|den|the)\s)?"
_TIME = r"""
    (?P<hour>\d{1,2})
    (?: :(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
          (?:\s?(?P<ampm>[ap])\.?\s?m\b\.?)?
      | \s?h(?:\s?(?P<hminute>\d{2}))?(?![a-z0-9])
      | \s?(?P<ampm2>[ap])\.?\s?m\b\.?
    )
    (?:\s?uhr\b)?"""
_ZONE = rf"""
    (?:\s?\(?(?P<zone>
          [+-]\d{{2}}:?\d{{2}} | [+-]\d{{2}}(?!\d)
        | (?:utc|gmt)\s?[+-]\s?\d{{1,2}}(?::?\d{{2}})?
        | {_alternation(_ZONES)}
    )\)?(?![a-z0-9]) (?:\s?\([^()]*\))? )?"""
# The time after a date written with words or numbers: "March 2, 1987, at 10:15 AM EST".
_TEXT_TIME = rf"(?:(?:\s?,\s?|\s)(?:(?:at|um|a\slas|a|-)\s)?{_TIME}{_ZONE})?"
_YEAR = r"(?P<year>\d{4})(?!\d)"

_FLAGS = re.IGNORECASE | re.ASCII | re.VERBOSE
_FORMS = [
    re.compile(pattern, _FLAGS)
    for pattern in (
        # ISO 8601 and the like: 2024-03-05, 2024-03-05T14:30:00Z, 2024/03/05 14:30
        rf"(?<![\w.+-])(?P<year>\d{{4}})(?P<sep>[-/.])(?P<month>\d{{1,2}})(?P=sep)(?P<day>\d{{1,2}})"
        rf"(?!\d)(?:(?:t|\s)(?:{_TIME}){_ZONE})?",
        # Day, month name, year: 2 March 1987, 5. März 2024, 5 de marzo de 2024, 2-MAR-1987
        rf"(?<!\w){_WEEKDAY}(?P<day>\d{{1,2}})(?:st|nd|rd|th|er)?(?!\d)\.?\u00ba?"
        rf"(?:\s?(?:de|of)\s|[\s-]*){_MON}(?:,?\s?del?\s|[\s,-]*){_YEAR}{_TEXT_TIME}",
        # Month name, day, year: March 2, 1987; Tue, Mar 2nd 1987
        rf"(?<!\w){_WEEKDAY}{_MON}\s?(?P<day>\d{{1,2}})(?!\d)(?:st|nd|rd|th)?(?:,\s?|\s)"
        rf"{_YEAR}{_TEXT_TIME}",
        # Numeric, year last: 05.03.2024 (day first), 03/15/2024 or 15-03-2024 (if unambiguous)
        rf"(?<![\w.+-])(?P<first>\d{{1,2}})(?P<sep>[/.-])(?P<second_>\d{{1,2}})(?P=sep){_YEAR}"
        rf"{_TEXT_TIME}",
    )
]
# Reuters-21578 <DATE>: read up to the time; what follows ("\t\t\tRM", "&#5;F", "# note") is junk.
_REUTERS = re.compile(
    r"(?P<day>\d{1,2})-(?P<mon>[a-z]{3})-(?P<year>\d{4})(?!\d)"
    r"(?:\s(?P<hour>\d{1,2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d{1,2}))?"
    r"(?![\d:.]))?",
    re.IGNORECASE | re.ASCII,
)
_SPACES = re.compile(r"\s+")
_LABEL = re.compile(
    r"(?P<label>date|dated|published|posted|updated|last updated|datum|stand|veroffentlicht"
    r"|aktualisiert|fecha|publicado|actualizado|publiee?(?: le)?|mis a jour(?: le)?"
    r"|(?:page )?actualisee?)"
    r"(?:\s?:|(?<= le))\s?(?P<value>.+)",
    re.IGNORECASE,
)
_UPDATED = re.compile(r"updated|stand|aktualisiert|actualizado|mis a jour|actualise", re.IGNORECASE)
_AGENCY = re.compile(r"\([^()]{1,40}\)")
_WEEKDAY_FIRST = re.compile(rf"(?:{_alternation(_WEEKDAYS)})(?![a-z])", re.IGNORECASE)
_PLACE_AFTER = re.compile(
    r",\s?(?P<place>[^.|\u2013\u2014\u2015-]{1,60}?)\s?\.?\s?[-\u2013\u2014\u2015|]"
)
_DATELINE_END = re.compile(r"\s?(?:[.,]\s?)?(?:[-\u2013\u2014\u2015:/|(]|$)")


def _normalize(text: str) -> str:
    """Accents dropped (März -> Marz), runs of whitespace made one space, ends stripped."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", text).strip()


def _day_month(match: re.Match[str]) -> tuple[int, int] | None:
    groups = match.groupdict()
    if groups.get("mon"):
        month = _MONTHS.get(groups["mon"].lower())
        return (int(groups["day"]), month) if month else None
    if groups.get("first") is None:
        return int(groups["day"]), int(groups["month"])
    first, second = int(groups["first"]), int(groups["second_"])
    if groups["sep"] == ".":  # 05.03.2024: the German, day-first convention
        return first, second
    readings = {(d, m) for d, m in ((first, second), (second, first)) if 1 <= m <= 12}
    return readings.pop() if len(readings) == 1 else None  # 5/3/2024 could be either


def _zone_minutes(zone: str) -> int | None:
    zone = zone.lower().replace(" ", "")
    if zone in _ZONES:
        return _ZONES[zone]
    digits = zone.lstrip("utcgm")
    sign = -1 if digits[0] == "-" else 1
    digits = digits[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return sign * (int(hours) * 60 + int(minutes))


def _from_match(match: re.Match[str]) -> ParsedDate | None:
    """The ParsedDate for a match of one of the forms, None if it names no real date and time."""
    day_month = _day_month(match)
    if day_month is None:
        return None
    groups = match.groupdict()
    try:
        value = datetime(int(groups["year"]), day_month[1], day_month[0])
    except ValueError:  # 31 February, month 13, year 0
        return None
    if groups.get("hour") is None:
        return ParsedDate(value, False)
    hour = int(groups["hour"])
    ampm = groups.get("ampm") or groups.get("ampm2")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
    minute = groups.get("minute") or groups.get("hminute") or "0"
    fraction = groups.get("fraction") or "0"
    try:
        value = value.replace(
            hour=hour,
            minute=int(minute),
            second=int(groups.get("second") or 0),
            microsecond=int(fraction[:6].ljust(6, "0")),
        )
        if groups.get("zone"):
            offset = _zone_minutes(groups["zone"])
            if offset is None:
                return None
            value -= timedelta(minutes=offset)
    except (ValueError, OverflowError):  # 25:00, 10:61, a shift past year 1 or 9999
        return None
    return ParsedDate(value, True)


def parse_date(text: str | None) -> ParsedDate | None:
    """Parse a date from a metadata value. None when it is not a complete date."""
    if not isinstance(text, str) or len(text) > 300:
        return None
    text = _normalize(text)
    for form in _FORMS:
        match = form.fullmatch(text)
        if match:
            return _from_match(match)
    match = _REUTERS.match(text)
    if match and _MONTHS.get(match["mon"].lower()):
        return _from_match(match)
    return None


def _first_date(text: str) -> tuple[re.Match[str], ParsedDate] | None:
    """The date that starts first in the text (the longest if several start there)."""
    found = [m for m in (form.search(text) for form in _FORMS) if m]
    for match in sorted(found, key=lambda m: (m.start(), -m.end())):
        parsed = _from_match(match)
        if parsed:
            return match, parsed
    return None


def _place_like(prefix: str) -> bool:
    """A dateline's place: "LISBON,", "WASHINGTON (Reuters)", "Rio de Janeiro,"."""
    words = [w for w in re.split(r"[\s,:]+", _AGENCY.sub(" ", prefix)) if w]
    return (
        len(prefix) <= 60
        and bool(words)
        and words[0][0].isupper()
        and all(w[0].isupper() or (w.islower() and len(w) <= 3) for w in words)
    )


def _dateline_date(line: str) -> ParsedDate | None:
    """The date of a dateline: a line that starts with a date, or with a place, a comma and a date.

    A place may follow the date too, as in French datelines ("12 mars 2016, Montpellier . –").

    The date must end the line or be followed by a dateline's separator (" - ", " . –", "|"...),
    unless it opens with a weekday ("Thursday, March 15, 2012 Wikinews interviewed..."): wire
    copy is hard-wrapped, so a sentence can put a date at the start of a line ("...notes due\n
    April 24, 1990 paying 15 pct"), and that date is not the article's.
    """
    found = _first_date(line)
    if found is None:
        return None
    match, parsed = found
    prefix = line[: match.start()].strip()
    rest = _PLACE_AFTER.match(line, match.end())  # "12 mars 2016, Montpellier . –"
    separated = bool(
        _DATELINE_END.match(line, match.end()) or (rest and _place_like(rest["place"]))
    )
    if not prefix:  # the line starts with the date
        return parsed if separated or _WEEKDAY_FIRST.match(match.group()) else None
    # "LISBON, March 4", "WASHINGTON (Reuters) March 4"; not "Year to December 31, 1986".
    if prefix.endswith((",", ")")) and _place_like(prefix) and separated:
        return parsed
    return None


def find_date_in_text(body: str) -> ParsedDate | None:
    """Find the article's date in its dateline or a 'Date:' line near the top of the body."""
    if not body:
        return None
    lines = [_normalize(line) for line in body[:400].splitlines()]
    updated = None
    for line in [line for line in lines if line][:3]:
        label = _LABEL.fullmatch(line)
        if label:
            value = label["value"]
            found = parse_date(value) or _dateline_date(value)
            if found and _UPDATED.search(label["label"]):
                updated = updated or found  # used only if no other date is given
                continue
        else:
            found = _dateline_date(line)
        if found:
            return found
    return updated


def plausible(parsed: ParsedDate, today: date | None = None) -> bool:
    """False for dates after today (+1 day of slack) or before 1800."""
    today = today or datetime.now(UTC).date()
    day = parsed.value.date()
    return day.year >= 1800 and day - today <= timedelta(days=1)
