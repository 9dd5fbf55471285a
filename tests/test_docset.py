"""search.docset: the matches as an array, a set only on demand."""

import numpy as np

from search.docset import DocSet
from search.postings import doc_array


def test_a_docset_behaves_as_the_set_of_its_documents():
    docs = DocSet.of([5, 1, 9, 5])
    assert len(docs) == 3 and bool(docs) and not DocSet(np.empty(0, dtype=np.int64))
    assert list(docs) == [1, 5, 9]
    assert 5 in docs and np.int64(9) in docs and 4 not in docs and 10 not in docs
    assert "5" not in docs
    assert docs.as_set() == {1, 5, 9} and docs.as_set() is docs.as_set()
    assert doc_array(docs) is docs.array


def test_union_adds_new_documents_in_order_and_leaves_the_original_alone():
    docs = DocSet.of([3, 7])
    assert list(docs.union([8, 1, 7])) == [1, 3, 7, 8]
    assert list(docs) == [3, 7]
    assert docs.union([]) is docs


def test_intersection_keeps_what_every_set_has():
    docs = DocSet.of([1, 2, 3, 8])
    assert list(docs.intersection(DocSet.of([2, 3, 9]), DocSet.of([3, 2]))) == [2, 3]
    assert list(docs.intersection()) == [1, 2, 3, 8]


def test_distinct_counts_equal_numpys_unique_for_large_and_small_sets():
    from search.docset import BINCOUNT_FROM, distinct_counts

    rng = np.random.default_rng(4)
    for size in (10, BINCOUNT_FROM + 7):
        values = np.concatenate(
            [rng.integers(0, 5000, size), -1 - rng.permutation(size // 10)]  # negatives distinct
        )
        keys, counts = distinct_counts(values)
        expected_keys, expected_counts = np.unique(values, return_counts=True)
        assert keys.tolist() == expected_keys.tolist()
        assert counts.tolist() == expected_counts.tolist()
    keys, counts = distinct_counts(-1 - np.arange(BINCOUNT_FROM))  # no cluster at all
    assert len(keys) == BINCOUNT_FROM and set(counts.tolist()) == {1}
