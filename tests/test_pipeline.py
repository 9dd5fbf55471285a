from datetime import datetime

from search.models import Article, Origin, RawRecord, Reject
from search.pipeline import process_batch, process_record

POLLUTED = """Harbour cranes stand idle as Lisbon dock strike enters third day

LISBON, March 4, 2024 — Crane operators at the Port of Lisbon stayed off work for a third day on Wednesday, leaving container ships waiting in the Tagus estuary.

Advertisement

“We will not go back until the operators talk to us,” said union leader Marta Sousa, speaking outside the terminal gates.

Share this article

Image copyright Getty Images

The port authority said talks with the union would resume on Friday.

View Comments
Recommended For You
Organic Right Rail Article Thumbnails
People Also Read.
Ten beaches you must see this summer
Celebrity chef opens new restaurant in Porto
Why your cat ignores you
"""  # a fictional article written for this test


def record(headline: str, body: str, **fields) -> RawRecord:
    return RawRecord(origin=Origin("test.txt"), headline=headline, body=body, **fields)


def test_furniture_polluted_article_comes_out_clean_and_understood():
    headline, _, body = POLLUTED.partition("\n\n")
    [article] = process_batch([record(headline, body)])
    assert isinstance(article, Article)
    assert article.headline.startswith("Harbour cranes stand idle")
    for furniture in (
        "Advertisement",
        "Share this article",
        "Getty",
        "View Comments",
        "Recommended",
        "People Also Read",
        "Celebrity chef",
        "cat ignores",
    ):
        assert furniture not in article.body
    for sentence in (
        "Crane operators at the Port of Lisbon",
        "“We will not go back",
        "talks with the union would resume on Friday.",
    ):
        assert sentence in article.body
    assert article.lang == "en"
    assert article.date == datetime(2024, 3, 4) and not article.date_has_time
    assert "Marta Sousa" in article.entities["person"]
    assert "Lisbon" in article.entities["place"]


def test_metadata_date_wins_and_keeps_time():
    article = process_record(record("Budget vote", "The council voted.", date="2024-03-05T14:30Z"))
    assert article.date == datetime(2024, 3, 5, 14, 30) and article.date_has_time
    assert article.to_json()["date"] == "2024-03-05T14:30:00"


def test_unreadable_and_future_dates_stay_unknown_with_a_warning():
    unreadable = process_record(record("Vote", "The council voted.", date="sometime soon"))
    future = process_record(record("Vote", "The council voted.", date="2999-01-01"))
    assert unreadable.date is None and "could not be read" in unreadable.warnings[0]
    assert future.date is None and "implausible" in future.warnings[0]


def test_no_date_is_invented():
    article = process_record(record("Storm hits coast", "Heavy rain fell on Monday, March 4."))
    assert article.date is None and article.warnings == []


def test_headline_comes_from_the_body_when_missing():
    article = process_record(record("", "Fishermen protest quotas. More text follows here."))
    assert article.headline == "Fishermen protest quotas."
    assert article.warnings == ["no headline: the start of the body stands in for it"]


def test_text_that_cleans_to_nothing_is_rejected():
    [reject] = process_batch([record("  ", "Advertisement\n\nView Comments\nShare this article")])
    assert isinstance(reject, Reject) and reject.reason == "no text left after cleaning"


def test_entities_only_for_languages_with_a_model():
    german = record(
        "Hochwasser in Köln",
        "Der Rhein ist in Köln über die Ufer getreten, die Altstadt wurde gesperrt, "
        "sagte Oberbürgermeisterin Petra Lindner am Montag.",
    )
    [article] = process_batch([german])
    assert article.lang == "de"
    assert all(not names for names in article.entities.values())
    assert article.entities_status == "no entity model for language 'de'"


def test_entities_can_be_switched_off():
    [article] = process_batch(
        [record("Mayor visits Paris", "Anne Hidalgo met reporters.")], with_entities=False
    )
    assert article.entities["person"] == [] and "switched off" in article.entities_status


def test_same_story_has_same_hash_whatever_the_spacing_or_case():
    one = process_record(record("Port Strike Ends", "Workers  returned.\n\nShips moved."))
    two = process_record(record("port strike ends", "Workers returned.\nShips moved."))
    assert one.content_hash == two.content_hash
