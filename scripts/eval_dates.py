"""Measure the project's date reading beside dateutil's parser, on the same strings in one run.

Usage: python scripts/eval_dates.py [--data DIR] [--json OUT] [--files 0,10,17]

Four parts, each scored for the project (``search.dates``) and for ``dateutil.parser.parse``:

reuters — every Reuters-21578 <DATE> value, as the importer passes it on (stripped; entity
  references such as ``&#5;`` and the trailing wire codes kept). The truth is a strict reading of
  the ``D-MON-YYYY HH:MM:SS.ff`` prefix, written here without the project's code: a regular
  expression and a month table. A value that it cannot read is listed with both answers.
  dateutil: ``parse(value)`` (``fuzzy=False``); an exception counts as failed.

wikinews_metadata — the ``date`` (and for en ``date_modified``) fields of the Wikinews files:
  ISO dates, to be read exactly as that day with no time.

datelines — the date in the top of each Wikinews text (``find_date_in_text``), against the
  article's metadata date. dateutil gets the same window the project reads (the first three
  non-empty lines of the first 400 characters) and answers with the first line it parses:
  ``fuzzy=False`` and, for comparison, ``fuzzy=True``.

never_invented — strings and texts with no complete date, where the only right answer is none:
  * partial dates made from every Wikinews metadata date by leaving a part out ("March 2",
    "2 March", "Tuesday, March 2", "March 2016", "2016") and Reuters-style ones made from the
    DATE values ("2-MAR", "MAR-1987", "2-MAR-87" whose century would be a guess);
  * the Reuters <DATELINE> elements ("NEW YORK, March 2 -"), which carry no year;
  * the Reuters bodies (wire text: the top has no date line, the date is in the metadata).
  An answer is *invented* when its year (four digits) or its day number is not written in the
  input. Dates found in Reuters bodies that are written there (a bond "due April 24, 1990") are
  counted apart as "not the article's": written, but not a dateline.

The data folder is ../shared/data beside the repository unless --data or $NEWSEARCH_SHARED_DATA
says otherwise. Only the local files are read.
"""

from __future__ import annotations

import argparse
import calendar
import gzip
import importlib.util
import json
import os
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from dateutil import parser as dateutil_parser
from dateutil.parser import UnknownTimezoneWarning

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a file: make the project importable without install
    sys.path.insert(0, str(REPO))

from search.dates import ParsedDate, find_date_in_text, parse_date  # noqa: E402

MONTHS = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
STRICT_REUTERS = re.compile(
    r"\s*(?P<day>\d{1,2})-(?P<mon>[A-Z]{3})-(?P<year>\d{4}) +"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})\.(?P<fraction>\d{1,2})(?!\d)"
)
DATELINE = re.compile(r"<DATELINE>(.*?)</DATELINE>", re.DOTALL)
WIKINEWS_LANGS = ("en", "fr")
DATELINE_WINDOW = 400  # the characters and...
DATELINE_LINES = 3  # ...non-empty lines that find_date_in_text reads

Answer = datetime | None  # what a system read (None: nothing, or an error)


def data_root(data: Path | None) -> Path:
    return data or Path(os.environ.get("NEWSEARCH_SHARED_DATA", REPO.parent / "shared" / "data"))


