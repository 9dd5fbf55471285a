"""Convert the Reuters-21578 SGML files (reut2-*.sgm) into one JSON line per document.

Usage: python scripts/import_reuters21578.py SRC_DIR OUT.jsonl

The files are not well-formed XML (no root element, control-character references such as
``&#3;``), so the elements are cut out with regular expressions. The files are latin-1: one
byte (0xFC in reut2-017.sgm) is not UTF-8. DATE is passed on raw (stripped); the project's
date parser copes with its odd spacing and trailing junk.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FILE_GLOB = "reut2-*.sgm"
CATEGORY_FIELDS = {
    "places": "PLACES",
    "people": "PEOPLE",
    "orgs": "ORGS",
    "exchanges": "EXCHANGES",
    "topics": "TOPICS",
}

_OPEN_TAG = re.compile(r"<REUTERS\b")
_ELEMENT = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.DOTALL)
_ATTRIBUTE = re.compile(r'([A-Z]+)="([^"]*)"')
_TEXT = re.compile(r"<TEXT\b[^>]*>(.*?)</TEXT>", re.DOTALL)
_D = re.compile(r"<D>(.*?)</D>", re.DOTALL)
# Control characters left by references such as &#2; &#3; &#5; &#127; (tab and newline stay).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# The sign-off ends the text: " Reuter", " REUTER", "REUTER...^M", "year ago. REUTER",
# a few with wire junk after it ("REUTER11:43/VB", "Reuter4", "REUTER TAW"), and a few twice
# ("said. REUTER\n Reuter").
_REUTER = r"\b(?:Reuters?|REUTERS?|reuters?)(?:\.\.\.)?(?:\^M)?(?:[ \t]*[A-Z0-9:/]{1,12})?"
_SIGN_OFF = re.compile(rf"(?:\s*{_REUTER})+\s*\Z")


def _element(name: str, text: str) -> str | None:
    """The raw content of the first <name> element in text, or None if there is none."""
    match = re.search(rf"<{name}>(.*?)</{name}>", text, re.DOTALL)
    return match.group(1) if match else None


def unescape(raw: str) -> str:
    """Resolve entities (&lt; &amp; &#3; ...) and drop the control characters they stand for."""
    return _CONTROL.sub("", html.unescape(raw))


def clean_body(raw: str) -> str:
    """Body text: entities resolved, trailing sign-off and &#3; removed, lines kept as they are."""
    text = unescape(raw).rstrip()
    text = _SIGN_OFF.sub("", text, count=1)
    return text.rstrip().lstrip("\n")


def _categories(block: str | None) -> list[str]:
    return [unescape(value).strip() for value in _D.findall(block or "")]


def _document(attributes: str, content: str, path: Path) -> dict[str, Any]:
    attrs = dict(_ATTRIBUTE.findall(attributes))
    if "NEWID" not in attrs:
        raise ValueError(f"{path}: <REUTERS{attributes}> has no NEWID")
    text_match = _TEXT.search(content)
    text = text_match.group(1) if text_match else ""
    title = _element("TITLE", text)
    body = _element("BODY", text)
    if body is None and title is None:
        body = text  # TYPE="UNPROC": the story is the TEXT content itself (no sub-elements).
    document: dict[str, Any] = {
        "id": f"reuters-{attrs['NEWID']}",
        "headline": unescape(title or "").strip(),
        "body": clean_body(body or ""),
        "date": (_element("DATE", content) or "").strip(),
    }
    for key, tag in CATEGORY_FIELDS.items():
        document[key] = _categories(_element(tag, content))
    document["source"] = "Reuters"
    document["lewissplit"] = attrs.get("LEWISSPLIT", "")
    document["oldid"] = attrs.get("OLDID", "")
    return document


def iter_documents(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the documents of one .sgm file in file order.

    Raises ValueError if the file has a <REUTERS> tag without its closing tag, so that no
    document is lost silently.
    """
    text = path.read_text(encoding="latin-1")
    expected = len(_OPEN_TAG.findall(text))
    found = 0
    for match in _ELEMENT.finditer(text):
        found += 1
        yield _document(match.group(1), match.group(2), path)
    if found != expected:
        raise ValueError(f"{path}: {expected} <REUTERS> tags but {found} complete elements")


def source_files(src_dir: Path) -> list[Path]:
    """The reut2-*.sgm files in src_dir, in order (reut2-000 ... reut2-021)."""
    return sorted(src_dir.glob(FILE_GLOB))


def convert(src_dir: Path, out: Path) -> int:
    """Write every document of src_dir to out as UTF-8 JSON lines; return how many."""
    files = source_files(src_dir)
    if not files:
        raise FileNotFoundError(f"no {FILE_GLOB} files in {src_dir}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8", newline="\n") as sink:
        for path in files:
            for document in iter_documents(path):
                sink.write(json.dumps(document, ensure_ascii=False) + "\n")
                count += 1
    partial.replace(out)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Convert Reuters-21578 SGML files (reut2-*.sgm) to JSON lines, one per "
        "<REUTERS> document: id, headline, body, raw date, places, people, orgs, exchanges, "
        "topics, source, lewissplit, oldid.",
    )
    parser.add_argument("src_dir", type=Path, help="folder holding the reut2-*.sgm files")
    parser.add_argument("out", type=Path, help="JSON lines file to write (UTF-8)")
    args = parser.parse_args(argv)
    if not args.src_dir.is_dir():
        parser.error(f"{args.src_dir} is not a folder")
    started = time.perf_counter()
    try:
        count = convert(args.src_dir, args.out)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(
        f"read {len(source_files(args.src_dir))} files, wrote {count} documents to {args.out} "
        f"in {elapsed:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
