"""Per-language analysis (search.analysis) through the real indexer and searcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import TEXT
from whoosh.support.charset import accent_map

from search.analysis import STEMMED_LANGUAGES, LanguageText, analysing_as, text_analyzer
from search.indexer import index_paths, open_or_create
from search.query import parse_query
from search.schema import INDEX_NAME, LANGUAGE_FIELDS, build_schema, schema_signature
from search.searcher import ArticleIndex, SearchRequest

ARTICLES = [
    {
        "id": "en-marathon",
        "title": "Thousands fill the streets for the city marathon",
        "text": "Thousands of runners were running through the city centre on Sunday as "
        "the annual marathon returned after a two year break. Organisers said local "
        "shops had their busiest day of the year.",
    },
    {
        "id": "en-war",
        "title": "Veterans remember the war",
        "text": "Veterans gathered at the memorial to remember the war and the friends "
        "they saw die on the beaches. Many of them travelled for days to be there.",
    },
    {
        "id": "fr-economie",
        "title": "Le gouvernement présente son plan de relance",
        "text": "Le gouvernement a annoncé hier de nouvelles mesures économiques pour "
        "soutenir les entreprises. Les syndicats ont critiqué ces annonces, jugées "
        "insuffisantes par les économistes de la banque centrale.",
    },
    {
        "id": "fr-greve",
        "title": "Grève des dockers à Marseille",
        "text": "Les dockers du port de Marseille sont en grève depuis lundi pour "
        "protester contre la réforme des retraites. Les navires attendent au large "
        "et les exportations sont bloquées.",
    },
    {
        "id": "de-wohnungen",
        "title": "Die Regierung plant neue Wohnungen",
        "text": "Die Bundesregierung will in den kommenden Jahren tausende neue Häuser "
        "bauen lassen. Die Opposition kritisiert die Pläne als unzureichend und "
        "fordert mehr Wohnungen für Familien mit Kindern.",
    },
    {
        "id": "es-empleo",
        "title": "El gobierno presenta sus políticas de empleo",
        "text": "El gobierno presentó ayer sus nuevas políticas económicas para impulsar "
        "el empleo. Los sindicatos consideran que las medidas llegan tarde y piden más "
        "inversiones públicas en las regiones del sur.",
    },
    {
        "id": "ja-tenki",
        "title": "東京の天気とマラソン",
        "text": "東京では明日雨が降るでしょう。気象庁によると台風が接近しています。"
        "週末の running イベントは中止になりました。",
    },
]
LANGS = {
    "en-marathon": "en",
    "en-war": "en",
    "fr-economie": "fr",
    "fr-greve": "fr",
    "de-wohnungen": "de",
    "es-empleo": "es",
    "ja-tenki": "ja",
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> ArticleIndex:
    folder = tmp_path_factory.mktemp("mixed")
    source = folder / "articles.jsonl"
    source.write_text("".join(json.dumps(article) + "\n" for article in ARTICLES))
    summary = index_paths([source], folder / "ix", entities=False)
    assert summary.indexed == len(ARTICLES)
    return ArticleIndex(folder / "ix")


def found(articles: ArticleIndex, q: str, lang: str = "") -> list[str]:
    response = articles.search(SearchRequest(q=q, lang=lang, per_page=50, collapse=False))
    return sorted(hit["id"] for hit in response["results"])


def indexed(articles: ArticleIndex, article_id: str, field: str = "body") -> set[str]:
    """The terms one article has in a field."""
    searcher = articles.searcher()
    docnum = searcher.document_number(id=article_id)
    reader = searcher.reader()
    return {
        term.decode() if isinstance(term, bytes) else term
        for term in reader.lexicon(field)
        if docnum in set(reader.postings(field, term).all_ids())
    }


def test_each_article_has_its_language(mixed):
    for article_id, lang in LANGS.items():
        assert mixed.article(article_id)["lang"] == lang, article_id


def test_french_is_stemmed_as_french_and_accents_fold(mixed):
    terms = indexed(mixed, "fr-economie")
    assert "econom" in terms  # French stem of "économiques", accents folded
    assert "economiqu" not in terms  # what the English stemmer made of it
    assert "fr-economie" in found(mixed, "économique")
    assert "fr-economie" in found(mixed, "economique")  # typed without accents
    assert found(mixed, "economique", lang="fr") == ["fr-economie"]
    # A participle with accents conflates with its unaccented forms both ways round.
    assert "fr-economie" in found(mixed, "jugée")
    assert "fr-economie" in found(mixed, "jugee")
    assert "fr-greve" in found(mixed, "greve") and "fr-greve" in found(mixed, "grèves")


def test_english_query_finds_english_articles_in_the_mixed_index(mixed):
    assert found(mixed, "runs") == ["en-marathon"]
    assert found(mixed, "running") == ["en-marathon", "ja-tenki"]  # ja has it unstemmed
    # "the" is an English stop word but a word in the other languages: it must not
    # keep English articles out when all words are required.
    assert found(mixed, "the runners marathon") == ["en-marathon"]
    response = mixed.search(SearchRequest(q="the runners marathon"))
    assert "notice" not in response  # found with all words, not relaxed to any
    assert found(mixed, "veterans remember the war") == ["en-war"]


def test_a_stop_word_of_one_language_is_a_word_of_another(mixed):
    # German stop words "war" and "die" are indexed in the English article...
    assert {"war", "die"} <= indexed(mixed, "en-war")
    assert found(mixed, "war") == ["en-war"]
    # ...and not in the German one, where "Regierung" is still found after "Die".
    assert not {"die", "und", "für", "fur"} & indexed(mixed, "de-wohnungen")
    assert "de-wohnungen" in found(mixed, "die Regierung")
    assert found(mixed, '"die Regierung"') == ["de-wohnungen"]
    # French stop words are out of the French articles, English ones out of English.
    assert not {"avec", "et", "sont", "ont", "ces"} & indexed(mixed, "fr-economie")
    assert not {"the", "of", "and", "to"} & indexed(mixed, "en-war")


def test_a_phrase_that_loses_a_stop_word_in_one_language_stays_in_that_language(mixed):
    # In German "die" goes, and the phrase is "Regierung" alone: only in German articles.
    parsed = parse_query('"die hard"', languages=("de", "en")).query
    assert any(isinstance(leaf, wq.Term) and leaf.fieldname == "lang" for leaf in parsed.leaves())
    assert found(mixed, '"the war"') == ["en-war"]


def test_lang_filter_stems_in_that_language_only(mixed):
    parsed = parse_query("mesures", languages=("fr",)).query
    assert {leaf.text for leaf in parsed.leaves()} == {"mesur"}
    words = {
        languages: {
            leaf.text for leaf in parse_query("economique", languages=languages).query.leaves()
        }
        for languages in (("fr",), ("en",), ("en", "fr"))
    }
    assert words[("fr",)] == {"econom"} and words[("en",)] == {"economiqu"}
    assert words[("en", "fr")] == {"econom", "economiqu"}  # each word: any of its stems
    assert found(mixed, "mesures", lang="fr") == ["fr-economie"]
    # lang: in the query narrows the languages as the filter does.
    by_query = parse_query("lang:fr mesures", languages=("de", "en", "fr"))
    assert by_query.languages == ("fr",)
    assert found(mixed, "lang:fr mesures") == ["fr-economie"]
    response = mixed.search(SearchRequest(q="economique", lang="fr"))
    assert (
        response["parsed"]["query"].count("econom")
        and "economiqu" not in (response["parsed"]["query"])
    )


def test_unsupported_language_is_indexed_unstemmed(mixed):
    terms = indexed(mixed, "ja-tenki")
    assert "running" in terms and "run" not in terms  # never the English stemmer
    assert found(mixed, "running", lang="ja") == ["ja-tenki"]
    assert "ja-tenki" in found(mixed, "running")
    assert found(mixed, "気象庁によると台風が接近しています") == ["ja-tenki"]  # its exact word


def test_default_languages_keep_english_analysis():
    parsed = parse_query("running prices").query
    assert {leaf.text for leaf in parsed.leaves()} == {"run", "price"}
    assert parse_query("running").languages == ("en",)


def test_stored_text_is_a_plain_str(mixed):
    searcher = mixed.searcher()
    fields = searcher.stored_fields(searcher.document_number(id="fr-economie"))
    assert type(fields["headline"]) is str and type(fields["body"]) is str


def test_french_words_are_marked_in_snippets_and_the_article_page(mixed):
    response = mixed.search(SearchRequest(q="economique"))
    hit = next(hit for hit in response["results"] if hit["id"] == "fr-economie")
    assert "<mark>économiques</mark>" in hit["snippet"]
    # A headline-only match is highlighted by analysing the headline again, as French.
    response = mixed.search(SearchRequest(q="headline:relance"))
    assert "<mark>relance</mark>" in response["results"][0]["snippet"]
    article = mixed.article("fr-economie")
    html = "".join(mixed.article_html(article, "jugee", lambda kind, name: "#"))
    assert "<mark>jugées</mark>" in html


def test_related_articles_of_a_french_article_use_french_stems(mixed):
    searcher = mixed.searcher()
    docnum = searcher.document_number(id="fr-greve")
    with analysing_as("fr"):
        terms = {word for word, _ in searcher.key_terms([docnum], "body", numterms=20)}
    assert terms <= indexed(mixed, "fr-greve")
    mixed.related("fr-greve")  # runs without error


def test_analysis_follows_the_text_language():
    analyzer = text_analyzer()
    french = [token.text for token in analyzer(LanguageText("Les économistes", "fr"))]
    english = [token.text for token in analyzer("The economists")]
    assert french == ["le", "econom"] and english == ["economist"]
    with analysing_as("de"):
        assert [token.text for token in analyzer("die Häuser")] == ["haus"]
    assert [token.text for token in analyzer(LanguageText("Running", "und"))] == ["running"]
    # Every language Whoosh has a stemmer for stems, Arabic too (Whoosh's ISRI, fixed).
    for lang in STEMMED_LANGUAGES:
        assert list(analyzer(LanguageText("testing words", lang)))
    arabic = [token.text for token in analyzer(LanguageText("الحكومة تعلن إجراءات جديدة", "ar"))]
    assert arabic == ["حكم", "تعل", "جرء", "جدد"]


def test_every_language_text_field_is_analysed_by_language():
    schema = build_schema()
    for name in LANGUAGE_FIELDS:
        assert isinstance(schema[name], TEXT)
        items = schema[name].analyzer.items
        assert type(items[0]).__name__ == "LanguageTokenizer"


def test_an_index_analysed_the_old_way_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    old_analyzer = (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter()
        | StemFilter(lang="en")
    )
    old = build_schema()
    for name in LANGUAGE_FIELDS:
        stored = old[name].stored
        old.remove(name)
        old.add(
            name, TEXT(stored=stored, analyzer=old_analyzer, chars=name in ("headline", "body"))
        )
    (tmp_path / "ix").mkdir()
    whoosh_index.create_in(tmp_path / "ix", old, indexname=INDEX_NAME)
    assert schema_signature(old) != schema_signature(build_schema())
    kept = open_or_create(tmp_path / "ix")  # without --rebuild it is left as it is
    assert schema_signature(kept.schema) == schema_signature(old)
    assert "--rebuild" in caplog.text
    ix = open_or_create(tmp_path / "ix", rebuild=True)
    assert schema_signature(ix.schema) == schema_signature(build_schema())
