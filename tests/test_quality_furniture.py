"""Quality gate for furniture removal (scripts/eval_furniture.py) on real corpora.

The slice: the first 60 BBC articles of each category (300 articles), polluted with seed 1.
Measured there: fixed list alone recall 0.754, precision 1.000; fixed list + learner
(per source) recall 0.999, precision 1.000. The floors sit a little below, and the gate
also checks that the learner learns nothing from clean text: the unpolluted BBC corpus and
the Reuters-21578 newswire, whose tables and hard-wrapped lines repeat short lines by the
hundred.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from scripts._scripts import load_script
from search.furniture import FurnitureLearner
from search.readers import read_paths
from tests.conftest import shared_data

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
PER_CATEGORY = 60
SEED = 1
LEARNER_RECALL_FLOOR = 0.98
LEARNER_PRECISION_FLOOR = 0.995
FIXED_PRECISION_FLOOR = 0.995
# The learner must add what the fixed list cannot know (measured: +0.25 recall).
LEARNER_GAIN_FLOOR = 0.15
REUTERS_FILES = 4


@pytest.fixture(scope="module")
def evaluation() -> ModuleType:
    return load_script("eval_furniture")


@pytest.fixture(scope="module")
def results(evaluation: ModuleType) -> dict[str, object]:
    data = shared_data("bbc") / "bbc"
    articles = evaluation.pollute(evaluation.load_records(data, PER_CATEGORY), SEED)
    assert len(articles) == 5 * PER_CATEGORY
    return {result.name: result for result in evaluation.evaluate(articles)}


MISSED_UNKNOWN_CEILING = 3  # copies of site-specific lines the learner may leave in


def test_the_learner_removes_site_furniture_and_keeps_real_lines(results):
    learner = results["fixed list + learner"]
    assert learner.recall >= LEARNER_RECALL_FLOOR, learner.injected_missed.most_common(5)
    assert learner.precision >= LEARNER_PRECISION_FLOOR, learner.real_removed.most_common(5)
    for where in ("start", "middle", "end"):
        assert learner.position_recall(where) >= LEARNER_RECALL_FLOOR, where


def test_the_learner_adds_what_the_fixed_list_cannot_know(results, evaluation):
    fixed, learner = results["fixed list"], results["fixed list + learner"]
    assert fixed.precision >= FIXED_PRECISION_FLOOR, fixed.real_removed.most_common(5)
    assert learner.recall - fixed.recall >= LEARNER_GAIN_FLOOR
    assert results["no cleaning"].recall == 0.0
    # The site-specific lines are what the fixed list misses and the learner catches.
    unknown = evaluation.unknown_to_fixed_list(evaluation.furniture_lines())
    assert len(unknown) >= 15
    assert set(fixed.injected_missed) & unknown
    # Almost every copy of them: the learner's counts can leave a stray copy or two
    # (seen once in CI: 1 of ~140 copies of a line kept), which the recall floor bounds.
    missed_unknown = sum(n for line, n in learner.injected_missed.items() if line in unknown)
    assert missed_unknown <= MISSED_UNKNOWN_CEILING, learner.injected_missed


def test_nothing_is_learned_from_the_clean_bbc_corpus():
    learner = FurnitureLearner()
    for item in read_paths([shared_data("bbc") / "bbc"]):
        if hasattr(item, "body"):
            learner.observe_record(item)
    assert learner.articles > 2000
    assert len(learner.learned()) == 0


def test_nothing_is_learned_from_reuters_newswire():
    importer = load_script("import_reuters21578")
    learner = FurnitureLearner()
    files = importer.source_files(shared_data("reuters21578"))[:REUTERS_FILES]
    for path in files:
        for document in importer.iter_documents(path):
            learner.observe(document.get("body") or "", None)
    assert learner.articles > 3000
    assert len(learner.learned()) == 0
