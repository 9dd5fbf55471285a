"""Tests for search.furniture: learning site furniture from the corpus, and its use in indexing.

Every article here is fictional, written by the team for these tests.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from search.clean import clean_body, furniture_key, remove_furniture
from search.furniture import (
    FURNITURE_FILE,
    FurnitureLearner,
    LearnedFurniture,
    learn_furniture,
    source_scope,
)
from search.indexer import index_paths
from search.models import Article, Origin, RawRecord, Reject
from search.pipeline import process_batch
from search.readers import read_paths
from search.schema import INDEX_NAME

TOWNS = (
    "Ashby", "Bramford", "Calder", "Dunmore", "Elsworth", "Fenwick", "Garston", "Hollins",
    "Ivybridge", "Juniper Bay", "Kestle", "Larkhill", "Milbrook", "Northam", "Oakhurst",
    "Pemberly", "Quarrendon", "Redmarley", "Stanwick", "Thornbury",
)  # fmt: skip
TOPICS = (
    "approved a new timetable for the harbour ferry after months of complaints from commuters",
    "agreed to repair the flood wall before the spring tides reach the lower town",
    "postponed the vote on the library budget until the auditors report in the autumn",
    "opened a consultation on a second bus lane along the coast road into the centre",
    "voted to keep the swimming pool open through the winter despite higher heating bills",
)


def prose(number: int) -> str:
    """Two paragraphs of real text, different for every article number."""
    town = TOWNS[number % len(TOWNS)]
    topic = TOPICS[number % len(TOPICS)]
    return (
        f"The {town} council {topic}, the clerk said on day {number} of the session.\n\n"
        f"Residents of {town} who spoke at the meeting said the decision was overdue, and "
        f"the leader of the council promised a full report to every household."
    )


def article(number: int, *lines: str, top: str = "") -> str:
    """Prose for ``number`` with ``top`` before it and ``lines`` after it."""
    parts = [top] if top else []
    parts.append(prose(number))
    parts.extend(lines)
    return "\n\n".join(parts)


def learn(bodies: list[str], source: str | None = None, **options) -> LearnedFurniture:
    learner = FurnitureLearner(**options)
    for body in bodies:
        learner.observe(body, source)
    return learner.learned()


APP_LINE = "Get the Harbour Gazette app"


# ------------------------------------------------------------------------- learning


def test_a_line_recurring_in_many_articles_is_learned_and_removed():
    bodies = [article(n, APP_LINE) for n in range(12)]
    learned = learn(bodies, "Harbour Gazette")
    assert furniture_key(APP_LINE) in learned.for_source("Harbour Gazette")
    cleaned = clean_body(bodies[3], learned.for_source("Harbour Gazette"))
    assert cleaned == prose(3)
    assert APP_LINE in clean_body(bodies[3])  # the fixed list alone does not know it


def test_a_sentence_that_recurs_once_is_kept():
    quote = "The ferry will run again on Monday."
    bodies = [article(n) for n in range(20)]
    bodies[4] = article(4, quote)
    bodies[11] = article(11, quote)
    learned = learn(bodies)
    assert len(learned) == 0
    assert quote in clean_body(bodies[11], learned.for_source(None))


def test_a_short_line_in_only_two_articles_is_kept():
    bodies = [article(n) for n in range(3)] + [article(n, "Harbour Notes") for n in (3, 4)]
    assert len(learn(bodies)) == 0


def test_the_minimum_number_of_articles_holds_even_in_a_tiny_corpus():
    # Four articles out of four is every article, but four is not enough evidence.
    assert len(learn([article(n, APP_LINE) for n in range(4)])) == 0
    assert furniture_key(APP_LINE) in learn([article(n, APP_LINE) for n in range(5)]).common


def test_the_share_threshold_grows_with_the_corpus():
    # 8 of 200 articles (4 %) is below the 5 % share; 12 of 200 (6 %) is above it.
    rare = [article(n, APP_LINE if n < 8 else "") for n in range(200)]
    common = [article(n, APP_LINE if n < 12 else "") for n in range(200)]
    assert len(learn(rare)) == 0
    assert learn(common).common == {furniture_key(APP_LINE)}


def test_a_short_sentence_needs_a_larger_share_than_a_template_line():
    sentence = "Police are appealing for witnesses."
    label = "Police appeal"
    bodies = [
        article(n, sentence if n % 10 == 0 else "", label if n % 10 == 1 else "")
        for n in range(100)
    ]
    learned = learn(bodies)  # each on 10 % of the articles
    assert furniture_key(label) in learned.common
    assert furniture_key(sentence) not in learned.common


def test_styled_variants_of_a_line_count_together():
    variants = (APP_LINE, APP_LINE.upper(), f"{APP_LINE} »", f"{APP_LINE}:", f"{APP_LINE}.")
    bodies = [article(n, variants[n % len(variants)]) for n in range(10)]
    learned = learn(bodies)
    assert learned.common == {furniture_key(APP_LINE)}
    for n, body in enumerate(bodies):
        assert clean_body(body, learned.common) == prose(n)


def test_learning_is_per_source():
    # Six articles of one small site carry its line; 200 articles of another site do not.
    # Corpus-wide the line is on 3 % of the articles, too few; within its site it is on all.
    site_line = "Read the Kestle Courier on your phone"
    courier = [article(n, site_line) for n in range(6)]
    herald = [article(n) for n in range(100, 300)]
    learner = FurnitureLearner()
    for body in courier:
        learner.observe(body, "Kestle Courier")
    for body in herald:
        learner.observe(body, "Bramford Herald")
    learned = learner.learned()
    assert learned.common == frozenset()
    assert furniture_key(site_line) in learned.for_source("Kestle Courier")
    assert furniture_key(site_line) in learned.for_source("  KESTLE   courier ")
    assert learned.for_source("Bramford Herald") == frozenset()
    assert learned.for_source(None) == frozenset()


def test_a_line_across_many_sources_is_learned_corpus_wide():
    learner = FurnitureLearner()
    for n in range(40):
        learner.observe(article(n, "Tap to follow this story"), f"Site {n}")
    learned = learner.learned()
    assert learned.common == {"tap to follow this story"}
    assert learned.for_source("Site 3") == learned.common
    assert learned.for_source("A site never seen") == learned.common


@pytest.mark.parametrize(
    "line",
    [
        "Kick-off 3pm",  # a digit: data, not furniture
        "Record April 1",
        "“We will rebuild,” she said.",  # quoted speech
        "By Helena Marsh",  # a byline
    ],
)
def test_lines_that_repeat_for_honest_reasons_are_never_learned(line):
    bodies = [article(n, line) for n in range(30)]
    assert len(learn(bodies)) == 0


def test_pieces_of_hard_wrapped_sentences_are_never_learned():
    # Newswire text wraps at a fixed width, so "the company said." recurs in many articles.
    bodies = [
        f"Harbour Holdings of {TOWNS[n]} expects sales to rise next year,\nthe company said.\n"
        f"Its shares rose on day {n}."
        for n in range(20)
    ]
    learned = learn(bodies)
    assert len(learned) == 0


def test_long_recurring_lines_are_left_to_the_fixed_list():
    note = "Helena Marsh is the Gazette's harbour correspondent and has covered the port for years"
    assert len(learn([article(n, note) for n in range(30)])) == 0


def test_exact_duplicate_articles_count_once():
    assert len(learn([article(1, APP_LINE)] * 10)) == 0


def test_learn_furniture_reads_records_and_skips_rejects(tmp_path):
    write_articles(tmp_path, range(6), APP_LINE)
    (tmp_path / "empty.txt").write_text("")
    items = list(read_paths([tmp_path]))
    assert any(isinstance(item, Reject) for item in items)
    learned = learn_furniture(items)
    assert furniture_key(APP_LINE) in learned.for_source("Harbour Gazette")


def test_memory_stays_bounded_and_frequent_lines_survive():
    learner = FurnitureLearner(max_tracked=50)
    for n in range(400):
        # Every article has a one-off short line, and one in three the site's line.
        lines = [f"Notes from {TOWNS[n % 20]} {TOPICS[n % 5].split()[1]} item {'x' * (n % 7)}"]
        learner.observe(article(n, *lines, APP_LINE if n % 3 == 0 else ""))
        assert len(learner._counts) <= 50
    assert furniture_key(APP_LINE) in learner.learned().common


def test_thresholds_are_validated():
    with pytest.raises(ValueError):
        FurnitureLearner(min_articles=1)


# ------------------------------------------------------------------ learned furniture


def test_json_round_trip_and_union(tmp_path):
    first = LearnedFurniture(frozenset({"get the app"}), {"gazette": frozenset({"gazette extra"})})
    second = LearnedFurniture(
        frozenset({"tap to follow"}), {"courier": frozenset({"courier live"})}
    )
    merged = first.union(second)
    assert merged.common == {"get the app", "tap to follow"}
    assert merged.for_source("Courier") == {"get the app", "tap to follow", "courier live"}
    path = tmp_path / FURNITURE_FILE
    merged.save(path)
    assert LearnedFurniture.load(path) == merged
    assert json.loads(path.read_text())["by_source"]["gazette"] == ["gazette extra"]


def test_a_missing_or_damaged_file_means_no_learned_furniture(tmp_path, caplog):
    assert LearnedFurniture.load(tmp_path / "absent.json") == LearnedFurniture()
    damaged = tmp_path / FURNITURE_FILE
    damaged.write_text('{"version": 1, "common": "not a list"}')
    with caplog.at_level(logging.WARNING, logger="search.furniture"):
        assert LearnedFurniture.load(damaged) == LearnedFurniture()
    assert "ignored" in caplog.text


def test_source_scope():
    assert source_scope(None) == source_scope("") == ""
    assert source_scope("  The   Harbour GAZETTE ") == "the harbour gazette"


def test_a_learned_end_marker_still_removes_the_link_list_after_it():
    body = (
        "The ferry resumed.\n\nRecommended For You\nTen beaches to see this summer\n"
        "Why your cat ignores you"
    )
    learned = frozenset({furniture_key("Recommended For You")})
    assert remove_furniture(body, learned) == "The ferry resumed."
    assert remove_furniture(body) == "The ferry resumed."


def test_have_your_say_prompts_are_fixed_furniture_but_a_sentence_with_them_stays():
    body = "The ferry resumed.\n\nHave your say in the comments below.\n\nHAVE YOUR SAY"
    assert remove_furniture(body) == "The ferry resumed."
    sentence = "Have your say on the timetable at the library until Friday."
    assert remove_furniture(sentence) == sentence


# -------------------------------------------------------------- pipeline and indexer


def test_process_batch_uses_the_furniture_of_each_records_source():
    furniture = LearnedFurniture(frozenset(), {"gazette": frozenset({furniture_key(APP_LINE)})})
    records = [
        RawRecord(Origin("a.txt"), "Ferry resumes", article(1, APP_LINE), source="Gazette"),
        RawRecord(Origin("b.txt"), "Ferry resumes", article(1, APP_LINE), source="Courier"),
    ]
    gazette, courier = process_batch(records, with_entities=False, furniture=furniture)
    assert isinstance(gazette, Article) and isinstance(courier, Article)
    assert APP_LINE not in gazette.body
    assert APP_LINE in courier.body


def write_articles(folder: Path, numbers: range, line: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        text = f"Source: Harbour Gazette\n\nCouncil news {n}\n\n{article(n, line)}\n"
        (folder / f"{n:03d}.txt").write_text(text, encoding="utf-8")


def bodies_in(index_dir: Path) -> dict[str, str]:
    ix = whoosh_index.open_dir(index_dir, indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        return {f["headline"]: f["body"] for f in searcher.reader().all_stored_fields()}


def test_the_indexer_learns_furniture_and_keeps_it_for_later_runs(tmp_path):
    index_dir = tmp_path / "index"
    write_articles(tmp_path / "first", range(8), APP_LINE)
    summary = index_paths([tmp_path / "first"], index_dir, entities=False)
    assert summary.indexed == 8
    bodies = bodies_in(index_dir)
    assert all(APP_LINE not in body for body in bodies.values())
    assert bodies["Council news 2"] == prose(2)
    stored = LearnedFurniture.load(index_dir / FURNITURE_FILE)
    assert furniture_key(APP_LINE) in stored.for_source("Harbour Gazette")

    # Re-reading the same files finds the same furniture: nothing changes.
    again = index_paths([tmp_path / "first"], index_dir, entities=False)
    assert (again.indexed, again.unchanged) == (0, 8)

    # One new article is too few to learn from, but the earlier run's keys still apply.
    write_articles(tmp_path / "second", range(50, 51), APP_LINE)
    later = index_paths([tmp_path / "second"], index_dir, entities=False)
    assert later.indexed == 1
    assert bodies_in(index_dir)["Council news 50"] == prose(50)

    # A rebuild starts afresh: from that one article alone, nothing is learned.
    index_paths([tmp_path / "second"], index_dir, entities=False, rebuild=True)
    assert APP_LINE in bodies_in(index_dir)["Council news 50"]
    assert len(LearnedFurniture.load(index_dir / FURNITURE_FILE)) == 0


def test_the_indexer_can_skip_the_learning_pass(tmp_path):
    write_articles(tmp_path / "in", range(8), APP_LINE)
    index_paths([tmp_path / "in"], tmp_path / "index", entities=False, learn=False)
    assert all(APP_LINE in body for body in bodies_in(tmp_path / "index").values())
