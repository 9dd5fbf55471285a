"""Whoosh 2.7.4 bugs patched in search.whoosh_fixes, each pinned at the matcher level."""

from whoosh.highlight import BasicFragmentScorer, Fragment, top_fragments
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


def test_fragments_with_equal_scores_are_chosen_by_their_place_in_the_text():
    # Whoosh broke score ties by the fragments' memory addresses: the same hit's snippet
    # changed between calls. Now the first fragments in the text win every time.
    text = "alpha one. alpha two. alpha three. alpha four."
    for _ in range(20):
        fragments = [Fragment(text, [], start, start + 9) for start in (33, 0, 22, 11)]
        best = top_fragments(fragments, 2, BasicFragmentScorer(), lambda f: f.startchar, 0)
        assert [f.startchar for f in best] == [0, 11]


def test_a_segment_reader_asks_once_whether_a_field_has_lengths(tmp_path):
    from whoosh import fields, index

    ix = index.create_in(tmp_path, fields.Schema(text=fields.TEXT, tag=fields.ID))
    with ix.writer() as writer:
        writer.add_document(text="one two three", tag="a")
        writer.add_document(text="four", tag="b")
    reader = ix.reader()
    perdoc = reader._perdoc
    asked: list[str] = []
    exists = perdoc._storage.file_exists
    perdoc._storage.file_exists = lambda name: asked.append(name) or exists(name)
    lengths = [perdoc.doc_field_length(doc, field) for doc in (0, 1) for field in ("text", "tag")]
    assert lengths == [3, 0, 1, 0]
    assert len(asked) == 2  # once per field, not once per call


def test_a_boosted_term_is_a_separate_copy():
    from whoosh.query import Term

    term = Term("body", "harbour", boost=2.0)
    boosted = term.with_boost(3.0)
    assert (boosted.fieldname, boosted.text, boosted.boost) == ("body", "harbour", 3.0)
    assert term.boost == 2.0 and boosted is not term
