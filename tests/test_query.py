from datetime import date

import pytest
from whoosh import query as wq

from search.errors import QueryError
from search.query import describe_dates, newest_date, parse_query, parsed_json
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


@pytest.mark.parametrize(
    "text", ['"port strike"', "cocoa OR coffee", "headline:cocoa", "econ*", "(cocoa OR tea) Ghana"]
)
def test_operators_make_a_query_not_plain(text):
    assert not parse_query(text).plain


def test_brackets_alone_leave_a_sentence_plain():
    parsed = parse_query("the Baath (Renaissance) party founded by Michel Aflak")
    assert parsed.plain and parsed.long_plain
    assert isinstance(parsed.query, wq.Or)
    assert "renaiss" in {text for _, text in parsed.query.iter_all_terms()}
    short = parse_query("(cocoa) prices")
    assert short.plain and not short.long_plain and isinstance(short.query, wq.And)


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


NEWEST = date(2024, 6, 20)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("date:2011-03..2011-06", date(2011, 3, 1), date(2011, 6, 30)),
        ("date:1987", date(1987, 1, 1), date(1987, 12, 31)),
        ("date:2024-03-05", date(2024, 3, 5), date(2024, 3, 5)),
        ("date:2011-03..", date(2011, 3, 1), None),
        ("date:..2011-06", None, date(2011, 6, 30)),
        ("date:2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # a leap year's February
        ("DATE:1987", date(1987, 1, 1), date(1987, 12, 31)),
    ],
)
def test_date_syntax_becomes_bounds(text, start, end):
    parsed = parse_query(text)
    assert (parsed.date_from, parsed.date_to) == (start, end)
    assert isinstance(parsed.query, wq.Every)  # only a date: every article in it
    assert parsed.date_phrase.lower() == text.lower()


def test_date_tokens_leave_the_words_and_narrow_each_other():
    parsed = parse_query("cocoa date:2011 exports date:2011-03..")
    assert parsed.words == "cocoa exports"
    assert {text for _, text in parsed.query.iter_all_terms()} == {"cocoa", "export"}
    assert (parsed.date_from, parsed.date_to) == (date(2011, 3, 1), date(2011, 12, 31))
    assert parsed.plain  # the date token's colon does not make the words an expression


@pytest.mark.parametrize(
    ("text", "start", "end", "phrase"),
    [
        ("cocoa since March 2011", date(2011, 3, 1), None, "since March 2011"),
        ("before 2012 strike", None, date(2011, 12, 31), "before 2012"),
        ("after June 2023", date(2023, 7, 1), None, "after June 2023"),
        ("in 1987", date(1987, 1, 1), date(1987, 12, 31), "in 1987"),
        ("riots in March 1987", date(1987, 3, 1), date(1987, 3, 31), "in March 1987"),
        ("until Feb. 2020", None, date(2020, 2, 29), "until Feb. 2020"),
        ("between 2011 and 2013", date(2011, 1, 1), date(2013, 12, 31), "between 2011 and 2013"),
        ("SINCE MARCH 2011", date(2011, 3, 1), None, "since march 2011"),
        ("last week", date(2024, 6, 14), NEWEST, "last week"),
        ("last month", date(2024, 5, 21), NEWEST, "last month"),
        ("last year", date(2023, 6, 21), NEWEST, "last year"),
        ("this year", date(2024, 1, 1), NEWEST, "this year"),
        ("this month", date(2024, 6, 1), NEWEST, "this month"),
        ("this week", date(2024, 6, 17), NEWEST, "this week"),  # 2024-06-20 is a Thursday
        ("yesterday", date(2024, 6, 19), date(2024, 6, 19), "yesterday"),
        ("strike today", NEWEST, NEWEST, "today"),
    ],
)
def test_plain_language_dates(text, start, end, phrase):
    parsed = parse_query(text, newest=NEWEST)
    assert (parsed.date_from, parsed.date_to) == (start, end)
    assert parsed.date_phrase == phrase
    assert phrase.split()[-1].lower() not in parsed.words.lower()


@pytest.mark.parametrize(
    "text",
    [
        "in March",  # which March?
        "coffee 1987",  # a bare number is a word
        '"in 1987"',  # quoted: a phrase to find
        "USA Today",  # a name, not a day
        "in 300 words",  # not a year a news archive holds
        "in 2011-13",  # no 13th month
        "headline:since 2011",  # a field's word, not a date phrase
    ],
)
def test_ambiguous_phrases_are_not_dates(text):
    parsed = parse_query(text, newest=NEWEST)
    assert parsed.date_from is None and parsed.date_to is None and parsed.date_phrase == ""


