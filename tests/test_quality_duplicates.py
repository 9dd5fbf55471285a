"""Quality gate for duplicates and story clusters on a fixed slice of the BBC corpus.

The BBC ``tech`` folder (401 files, 54 byte-identical pairs) through
scripts/eval_duplicates.py: the real indexer must catch every exact pair, 150
re-published copies must be grouped with their originals, and distinct articles must
not be grouped. About 10 s of CPU.
"""

import pytest

from scripts._scripts import load_script
from tests.conftest import shared_data

pytestmark = pytest.mark.integration

CATEGORY = "tech"
COPIES = 150
SEED = 7


@pytest.fixture(scope="module")
def results():
    data = shared_data("bbc") / "bbc"
    script = load_script("eval_duplicates")
    return script, script.evaluate(data, COPIES, SEED, [CATEGORY], with_index=True, cost=False)


def test_every_byte_identical_pair_is_an_exact_duplicate(results):
    _, found = results
    assert found.byte_pairs == 54
    assert found.exact_pairs_found == found.byte_pairs
    assert found.index["duplicates_with"] == found.byte_pairs
    assert found.index["pairs_one_copy_indexed"] == found.byte_pairs


def test_republished_copies_are_grouped_with_their_original(results):
    script, found = results
    for row in [*found.perturbations, found.overall]:
        assert row.copies == COPIES or row is found.overall
        assert row.share >= script.TARGET_GROUPED, (row.name, row.share)
        assert row.baseline_share < row.share, row.name  # better than the exact hash alone


def test_distinct_articles_are_not_grouped(results):
    script, found = results
    assert found.false_share <= script.TARGET_FALSE, found.wrong_pairs
    # and the slice's own near-duplicates (same body, new headline; updates) are found
    assert found.reference_grouped >= 0.9 * found.reference_pairs
