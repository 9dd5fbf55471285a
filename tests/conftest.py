"""Chained fixtures: team-written articles -> index -> app -> client / CLI runner."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright

from scripts._scripts import free_port, start_server
from search.indexer import IndexSummary, index_paths
from search.query import _parse_query
from search.searcher import ArticleIndex
from web import create_app

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "search" / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, as root, on a machine with no network (see ../shared/VERIFIED.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def shared_data(name: str) -> Path:
    """A folder of ../shared/data; skipped where absent, but a failure under CI."""
    root = Path(os.environ.get("NEWSEARCH_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = root / name
    if not path.exists():
        message = f"shared corpus {path} is not here (it lives beside the repo, not in it)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must have it")
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def fresh_parse_cache() -> None:
    """Each test parses its queries anew: a query remembered by an earlier test would
    hide what a test patched."""
    _parse_query.cache_clear()


@pytest.fixture()
def calls_to(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[tuple]]:
    """``calls_to(module, "name")``: the positional arguments of every later call of
    ``module.name``, which still does its work."""

    def watch(owner: object, name: str) -> list[tuple]:
        calls: list[tuple] = []
        original = getattr(owner, name)

        def counted(*args: object, **kwargs: object) -> object:
            calls.append(args)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
        return calls

    return watch


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IndexSummary]:
    """The bundled sample articles, indexed once for the whole session."""
    target = tmp_path_factory.mktemp("sample-index")
    summary = index_paths([SAMPLES], target, workers=1)
    return target, summary


@pytest.fixture(scope="session")
def articles(sample_index: tuple[Path, IndexSummary]) -> ArticleIndex:
    return ArticleIndex(sample_index[0])


@pytest.fixture()
def app(sample_index: tuple[Path, IndexSummary]) -> Flask:
    return create_app({"INDEX_DIR": str(sample_index[0]), "TESTING": True})


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


@contextlib.contextmanager
def served(index_dir: Path, threads: int = 4) -> Iterator[str]:
    """``newsearch serve`` over ``index_dir``, as in production, on a free loopback port:
    the base URL."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = start_server(index_dir, port, log, threads=threads)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                raise


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright; skipped where absent, a failure under CI."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
