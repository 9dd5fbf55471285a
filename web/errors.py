"""One error shape: ``{"error": {"code", "message"}}`` for the API, a friendly page
for the browser. Library errors become 4xx; nothing shows a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.errors import IndexMissing, NewsearchError, NotFound

log = logging.getLogger(__name__)


def status_for(error: NewsearchError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, IndexMissing):
        return 503
    return 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(code: str, message: str, status: int) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", code=code, message=message, status=status), status


def register(app: Flask) -> None:
    @app.errorhandler(NewsearchError)
    def library_error(error: NewsearchError) -> tuple[Response | str, int]:
        return error_response(error.code, error.message, status_for(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(code, error.description or "", error.code or 500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unexpected error on %s", request.path)
        return error_response("internal_error", "Something went wrong on our side.", 500)
