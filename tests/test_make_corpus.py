"""Tests for scripts/make_corpus.py (the scale series' synthetic corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts._scripts import load_script

make_corpus = load_script("make_corpus")

BODY = (
    "The harbour authority said on Monday that cargo volumes rose sharply. "
    "Dock workers had threatened a strike over the new shift patterns. "
    "Officials expect the dispute to end before the holiday season begins. "
    "Shipping lines warned that delays could spread to other ports nearby."
)


def bbc_folder(tmp_path: Path, articles: int = 3) -> Path:
    topic = tmp_path / "data" / "bbc" / "bbc" / "business"
    topic.mkdir(parents=True)
    for number in range(articles):
        (topic / f"{number:03}.txt").write_text(f"Harbour story {number}\n\n{BODY}\n")
    return tmp_path / "data"


def test_same_seed_same_corpus(tmp_path: Path) -> None:
    data = bbc_folder(tmp_path)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (first, second):
        assert make_corpus.main([str(out), "--articles", "20", "--data", str(data)]) == 0
    assert first.read_bytes() == second.read_bytes()
    lines = [json.loads(line) for line in first.read_text().splitlines()]
    assert len(lines) == 20
    assert {"id", "headline", "body", "date", "source"} <= set(lines[0])
    assert not list(tmp_path.glob("*.partial"))


def test_no_source_data_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "corpus.jsonl"
    with pytest.raises(SystemExit) as stopped:
        make_corpus.main([str(out), "--articles", "5", "--data", str(tmp_path / "nothing")])
    assert stopped.value.code == 2
    assert "no Reuters-21578, BBC or Wikinews articles under" in capsys.readouterr().err
    # bench_scale reuses a corpus file that exists: a failed run must not leave one.
    assert not out.exists()
