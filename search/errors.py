"""The errors the library raises on purpose; anything else is a bug.

Each carries a ``code`` (stable, machine-readable) and a message written for the
person who has to act on it.
"""

from __future__ import annotations


class NewsearchError(Exception):
    """Base class: ``code`` names the error, ``str(error)`` explains it."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(NewsearchError):
    """A search parameter is out of range or malformed."""

    code = "invalid_parameter"


class QueryError(NewsearchError):
    """The query text cannot be turned into a search."""

    code = "invalid_query"


class NotFound(NewsearchError):
    """No article has the requested id."""

    code = "not_found"


class IndexLocked(NewsearchError):
    """Another process is writing to the index."""

    code = "index_locked"


class IndexMissing(NewsearchError):
    """There is no index at the given location yet."""

    code = "index_missing"


class InputMissing(NewsearchError):
    """A path given to the indexer does not exist."""

    code = "input_missing"


class SearchTimeout(QueryError):
    """The search ran past ``LIMITS.search_seconds`` and was stopped."""

    code = "search_timeout"


class Busy(NewsearchError):
    """Every search turn stayed taken for ``LIMITS.queue_seconds``: the server is overloaded."""

    code = "busy"


class IndexUnwritable(NewsearchError):
    """The index folder cannot be written: the disk is full, it is read-only, or it is
    not a folder. The index is left as it was before the run."""

    code = "index_unwritable"
