"""Quality gate for language identification, on a fixed slice of the shared test sentences.

The slice is the first 40 sentences of each of the 50 languages that langdetect supports (2,000
sentences, 400 five-sentence articles, 2,000 headline-length cuts), scored by the same code as
``scripts/eval_language.py``. Floors sit a little below what was measured when they were pinned
(measured values in the comments), so a change that makes identification worse fails here.
Plain langdetect runs on the same slice, so the project must also stay ahead of it.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO, shared_data

pytestmark = pytest.mark.integration

PER_LANGUAGE = 40


def load_evaluation() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "eval_language", REPO / "scripts" / "eval_language.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def evaluation() -> ModuleType:
    return load_evaluation()


@pytest.fixture(scope="module")
def report(evaluation: ModuleType) -> dict[str, Any]:
    by_lang = evaluation.load_sentences(evaluation.data_file(shared_data("langid")))
    chosen = {k: v for k, v in by_lang.items() if k in evaluation.LANGDETECT_50}
    single = evaluation.sentences(chosen, PER_LANGUAGE)
    sets = {
        "sentences": single,
        "articles": evaluation.articles(chosen, PER_LANGUAGE),
        "headlines": [(lang, evaluation.headline(text)) for lang, text in single],
    }
    return {
        name: {
            key: evaluation.score(s, evaluation.outcomes(detector, s)) for key, s in sets.items()
        }
        for name, detector in (
            ("project", evaluation.project),
            ("langdetect", evaluation.plain_langdetect),
        )
    }


def test_the_slice_is_the_one_the_floors_were_measured_on(report):
    assert report["project"]["sentences"]["n"] == 50 * PER_LANGUAGE
    assert report["project"]["articles"]["n"] == 50 * PER_LANGUAGE // 5


def test_sentence_accuracy(report):
    assert report["project"]["sentences"]["accuracy"] >= 0.983  # measured 0.9880
    assert (
        report["project"]["sentences"]["accuracy"] >= report["langdetect"]["sentences"]["accuracy"]
    )


def test_article_accuracy(report):
    assert report["project"]["articles"]["accuracy"] >= 0.995  # measured 0.9975


def test_no_language_collapses(report):
    # Catalan is the weakest (measured 0.75 here): many of its "sentences" are Spanish or
    # English web boilerplate labelled Catalan. Every other language measured 0.90 or more.
    per_language = report["project"]["sentences"]["per_language"]
    assert per_language.pop("ca") >= 0.70
    assert min(per_language.values()) >= 0.875


def test_headlines_say_und_rather_than_guess(report):
    ours, theirs = report["project"]["headlines"], report["langdetect"]["headlines"]
    assert ours["wrong"] / ours["n"] <= 0.02  # measured 0.0110; plain langdetect 0.1455
    assert ours["wrong"] * 5 <= theirs["wrong"]
    # ...but und is not the answer to everything.
    assert ours["und"] / ours["n"] <= 0.24  # measured 0.2050
    assert ours["right"] / ours["n"] >= 0.76  # measured 0.7840