def load_importer() -> ModuleType:
    """scripts/import_reuters21578.py: the Reuters documents exactly as the project imports them."""
    path = REPO / "scripts" / "import_reuters21578.py"
    spec = importlib.util.spec_from_file_location("import_reuters21578", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reuters_files(root: Path, files: Sequence[int] | None = None) -> list[Path]:
    """The reut2-NNN.sgm files, all or those numbered in ``files``."""
    paths = load_importer().source_files(root / "reuters21578")
    return paths if files is None else [paths[number] for number in files]


def reuters_documents(root: Path, files: Sequence[int] | None = None) -> list[dict[str, Any]]:
    importer = load_importer()
    return [d for path in reuters_files(root, files) for d in importer.iter_documents(path)]


def reuters_datelines(root: Path, files: Sequence[int] | None = None) -> list[str]:
    """The <DATELINE> values ("    NEW YORK, March 2 - "), entities resolved and stripped."""
    importer = load_importer()
    return [
        importer.unescape(value).strip()
        for path in reuters_files(root, files)
        for value in DATELINE.findall(path.read_text(encoding="latin-1"))
    ]


def wikinews(root: Path, lang: str) -> list[dict[str, Any]]:
    with gzip.open(root / "wikinews" / f"wikinews-{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def strict_reuters(value: str) -> datetime | None:
    """The independent reading of a Reuters DATE value: its ``D-MON-YYYY HH:MM:SS.ff`` prefix."""
    match = STRICT_REUTERS.match(value)
    if not match or match["mon"] not in MONTHS:
        return None
    try:
        return datetime(
            int(match["year"]),
            MONTHS[match["mon"]],
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            int(match["fraction"].ljust(6, "0")),
        )
    except ValueError:
        return None


def project_value(text: str) -> Answer:
    parsed = parse_date(text)
    return parsed.value if parsed else None


def dateutil_value(text: str, fuzzy: bool = False) -> Answer:
    with warnings.catch_warnings():
        # It warns about every capitalised word it takes for a time zone ("US", "EDT"), and
        # answers all the same: the answer is what is scored.
        warnings.simplefilter("ignore", UnknownTimezoneWarning)
        try:
            return dateutil_parser.parse(text, fuzzy=fuzzy)
        except (ValueError, OverflowError):  # dateutil's ParserError is a ValueError
            return None


def dateutil_lines(text: str, fuzzy: bool) -> Answer:
    """dateutil over the lines the project reads for a dateline: the first one it parses."""
    for line in dateline_window(text):
        answer = dateutil_value(line, fuzzy)
        if answer is not None:
            return answer
    return None


def dateline_window(text: str) -> list[str]:
    lines = [line.strip() for line in text[:DATELINE_WINDOW].splitlines()]
    return [line for line in lines if line][:DATELINE_LINES]


def project_dateline(text: str) -> Answer:
    parsed = find_date_in_text(text)
    return parsed.value if parsed else None


def written_in(text: str, answer: datetime) -> bool:
    """Whether the answer's year (four digits) and day number are both written in the text.

    The day before and after count too: converting a time zone to UTC can cross midnight
    ("1er janvier 2017, 1 h 30 UTC+3" is 31 December 2016 at 22:30 UTC).
    """
    for shift in (0, -1, 1):
        day = answer.date() + timedelta(days=shift)
        year_written = re.search(rf"(?<!\d){day.year:04d}(?!\d)", text)
        if year_written and re.search(rf"(?<!\d)0?{day.day}(?!\d)", text):
            return True
    return False


# --- the four parts ------------------------------------------------------------------------------


def evaluate_reuters(documents: list[dict[str, Any]]) -> dict[str, Any]:
    values = [document["date"] for document in documents]
    truth = [strict_reuters(value) for value in values]
    report: dict[str, Any] = {
        "values": len(values),
        "strict_readable": sum(t is not None for t in truth),
    }
    systems: dict[str, Callable[[str], Answer]] = {
        "project": project_value,
        "dateutil": dateutil_value,
    }
    for name, read in systems.items():
        answers = [read(value) for value in values]
        right = sum(a == t for a, t in zip(answers, truth, strict=True) if t is not None)
        failed = sum(a is None for a, t in zip(answers, truth, strict=True) if t is not None)
        report[name] = {
            "parsed": sum(a is not None for a in answers),
            "right": right,
            "failed": failed,
            "wrong": report["strict_readable"] - right - failed,
            "examples_failed": sorted(
                {v for v, a, t in zip(values, answers, truth, strict=True) if t and a is None}
            )[:5],
        }
    unreadable = [v for v, t in zip(values, truth, strict=True) if t is None]
    report["not_strict"] = [
        {
            "value": value,
            "project": _show(parse_date(value)),
            "dateutil": _show(dateutil_value(value)),
        }
        for value in unreadable
    ]
    return report


def evaluate_metadata(articles: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    values = [
        article[field]
        for rows in articles.values()
        for article in rows
        for field in ("date", "date_modified")
        if article.get(field)
    ]
    report: dict[str, Any] = {"values": len(values)}
    for name, read in (("project", parse_date), ("dateutil", dateutil_value)):
        right = 0
        for value in values:
            expected = datetime.combine(date.fromisoformat(value), datetime.min.time())
            answer = read(value)
            if name == "project":  # the project also says whether a time was given: it was not
                right += answer == ParsedDate(expected, False)
            else:
                right += answer == expected
        report[name] = {"right": right, "wrong_or_failed": len(values) - right}
    return report


def evaluate_datelines(articles: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    systems: dict[str, Callable[[str], Answer]] = {
        "project": project_dateline,
        "dateutil": lambda text: dateutil_lines(text, fuzzy=False),
        "dateutil_fuzzy": lambda text: dateutil_lines(text, fuzzy=True),
    }
    report: dict[str, Any] = {}
    for lang, rows in articles.items():
        report[lang] = {"articles": len(rows)}
        for name, read in systems.items():
            counts: Counter[str] = Counter()
            for article in rows:
                answer = read(article["text"])
                if answer is None:
                    counts["none"] += 1
                elif answer.date().isoformat() == article["date"]:
                    counts["agree"] += 1
                elif written_in("\n".join(dateline_window(article["text"])), answer):
                    counts["other_day"] += 1
                else:
                    counts["invented"] += 1
            report[lang][name] = {k: counts[k] for k in ("agree", "other_day", "invented", "none")}
    return report


def partial_dates(
    articles: dict[str, list[dict[str, Any]]], reuters_values: Iterable[str]
) -> dict[str, list[str]]:
    """Date strings with a part left out, made from the real dates in the data."""
    days = sorted(
        {date.fromisoformat(a["date"]) for rows in articles.values() for a in rows if a.get("date")}
    )
    forms: dict[str, list[str]] = {
        "month day": [f"{d:%B} {d.day}" for d in days],
        "day month": [f"{d.day} {d:%B}" for d in days],
        "weekday, month day": [f"{d:%A}, {d:%B} {d.day}" for d in days],
        "month year": sorted({f"{d:%B} {d.year}" for d in days}),
        "year": sorted({str(d.year) for d in days}),
    }
    reuters = sorted({t.date() for t in map(strict_reuters, reuters_values) if t})
    forms["reuters day-mon"] = [f"{d.day}-{d:%b}".upper() for d in reuters]
    forms["reuters mon-year"] = sorted({f"{d:%b}-{d.year}".upper() for d in reuters})
    forms["reuters two-digit year"] = [f"{d.day}-{d:%b}-{d:%y}".upper() for d in reuters]
    return forms


def evaluate_never_invented(
    forms: dict[str, list[str]], documents: list[dict[str, Any]], datelines: list[str]
) -> dict[str, Any]:
    report: dict[str, Any] = {"partial_dates": {}, "reuters_datelines": {}, "reuters_bodies": {}}
    for form, strings in forms.items():
        row: dict[str, Any] = {"strings": len(strings)}
        for name, read in (("project", project_value), ("dateutil", dateutil_value)):
            answers = [(s, read(s)) for s in strings]
            row[name] = sum(answer is not None for _, answer in answers)
            row[f"{name}_example"] = next((f"{s!r} -> {a:%Y-%m-%d}" for s, a in answers if a), "")
        report["partial_dates"][form] = row
    systems: dict[str, Callable[[str], Answer]] = {
        "project": project_dateline,
        "dateutil": lambda text: dateutil_lines(text, fuzzy=False),
        "dateutil_fuzzy": lambda text: dateutil_lines(text, fuzzy=True),
    }
    report["reuters_datelines"]["datelines"] = len(datelines)
    for name, read in systems.items():
        answers = [(line, read(line)) for line in datelines]
        report["reuters_datelines"][name] = sum(answer is not None for _, answer in answers)
        report["reuters_datelines"][f"{name}_example"] = next(
            (f"{line!r} -> {answer:%Y-%m-%d}" for line, answer in answers if answer), ""
        )
    bodies = [(d["body"], strict_reuters(d["date"])) for d in documents if d["body"]]
    report["reuters_bodies"]["bodies"] = len(bodies)
    for name, read in systems.items():
        counts: Counter[str] = Counter()
        examples: list[str] = []
        for body, stamp in bodies:
            answer = read(body)
            if answer is None:
                counts["none"] += 1
                continue
            window = "\n".join(dateline_window(body))
            if not written_in(window, answer):
                counts["invented"] += 1
                if len(examples) < 3:
                    examples.append(f"{window[:60]!r} -> {answer:%Y-%m-%d}")
            elif stamp and answer.date() == stamp.date():
                counts["article_date"] += 1
            else:
                counts["not_the_articles"] += 1
        report["reuters_bodies"][name] = dict(counts) | {"examples_invented": examples}
    return report


def _show(parsed: ParsedDate | datetime | None) -> str:
    if isinstance(parsed, ParsedDate):
        return parsed.value.isoformat(sep=" ") + ("" if parsed.has_time else " (date only)")
    return parsed.isoformat(sep=" ") if parsed else "None"


def evaluate(root: Path, files: Sequence[int] | None = None) -> dict[str, Any]:
    """Every figure; ``files`` numbers the Reuters files to read (all of them by default)."""
    documents = reuters_documents(root, files)
    articles = {lang: wikinews(root, lang) for lang in WIKINEWS_LANGS}
    forms = partial_dates(articles, (d["date"] for d in documents))
    return {
        "reuters": evaluate_reuters(documents),
        "wikinews_metadata": evaluate_metadata(articles),
        "datelines": evaluate_datelines(articles),
        "never_invented": evaluate_never_invented(forms, documents, reuters_datelines(root, files)),
    }


def print_report(report: dict[str, Any]) -> None:
    reuters = report["reuters"]
    readable = reuters["strict_readable"]
    print(f"Reuters-21578 DATE values: {reuters['values']}, strict reading: {readable}")
    for name in ("project", "dateutil"):
        row = reuters[name]
        print(
            f"  {name:10} parsed {row['parsed']:6}  right {row['right']:6}  wrong {row['wrong']:4}"
            f"  failed {row['failed']:6}  e.g. {row['examples_failed'][:2]}"
        )
    for item in reuters["not_strict"]:
        print(f"  not strict: {item['value']!r}: project {item['project']}, ", end="")
        print(f"dateutil {item['dateutil']}")
    meta = report["wikinews_metadata"]
    print(f"\nWikinews metadata dates: {meta['values']}")
    for name in ("project", "dateutil"):
        row = meta[name]
        print(f"  {name:10} right {row['right']:6}  wrong/failed {row['wrong_or_failed']}")
    print("\nWikinews datelines vs metadata (agree / other day written / invented / none):")
    for lang, rows in report["datelines"].items():
        for name in ("project", "dateutil", "dateutil_fuzzy"):
            row = rows[name]
            print(
                f"  {lang} ({rows['articles']:4}) {name:15} {row['agree']:5} / {row['other_day']:4}"
                f" / {row['invented']:4} / {row['none']:5}"
            )
    never = report["never_invented"]
    print("\nNever invented: partial dates (answers given; every one is invented)")
    for form, row in never["partial_dates"].items():
        print(
            f"  {form:24} {row['strings']:5} strings: project {row['project']:5}, dateutil "
            f"{row['dateutil']:5}  {row['dateutil_example']}"
        )
    lines = never["reuters_datelines"]
    print(f"Never invented: Reuters <DATELINE> values ({lines['datelines']}, no year)")
    for name in ("project", "dateutil", "dateutil_fuzzy"):
        print(f"  {name:15} dates given {lines[name]:6}  {lines[name + '_example']}")
    bodies = never["reuters_bodies"]
    print(f"Never invented: Reuters bodies ({bodies['bodies']}, no date line at the top)")
    for name in ("project", "dateutil", "dateutil_fuzzy"):
        row = bodies[name]
        print(
            f"  {name:15} none {row.get('none', 0):6}  invented {row.get('invented', 0):5}"
            f"  article's date {row.get('article_date', 0):4}  not the article's"
            f" {row.get('not_the_articles', 0):4}  {row['examples_invented'][:1]}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="shared data folder (default ../shared/data)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--files",
        type=lambda text: [int(number) for number in text.split(",")],
        help="only these Reuters files, by number (0-21), comma-separated",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = evaluate(data_root(args.data), args.files)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print_report(report)
    print(f"\n{report['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
