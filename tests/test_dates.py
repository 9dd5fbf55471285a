"""Tests for search.dates: every supported form, the "never invent" rule, and the real corpora."""

from __future__ import annotations

import gzip
import html
import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.dates import ParsedDate, find_date_in_text, parse_date, plausible

SHARED_DATA = Path(
    os.environ.get("NEWSEARCH_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


def day(*parts: int) -> ParsedDate:
    return ParsedDate(datetime(*parts), False)


def at(*parts: int) -> ParsedDate:
    return ParsedDate(datetime(*parts), True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO 8601
        ("2024-03-05", day(2024, 3, 5)),
        ("2024-03-05T14:30:00", at(2024, 3, 5, 14, 30)),
        ("2024-03-05 14:30", at(2024, 3, 5, 14, 30)),
        ("2024-03-05T14:30:00Z", at(2024, 3, 5, 14, 30)),
        ("2024-03-05T14:30:00.123456+01:00", at(2024, 3, 5, 13, 30, 0, 123456)),
        ("2024-03-05T14:30:00.5-0500", at(2024, 3, 5, 19, 30, 0, 500000)),
        ("2024-03-05T14:30:00,25+05:30", at(2024, 3, 5, 9, 0, 0, 250000)),
        ("2024-03-05T14:30:00.123456789Z", at(2024, 3, 5, 14, 30, 0, 123456)),
        # RFC 2822
        ("Tue, 05 Mar 2024 14:30:00 +0000", at(2024, 3, 5, 14, 30)),
        ("Tue, 05 Mar 2024 14:30:00 GMT", at(2024, 3, 5, 14, 30)),
        ("Tue, 5 Mar 2024 09:30:00 EST", at(2024, 3, 5, 14, 30)),
        ("Tue, 5 Mar 2024 07:30 PDT", at(2024, 3, 5, 14, 30)),
        ("Tue, 05 Mar 2024 14:30:00 +0000 (UTC)", at(2024, 3, 5, 14, 30)),
        ("5 Mar 2024 15:30:00 CET", at(2024, 3, 5, 14, 30)),
        # English month names
        ("March 2, 1987", day(1987, 3, 2)),
        ("Mar 2 1987", day(1987, 3, 2)),
        ("Sept. 30, 2024", day(2024, 9, 30)),
        ("2 March 1987", day(1987, 3, 2)),
        ("2nd March 1987", day(1987, 3, 2)),
        ("the 2nd of March 1987", day(1987, 3, 2)),
        ("Monday, March 2nd, 1987", day(1987, 3, 2)),
        ("MARCH 2, 1987", day(1987, 3, 2)),
        ("March 2, 1987 10:15", at(1987, 3, 2, 10, 15)),
        ("March 2, 1987 10:15 AM", at(1987, 3, 2, 10, 15)),
        ("March 2, 1987, 10:15 p.m.", at(1987, 3, 2, 22, 15)),
        ("March 2, 1987 at 12 am", at(1987, 3, 2, 0, 0)),
        ("March 2, 1987 12:05 PM", at(1987, 3, 2, 12, 5)),
        ("2 March 1987 10:15 AM EST", at(1987, 3, 2, 15, 15)),
        # German
        ("5. März 2024", day(2024, 3, 5)),
        ("5. Maerz 2024", day(2024, 3, 5)),
        ("5 MÄRZ 2024", day(2024, 3, 5)),
        ("1. Mai 2024", day(2024, 5, 1)),
        ("24. Dezember 2023", day(2023, 12, 24)),
        ("3. Okt. 1990", day(1990, 10, 3)),
        ("Dienstag, 5. März 2024, 14:30 Uhr", at(2024, 3, 5, 14, 30)),
        ("05.03.2024", day(2024, 3, 5)),
        ("05.03.2024 14:30", at(2024, 3, 5, 14, 30)),
        # French
        ("5 mars 2024", day(2024, 3, 5)),
        ("1er mars 2024", day(2024, 3, 1)),
        ("12 février 2024", day(2024, 2, 12)),
        ("12 fevrier 2024", day(2024, 2, 12)),
        ("15 août 2024", day(2024, 8, 15)),
        ("15 AOUT 2024", day(2024, 8, 15)),
        ("mardi 5 mars 2024", day(2024, 3, 5)),
        ("le 5 mars 2024 à 14h30", at(2024, 3, 5, 14, 30)),
        ("1er janvier 2016, 14h30", at(2016, 1, 1, 14, 30)),
        ("1er janvier 2017, 1 h 30 UTC+3", at(2016, 12, 31, 22, 30)),
        # Spanish
        ("5 de marzo de 2024", day(2024, 3, 5)),
        ("5 de marzo del 2024", day(2024, 3, 5)),
        ("1º de mayo de 2024", day(2024, 5, 1)),
        ("martes, 5 de marzo de 2024", day(2024, 3, 5)),
        ("miércoles 6 de septiembre de 2023", day(2023, 9, 6)),
        ("5 de marzo de 2024 a las 14:30", at(2024, 3, 5, 14, 30)),
        # Numeric
        ("2024/03/05", day(2024, 3, 5)),
        ("2024.03.05", day(2024, 3, 5)),
        ("15/3/2024", day(2024, 3, 15)),  # 3/15 would be month 15: only one reading
        ("3/15/2024", day(2024, 3, 15)),
        ("15-03-2024", day(2024, 3, 15)),
        ("5/5/2024", day(2024, 5, 5)),  # both readings are the same day
        # Reuters-21578 <DATE> values, copied from the .sgm files
        ("2-MAR-1987 10:15:00.00", at(1987, 3, 2, 10, 15)),
        (" 5-MAR-1987 09:22:11.55", at(1987, 3, 5, 9, 22, 11, 550000)),
        ("26-FEB-1987 15:01:01.79", at(1987, 2, 26, 15, 1, 1, 790000)),
        ("  3-MAR-1987 00:43:42.82", at(1987, 3, 3, 0, 43, 42, 820000)),
        ("3-MAR-1987  09:15:05.40", at(1987, 3, 3, 9, 15, 5, 400000)),
        (" 7-APR-1987 16:22:00.0", at(1987, 4, 7, 16, 22)),
        (" 9-APR-1987 13:32:06.7", at(1987, 4, 9, 13, 32, 6, 700000)),
        ("3-MAR-1987 09:18:21.26\x03 ", at(1987, 3, 3, 9, 18, 21, 260000)),
        ("27-MAR-1987 00:02:59.13&#5;&#5;&#5;RM", at(1987, 3, 27, 0, 2, 59, 130000)),
        ("27-MAR-1987 00:02:59.13\x05\x05\x05RM", at(1987, 3, 27, 0, 2, 59, 130000)),
        ("27-MAR-1987 00:03:35.68\t\t\tF", at(1987, 3, 27, 0, 3, 35, 680000)),
        (
            "9-APR-1987 00:00:00.00    # date added by S Finch as guesswork ",
            at(1987, 4, 9, 0, 0),
        ),
        # The hour is 605: the date is known, the time is not.
        ("31-MAR-1987 605:12:19.12", day(1987, 3, 31)),
        # Wikinews metadata
        ("2016-01-01", day(2016, 1, 1)),
    ],
)
def test_parse_date_forms(text: str, expected: ParsedDate) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "garbage",
        "today",
        "yesterday",
        "March 2",  # no year
        "2 March",
        "Mar 2nd",
        "March 1987",  # no day
        "Mar 1987",
        "mars 2024",
        "2024-03",
        "2024",
        "1987",
        "10:15",
        "5/3/2024",  # 5 March or May 3
        "03/04/2024",
        "13/13/2024",
        "2024-02-30",  # no such day
        "March 32, 1987",
        "31. Juni 2024",
        "2024-13-01",
        "0000-01-01",
        "2024-03-05T25:00",
        "2024-03-05T10:61",
        "March 2, 1987 13:00 PM",
        "March 2, 1987 10",  # a bare number is not a time
        "Tue, 05 Mar 2024 14:30:00 IST",  # an ambiguous zone: cannot be converted
        "Tue, 05 Mar 2024 14:30:00 +2500",
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
        "March 2, 87",  # a two-digit year would need a guessed century
        "2/3/87",
        "Smarch 2, 1987",
        "20240305",
        "x" * 1000,
    ],
)
def test_parse_date_never_invents(text: str | None) -> None:
    assert parse_date(text) is None


