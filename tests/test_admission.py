"""Search turns (search/admission.py): how many searches run at once, and the answer when
none can start in time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from search.admission import Turns
from search.errors import Busy
from search.searcher import ArticleIndex, SearchRequest


@contextmanager
def held_elsewhere(turns: Turns) -> Iterator[None]:
    """A turn taken by another thread for as long as the block runs."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with turns.turn():
            taken.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        done.set()
        holder.join(10)


def test_at_most_the_given_number_run_at_once() -> None:
    turns = Turns(2, wait_seconds=10)
    running, peak = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with turns.turn():
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.02)
            with lock:
                running -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak == 2


def test_a_thread_in_a_turn_goes_on_without_a_second() -> None:
    turns = Turns(1, wait_seconds=0.05)
    with turns.turn(), turns.turn():
        pass
    with turns.turn():  # both levels let go: the one turn is free again
        pass


def test_no_turn_in_time_is_busy_and_a_freed_turn_is_taken() -> None:
    turns = Turns(1, wait_seconds=0.05)
    with held_elsewhere(turns), pytest.raises(Busy, match="busy"), turns.turn():
        pass
    with turns.turn():
        pass


def test_a_freed_turn_goes_to_the_search_waiting_longest() -> None:
    """The thread that frees a turn and asks again at once comes after those waiting."""
    turns = Turns(1, wait_seconds=5)
    order: list[str] = []

    def waiter(name: str) -> None:
        with turns.turn():
            order.append(name)

    def queued(count: int) -> None:  # wait until ``count`` searches wait for a turn
        deadline = time.monotonic() + 5
        while len(turns._waiting) < count and time.monotonic() < deadline:
            time.sleep(0.001)
        assert len(turns._waiting) == count

    waiters = [threading.Thread(target=waiter, args=(name,)) for name in ("first", "second")]
    with turns.turn():
        for number, thread in enumerate(waiters, start=1):
            thread.start()
            queued(number)
    with turns.turn():  # asked again at once, behind both
        order.append("again")
    for thread in waiters:
        thread.join()
    assert order == ["first", "second", "again"]


def test_a_failing_search_gives_its_turn_back() -> None:
    turns = Turns(1, wait_seconds=0.05)
    with pytest.raises(RuntimeError), turns.turn():
        raise RuntimeError("boom")
    with turns.turn():
        pass


def test_at_least_one_turn() -> None:
    with pytest.raises(ValueError):
        Turns(0, wait_seconds=1)


def test_searches_of_one_index_run_one_at_a_time(
    sample_index: tuple[Path, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = ArticleIndex(sample_index[0])
    running, peak = 0, 0
    lock = threading.Lock()
    match = ArticleIndex.match

    def slow_match(self: ArticleIndex, *args: object, **kwargs: object) -> object:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        try:
            return match(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(ArticleIndex, "match", slow_match)
    results: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(articles.search(SearchRequest(q="harbour"))["total"])
        )
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert peak == 1
    assert len(results) == 6 and len(set(results)) == 1 and results[0] > 0


def test_busy_is_a_503_with_retry_after(client: FlaskClient) -> None:
    articles: ArticleIndex = client.application.extensions["article_index"]
    articles.turns = Turns(1, wait_seconds=0.05)
    with held_elsewhere(articles.turns):
        answer = client.get("/api/search?q=harbour")
        page = client.get("/search?q=harbour")
        health = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.json["error"]["code"] == "busy"
    assert "Try again" in answer.json["error"]["message"]
    assert page.status_code == 503 and b"busy" in page.data
    assert health.status_code == 200  # not a search: answered while every turn is taken
    assert client.get("/api/search?q=harbour").status_code == 200
