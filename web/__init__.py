"""The Flask front end: a thin layer over ``search.searcher``.

``create_app`` builds the app; ``views`` holds the HTML pages and their JSON
twins, which call the same search function; ``errors`` turns library errors
into 4xx answers in one shape.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from search.config import resolve_index_dir
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

    @app.after_request
    def add_security_headers(response: Any) -> Any:
        response.headers.update(SECURITY_HEADERS)
        return response

    return app
