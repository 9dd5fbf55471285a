"""Chained fixtures: team-written articles -> index -> app -> client / CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from search.indexer import IndexSummary, index_paths
from search.searcher import ArticleIndex
from web import create_app

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "search" / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
