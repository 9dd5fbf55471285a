"""search/snippets.py: the offsets highlighter marks what Whoosh's own highlighter marks."""

from __future__ import annotations

import random
from pathlib import Path

from whoosh.fields import ID, TEXT, Schema
from whoosh.highlight import Highlighter
from whoosh.index import create_in
from whoosh.qparser import QueryParser

from search.snippets import FORMATTER, FRAGMENTER, OffsetsHighlighter

WORDS = [
    "harbour",
    "strike",
    "dock",
    "port",
    "ship",
    "crane",
    "night",
    "shift",
    "pay",
    "union",
    "deal",
    "talks",
]


def test_offsets_match_whoosh_across_segments_blocks_and_deletions(tmp_path: Path) -> None:
    schema = Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True, chars=True))
    index = create_in(str(tmp_path), schema)
    pick = random.Random(7)
    for segment in range(2):  # enough articles per word for several postings blocks
        with index.writer(merge=False) as writer:
            for number in range(400):
                words = [pick.choice(WORDS) for _ in range(pick.randint(20, 80))]
                if (segment, number) == (1, 17):
                    words.append("lighthouse")  # a word in one article: inlined postings
                writer.add_document(id=f"{segment}-{number}", body=" ".join(words))
    with index.writer(merge=False) as writer:
        for number in range(0, 400, 7):
            writer.delete_by_term("id", f"0-{number}")
    parser = QueryParser("body", schema)
    with index.searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) == 2
        for text in ("harbour strike", "crane OR lighthouse", "night shift pay", "lighthouse"):
            marked = {}
            for highlighter in (Highlighter, OffsetsHighlighter):
                results = searcher.search(parser.parse(text), limit=300, terms=True)
                results.highlighter = highlighter(fragmenter=FRAGMENTER, formatter=FORMATTER)
                marked[highlighter] = [hit.highlights("body", top=2) for hit in results]
            assert marked[OffsetsHighlighter] == marked[Highlighter], text
            assert all("<mark>" in snippet for snippet in marked[OffsetsHighlighter]), text
