from dataclasses import replace

from search.config import RANKING
from search.query import parse_query
from search.stopwords import drop_stop_words


def terms(text: str, **kwargs) -> set[str]:
    return {t for f, t in parse_query(text, **kwargs).query.iter_all_terms() if f == "body"}


def test_function_words_leave_a_long_sentence() -> None:
    assert drop_stop_words("What countries have newly joined the United Nations") == (
        "countries newly joined United Nations"
    )


def test_a_sentence_of_function_words_is_kept_whole() -> None:
    assert drop_stop_words("what is it about") == "what is it about"


def test_only_words_stopped_in_every_language_go() -> None:
    # "war" is a German function word ("was"), an English noun.
    assert "war" in drop_stop_words("which war has ended", ["en", "de"])
    assert "which" not in drop_stop_words("which war has ended", ["en"])


def test_long_plain_queries_drop_them_and_short_ones_keep_them() -> None:
    assert "what" not in terms("what countries have newly joined")
    assert "what" in terms("what countries")  # AND queries keep every word
    keep = replace(RANKING, long_query_stop_words=False)
    assert "what" in terms("what countries have newly joined", ranking=keep)


def test_queries_with_operators_are_left_as_typed() -> None:
    assert "what" in terms('"what countries" OR newly OR joined OR nations')
