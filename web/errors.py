"""One error shape: ``{"error": {"code", "message"}}`` for the API, a friendly page
for the browser. Library errors become 4xx; nothing shows a traceback."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.errors import Busy, IndexMissing, NewsearchError, NotFound

log = logging.getLogger(__name__)


def status_for(error: NewsearchError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, IndexMissing | Busy):
        return 503
    return 400


def headers_for(error: NewsearchError) -> dict[str, str]:
    # An overloaded server says when to come back; the turn it waited for is short.
    return {"Retry-After": "1"} if isinstance(error, Busy) else {}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(code: str, message: str, status: int) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", code=code, message=message, status=status), status


def register(app: Flask) -> None:
    @app.errorhandler(NewsearchError)
    def library_error(error: NewsearchError) -> Any:
        return (*error_response(error.code, error.message, status_for(error)), headers_for(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(code, error.description or "", error.code or 500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unexpected error on %s", request.path)
        return error_response("internal_error", "Something went wrong on our side.", 500)