def test_relative_dates_need_a_newest_date():
    # An index with no dated article: "this year" in a question is part of the question.
    parsed = parse_query("WHAT DID DE GAULLE REJECT THIS YEAR")
    assert parsed.date_phrase == "" and "year" in parsed.words
    assert parse_query("cocoa in 1987").date_phrase == "in 1987"  # absolute dates still are


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo:bar", r"Unknown field 'foo:' at character 1; fields are headline, person,"),
        ("cocoa Topic:x", r"Unknown field 'Topic:' at character 7"),
        ("date:2011-13", r"Cannot read the date '2011-13' in 'date:2011-13' at character 1"),
        ("cocoa date:", r"Cannot read the date in 'date:' at character 7"),
        ("date:abc..2012", r"Cannot read the date 'abc'"),
        ("date:2012..2011", r"ends before it starts"),
        ("date:2011..2012..2013", r"Cannot read the date '2012..2013'"),
    ],
)
def test_hard_errors_say_where(text, message):
    with pytest.raises(QueryError, match=message):
        parse_query(text)


def test_known_fields_pass_in_any_case_and_colons_that_are_punctuation_are_words():
    assert parse_query("Headline:cocoa").query == parse_query("headline:cocoa").query
    assert parse_query("org:union").query.field() == "organization"
    for text in ("Update: cocoa prices", "http://example.com/a", "10:30 meeting"):
        parse_query(text)  # no QueryError


@pytest.mark.parametrize(
    ("text", "notice", "words"),
    [
        ('cocoa "prices', "Unclosed quote at character 7: searched as words.", "cocoa prices"),
        ("(cocoa OR coffee", "Unclosed bracket '(' at character 1: ignored.", "cocoa OR coffee"),
        ("cocoa prices)", "Unmatched ')' at character 13: ignored.", "cocoa prices"),
    ],
)
def test_soft_errors_search_the_words_with_a_notice(text, notice, words):
    parsed = parse_query(text)
    assert parsed.notices == (notice,)
    assert parsed.words == words
    assert parsed.query == parse_query(words).query


@pytest.mark.parametrize("text", ['"', "(", ")", "( )", '"" OR'])
def test_nothing_left_after_forgiving_slips_is_an_error(text):
    with pytest.raises(QueryError, match="no words"):
        parse_query(text)


def test_quoted_brackets_and_fields_are_text():
    parsed = parse_query('"a) foo:bar"')
    assert parsed.notices == ()


def test_describe_dates_and_parsed_json():
    assert describe_dates(date(2011, 3, 1), None) == "since 2011-03-01"
    assert describe_dates(None, date(2011, 6, 30)) == "until 2011-06-30"
    assert describe_dates(date(2011, 3, 1), date(2011, 6, 30)) == "from 2011-03-01 to 2011-06-30"
    assert describe_dates(date(2011, 3, 1), date(2011, 3, 1)) == "on 2011-03-01"
    assert parsed_json(parse_query("in 1987"))["query"] == "*"
    data = parsed_json(parse_query("cocoa in 1987"))
    assert data == {
        "query": str(parse_query("cocoa").query),
        "date_from": "1987-01-01",
        "date_to": "1987-12-31",
        "date_phrase": "in 1987",
        "dates": "from 1987-01-01 to 1987-12-31",
        "words": "cocoa",
    }


def test_newest_date_reads_the_last_day_value():
    assert newest_date(["19870302", "20240620"]) == NEWEST
    assert newest_date([]) is None


@pytest.mark.parametrize("text", ["NOT NOT a", "NOT OR a", "NOT AND headline:x", "NOT ANDMAYBE a"])
def test_operators_in_a_row_are_a_clear_error_not_a_crash(text):
    with pytest.raises(QueryError, match="operators in a row"):
        parse_query(text)


def test_a_query_is_parsed_once_for_the_same_words_languages_and_newest_date(calls_to):
    import search.query

    parsed = calls_to(search.query, "parse_with")
    text = "harbour cranes idle since last week"
    first = parse_query(text, newest=date(2024, 5, 31), languages=["en"])
    assert parse_query(text, newest=date(2024, 5, 31), languages=("en",)) is first
    assert len(parsed) == 1
    later = parse_query(text, newest=date(2024, 6, 30), languages=["en"])
    assert later.date_from != first.date_from and len(parsed) == 2
    in_french = parse_query(text, newest=date(2024, 5, 31), languages=["fr"])
    assert in_french.languages == ("fr",) and len(parsed) == 3
    for _ in range(2):  # an error is raised each time, not remembered as a query
        with pytest.raises(QueryError, match="operators in a row"):
            parse_query("NOT NOT harbour", languages=["en"])
    assert len(parsed) == 5
    long_text = "harbour " * (search.query.CACHED_QUERY_CHARS // 8 + 1)
    assert parse_query(long_text, languages=["en"]) is not parse_query(long_text, languages=["en"])
