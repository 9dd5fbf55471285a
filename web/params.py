"""Request arguments -> SearchRequest, with a clear error for each bad parameter."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from search.errors import InvalidRequest
from search.searcher import SearchRequest

# The URL parameters that make up a search's state, in the order URLs show them.
STATE_KEYS = (
    "q",
    "lang",
    "source",
    "entity",
    "from",
    "to",
    "sort",
    "per_page",
    "collapse",
    "recency",
    "explain",
)
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def integer(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a whole number, not {raw[:40]!r}.") from None


def number(args: MultiDict[str, str], name: str, default: float) -> float:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a number, not {raw[:40]!r}.") from None


def flag(args: MultiDict[str, str], name: str, default: bool) -> bool:
    """true/false (also 1/0, yes/no, on/off, any case); anything else is a 400."""
    raw = args.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise InvalidRequest(f"{name} must be true or false, not {raw[:40]!r}.")


def day(args: MultiDict[str, str], name: str) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _invalid_day(name, raw)
    except ValueError:
        return _invalid_day(name, raw)


def _invalid_day(name: str, raw: str) -> date:
    raise InvalidRequest(f"{name} must be a date in the form YYYY-MM-DD, not {raw[:40]!r}.")


def search_request(args: MultiDict[str, str]) -> SearchRequest:
    """Raises InvalidRequest for the first malformed parameter; SearchRequest.validate
    checks the ranges."""
    request = SearchRequest(
        q=args.get("q", ""),
        page=integer(args, "page", 1),
        per_page=integer(args, "per_page", 10),
        lang=args.get("lang", "").strip(),
        date_from=day(args, "from"),
        date_to=day(args, "to"),
        entity=args.get("entity", "").strip(),
        source=args.get("source", "").strip(),
        sort=args.get("sort", "relevance").strip() or "relevance",
        collapse=flag(args, "collapse", True),
        recency=number(args, "recency", 0.0),
        explain=flag(args, "explain", False),
        cursor=args.get("cursor", "").strip(),
    )
    request.validate()
    return request


def state(args: MultiDict[str, str], **changes: str | int | None) -> dict[str, str]:
    """The URL parameters of the current search with some changed (None removes one).
    Any change resets the page to the first, unless the change is the page."""
    current = {key: args.get(key, "") for key in STATE_KEYS}
    if "page" not in changes:
        current["page"] = ""
    else:
        current["page"] = args.get("page", "")
    for key, value in changes.items():
        current[key] = "" if value is None else str(value)
    return {key: value for key, value in current.items() if value}
