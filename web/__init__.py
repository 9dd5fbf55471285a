"""The Flask front end: a thin layer over ``search.searcher``.

``create_app`` builds the app; ``views`` holds the HTML pages and their JSON
twins, which call the same search function; ``errors`` turns library errors
into 4xx answers in one shape.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, request

from search.config import resolve_index_dir
from search.errors import InvalidRequest
from search.searcher import ArticleIndex

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``INDEX_DIR`` in the config names the index to serve."""
    app = Flask(__name__)
    app.config.from_mapping(INDEX_DIR=str(resolve_index_dir()), JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["article_index"] = ArticleIndex(app.config["INDEX_DIR"])

    from web import errors, views

    app.register_blueprint(views.bp)
    errors.register(app)

    @app.before_request
    def refuse_undecodable_urls() -> None:
        # Werkzeug re-quotes bytes that are not UTF-8 ("%FF" stays "%FF"), which would
        # search for the literal text; say what is wrong instead.
        try:
            unquote_to_bytes(request.query_string).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest(
                "The query string is not valid UTF-8; encode the search words as UTF-8."
            ) from None

    @app.after_request
    def add_security_headers(response: Any) -> Any:
        response.headers.update(SECURITY_HEADERS)
        return response

    return app
