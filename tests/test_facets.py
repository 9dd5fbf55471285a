"""search.facets: the per-generation tables counted with arrays."""

import numpy as np

from search.facets import FacetTable, StoryCounts


def test_story_counts_count_copies_per_story_and_none_for_other_stories():
    # Documents 0-2 are story 5, document 3 stands alone (-4), document 4 is story 6.
    story_keys = np.array([5, 5, 5, -4, 6])
    stories = StoryCounts(story_keys, story_keys[[0, 2, 3]])
    assert len(stories) == 2
    assert stories.copies(1) == 2  # its story has two of the documents, not it itself
    assert stories.copies(3) == 1
    assert stories.copies(4) == 0


def test_facet_counts_rank_by_count_then_value_within_the_mask():
    table = FacetTable(
        values=["de", "en", "fr"],
        pair_docs=np.array([0, 1, 2, 3, 4, 4]),
        pair_values=np.array([1, 1, 0, 2, 0, 2]),
    )
    matching = np.array([True, True, True, False, True])
    # de 2 (documents 2, 4), en 2 (0, 1), fr 1 (4; 3 is not matching): ties by value
    assert table.count(matching, 2) == [{"value": "de", "count": 2}, {"value": "en", "count": 2}]
    assert table.count(np.zeros(5, dtype=bool), 5) == []