def test_timezone_converted_to_naive_utc() -> None:
    parsed = parse_date("2024-01-01T00:30:00+01:00")
    assert parsed == at(2023, 12, 31, 23, 30)
    assert parsed is not None and parsed.value.tzinfo is None
    assert parse_date("2024-03-05T14:30:00") == at(2024, 3, 5, 14, 30)  # no zone: as written
    assert parse_date("2024-03-05T14:30:00-00:00") == at(2024, 3, 5, 14, 30)
    assert parse_date("2024-03-05 14:30 UTC") == at(2024, 3, 5, 14, 30)
    assert parse_date("2024-03-05 14:30 GMT-5") == at(2024, 3, 5, 19, 30)
    assert parse_date("5 March 2024 14:30 MESZ") == at(2024, 3, 5, 12, 30)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Date: March 4, 2024\n\nText.", day(2024, 3, 4)),
        ("Headline\nDate: 2024-03-04T10:00:00Z\nText.", at(2024, 3, 4, 10, 0)),
        ("Published: Tue, 05 Mar 2024 14:30:00 +0100", at(2024, 3, 5, 13, 30)),
        ("Datum: 05.03.2024\nText", day(2024, 3, 5)),
        ("Fecha: 5 de marzo de 2024", day(2024, 3, 5)),
        ("Date: March 4, 2024 | By Jane Doe", day(2024, 3, 4)),
        ("Updated: March 5, 2024\nPublished: March 4, 2024\nText", day(2024, 3, 4)),
        ("Updated: March 5, 2024\nText with no date", day(2024, 3, 5)),
        ("LISBON, March 4, 2024 — The government fell.", day(2024, 3, 4)),
        ("WASHINGTON (Reuters) March 4, 2024 - Stocks rose.", day(2024, 3, 4)),
        ("BERLIN, 5. März 2024 \u2013 Die Regierung", day(2024, 3, 5)),
        ("NEW YORK, Tuesday, March 5, 2024 - Text", day(2024, 3, 5)),
        ("Rio de Janeiro, 5 de marzo de 2024 - Texto", day(2024, 3, 5)),
        ("Headline\n\nTuesday, September 1, 2015\nBody text.", day(2015, 9, 1)),
        ("Titre\n\n1er janvier 2016, 14h30 . \u2013\nUn homme", at(2016, 1, 1, 14, 30)),
        ("Titre\n\n12 octobre 2016 . \u2013 L'assemblée nationale", day(2016, 10, 12)),
        (
            "Titre\nPage actualisée : 13 octobre 2016 — « Suite »\n12 octobre 2016 . \u2013",
            day(2016, 10, 12),
        ),
    ],
)
def test_find_date_in_text(body: str, expected: ParsedDate) -> None:
    assert find_date_in_text(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "No date at all here.\nNor here.",
        "LISBON, March 4 (Reuters) - No year in this dateline.",
        "Date: March 4\nText",
        "Date: March 2024\nText",
        "The war began on March 4, 2003, when troops crossed the border.",
        "One\nTwo\nThree\nMarch 4, 2024\n",  # past the first three lines
        "x" * 400 + "\nMarch 4, 2024",  # past the first 400 characters
    ],
)
def test_find_date_in_text_none(body: str) -> None:
    assert find_date_in_text(body) is None


