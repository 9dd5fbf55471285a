"""Reject codes: every rejected record names one of a fixed set, and runs count them."""

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import main
from search.indexer import index_paths
from search.models import REJECT_CODES, Origin, Reject
from search.readers import read_paths


def bad_inputs(folder: Path) -> Path:
    """One file or record for each reason a reader can give."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.txt").write_text("   \n")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (folder / "notes.md").write_text("# not an article")
    (folder / "no-article.html").write_text("<html><body></body></html>")
    (folder / "cut.jsonl.gz").write_bytes(gzip.compress(b'{"title": "x"}\n' * 50)[:30])
    (folder / "feed.jsonl").write_text(
        '{"id": "ok", "title": "Harbour cranes idle", "text": "Crane operators stopped."}\n'
        "{broken\n"
        "[1, 2]\n"
        '{"id": "blank", "title": "", "text": ""}\n'
    )
    return folder


def test_every_reader_reject_has_a_code_from_the_fixed_set(tmp_path):
    codes = {
        (Path(item.origin.path).name, item.origin.line): item.code
        for item in read_paths([bad_inputs(tmp_path)])
        if isinstance(item, Reject)
    }
    assert codes == {
        ("binary.txt", None): "not_text",
        ("cut.jsonl.gz", None): "malformed",
        ("empty.txt", None): "empty",
        ("feed.jsonl", 2): "malformed",
        ("feed.jsonl", 3): "malformed",
        ("feed.jsonl", 4): "empty",
        ("no-article.html", None): "no_article_text",
        ("notes.md", None): "unsupported_type",
    }


def test_a_code_outside_the_set_is_refused():
    with pytest.raises(ValueError, match="unknown reject code"):
        Reject(Origin("a.txt"), "malformed", "no headline")  # reason and code swapped
    assert set(REJECT_CODES) >= {"empty", "not_text", "malformed", "duplicate_id"}


def test_rejects_file_and_summary_count_by_code(tmp_path):
    source = bad_inputs(tmp_path / "in")
    (source / "again.jsonl").write_text(
        '{"id": "ok", "title": "Other story", "text": "Different words entirely."}\n'
    )
    summary = index_paths([source], tmp_path / "ix", entities=False)
    assert summary.line() == "read 10, indexed 1, unchanged 0, duplicates 0, rejected 9"
    assert dict(summary.rejected_by_code) == {
        "duplicate_id": 1,
        "empty": 2,
        "malformed": 3,
        "no_article_text": 1,
        "not_text": 1,
        "unsupported_type": 1,
    }
    lines = (tmp_path / "ix" / "rejects.jsonl").read_text().splitlines()
    rejects = [json.loads(line) for line in lines]
    assert all(set(r) == {"path", "line", "row", "code", "reason"} for r in rejects)
    [duplicate] = [r for r in rejects if r["code"] == "duplicate_id"]
    assert "already used in this run" in duplicate["reason"]
    assert summary.reasons_line() == (
        "rejected by reason: malformed 3, empty 2, duplicate_id 1, no_article_text 1, "
        "not_text 1, unsupported_type 1"
    )


def test_cli_prints_the_reasons_after_the_unchanged_summary_line(tmp_path):
    source = bad_inputs(tmp_path / "in")
    result = CliRunner().invoke(
        main, ["index", str(source), "--index", str(tmp_path / "ix"), "--no-entities"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("read "))
    assert lines[summary].startswith("read 9, indexed 1, unchanged 0, duplicates 0, rejected 8 in ")
    assert lines[summary + 1] == (
        "rejected by reason: malformed 3, empty 2, no_article_text 1, not_text 1, "
        "unsupported_type 1"
    )


def test_no_reasons_line_without_rejects(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Headline\n\nA body of text.\n")
    result = CliRunner().invoke(
        main, ["index", str(tmp_path / "in"), "--index", str(tmp_path / "ix"), "--no-entities"]
    )
    assert result.exit_code == 0, result.output
    assert "rejected by reason" not in result.output
