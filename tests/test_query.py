import pytest
from whoosh import query as wq

from search.errors import QueryError
from search.query import parse_query
from search.searcher import SearchRequest


def test_short_plain_queries_require_every_word():
    parsed = parse_query("cocoa prices")
    assert isinstance(parsed.query, wq.And) and parsed.plain
    assert isinstance(parsed.relaxed, wq.Or)


def test_long_plain_queries_are_ranked_or():
    parsed = parse_query("efforts of the ambassador to change the policies of repression")
    assert isinstance(parsed.query, wq.Or) and parsed.relaxed is None


def test_queries_in_capitals_mean_words_not_operators():
    parsed = parse_query("BUDDHIST MONKS IN SOUTH VIET NAM AND WHAT THEY DID")
    assert parsed.plain
    assert "and" not in {text for _, text in parsed.query.iter_all_terms()}


def test_hyphenated_words_are_not_exclusions():
    parsed = parse_query("shake-ups in Prague")
    assert not isinstance(parsed.query, wq.AndNot)
    assert {"shake", "up"} <= {text for _, text in parsed.query.iter_all_terms()}
    assert isinstance(parse_query("shake -ups").query, wq.AndNot)


@pytest.mark.parametrize("text", ['"port strike"', "cocoa OR coffee", "headline:cocoa", "econ*"])
def test_operators_make_a_query_not_plain(text):
    assert not parse_query(text).plain


def test_empty_and_star_match_everything():
    assert isinstance(parse_query("").query, wq.Every)
    assert isinstance(parse_query(" * ").query, wq.Every)


def test_errors_explain_themselves():
    with pytest.raises(QueryError, match="no words"):
        parse_query("OR NOT")
    with pytest.raises(QueryError, match="at least 3 letters"):
        parse_query("ec*")


def test_words_that_never_meet_fall_back_to_any_word(articles):
    response = articles.search(SearchRequest(q="Hochwasser Moonbar"))
    assert response["total"] >= 2
    assert "any of them" in response["notice"]
    assert "notice" not in articles.search(SearchRequest(q="cocoa Moonbar"))
