"""Whoosh 2.7.4 bugs patched in search.whoosh_fixes, each pinned at the matcher level."""

from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import RequireMatcher

import search.whoosh_fixes  # noqa: F401 - applies the patches


class FlatQuality:
    """A scorer whose every block is worth 1: a quality skip below 1 stays put."""

    def supports_block_quality(self) -> bool:
        return True

    def block_quality(self, _matcher: object) -> float:
        return 1.0

    def max_quality(self) -> float:
        return 1.0


def test_require_survives_a_quality_skip_that_stays_on_a_shared_document():
    # Both matchers sit on document 1; skipping to quality 0.5 does not move the scored
    # one. Whoosh asserted the two must differ there (AssertionError on "had resolved").
    scored = ListMatcher([1, 2, 3], scorer=FlatQuality())
    required = ListMatcher([1, 3])
    matcher = RequireMatcher(scored, required)
    assert matcher.skip_to_quality(0.5) == 0
    assert matcher.id() == 1
    matcher.next()
    assert matcher.id() == 3  # 2 is not required: still skipped