def test_plausible() -> None:
    today = date(2024, 3, 5)
    assert plausible(day(2024, 3, 5), today)
    assert plausible(at(2024, 3, 6, 23, 59), today)  # one day of slack for time zones
    assert not plausible(day(2024, 3, 7), today)
    assert plausible(day(1800, 1, 1), today)
    assert not plausible(day(1799, 12, 31), today)
    assert plausible(day(1987, 3, 2))
    assert not plausible(day(9999, 1, 1))


_PIECES = (
    "2024 1987 03 5 31 12 - / . , : T Z +01:00 March Mar mars März de 1er 2nd",
    "10:15 AM pm EST UTC+3 h Tue -MAR- \x03 &#5; ( )",
)
_DATE_PIECES = st.sampled_from([" ", *(piece for text in _PIECES for piece in text.split())])


@given(st.text() | st.lists(_DATE_PIECES | st.text(max_size=3), max_size=12).map("".join))
def test_parse_date_never_raises_and_takes_the_year_from_the_input(text: str) -> None:
    parsed = parse_date(text)
    if parsed is not None:
        year = parsed.value.year  # converting a zone to UTC can move it by one
        assert any(f"{y:04d}" in text for y in (year - 1, year, year + 1))
    find_date_in_text(text)


# --- the real corpora --------------------------------------------------------------------------


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        reason = f"shared data {path} is absent (set NEWSEARCH_SHARED_DATA to its directory)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def test_every_reuters_date_parses() -> None:
    values = [
        value
        for path in sorted(shared_data("reuters21578").glob("reut2-*.sgm"))
        for value in re.findall(r"<DATE>(.*?)</DATE>", path.read_text(encoding="latin-1"))
    ]
    assert len(values) == 21578
    parsed = {value: parse_date(value) for value in values}
    assert all(p is not None and p.value.year == 1987 for p in parsed.values())
    # The one value without a usable time: its hour is written "605".
    assert [v for v, p in parsed.items() if p and not p.has_time] == ["31-MAR-1987 605:12:19.12"]
    strict = re.compile(r"\s*(\d{1,2}-[A-Z]{3}-\d{4}) +(\d\d:\d\d:\d\d\.\d+)")
    for value, result in parsed.items():
        match = strict.match(value)
        if match:  # the same value as strptime reads from the clean prefix
            expected = datetime.strptime(f"{match[1]} {match[2]}", "%d-%b-%Y %H:%M:%S.%f")
            assert result == ParsedDate(expected, True), value
        assert parse_date(html.unescape(value)) == result, value  # &#5; as a control character


def wikinews(lang: str) -> list[dict[str, str]]:
    path = shared_data("wikinews", f"wikinews-{lang}.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.parametrize(("lang", "count"), [("en", 43), ("fr", 1191)])
def test_every_wikinews_date_parses(lang: str, count: int) -> None:
    articles = wikinews(lang)
    assert len(articles) == count
    for article in articles:
        for field in ("date", "date_modified"):
            if field in article:
                expected = ParsedDate(datetime.fromisoformat(article[field]), False)
                assert parse_date(article[field]) == expected, article[field]


@pytest.mark.parametrize(("lang", "min_found"), [("en", 35), ("fr", 1100)])
def test_wikinews_datelines_agree_with_metadata(lang: str, min_found: int) -> None:
    found = [(a["date"], find_date_in_text(a["text"])) for a in wikinews(lang)]
    found = [(meta, p) for meta, p in found if p is not None]
    assert len(found) >= min_found
    agree = sum(p.value.date().isoformat() == meta for meta, p in found)
    # A few datelines differ from the metadata in the data itself (e.g. a later day).
    assert agree >= 0.9 * len(found)
