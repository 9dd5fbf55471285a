import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import main
from tests.conftest import REPO, SAMPLES


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_every_command_has_help(runner):
    for command in main.commands.values():
        assert command.help, f"{command.name} has no help text"
        result = runner.invoke(main, [command.name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_index_then_search(runner, tmp_path):
    target = str(tmp_path / "ix")
    result = runner.invoke(main, ["index", str(SAMPLES), "--index", target, "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "read 42, indexed 39, unchanged 0, duplicates 2, rejected 1" in result.output
    again = runner.invoke(main, ["index", str(SAMPLES), "--index", target])
    assert "read 42, indexed 0, unchanged 39, duplicates 2, rejected 1" in again.output

    plain = runner.invoke(main, ["search", "cocoa", "--index", target, "--limit", "2"])
    assert plain.exit_code == 0 and plain.output.startswith("3 articles match")
    assert "<mark>" not in plain.output

    as_json = runner.invoke(main, ["search", "cocoa", "--index", target, "--json"])
    data = json.loads(as_json.output)
    assert data["total"] == 3 and data["results"][0]["snippet"]


def test_search_options_map_to_filters(runner, sample_index):
    target = str(sample_index[0])
    args = [
        "search",
        "*",
        "--index",
        target,
        "--json",
        "--lang",
        "de",
        "--sort",
        "newest",
        "--from",
        "2023-01-01",
        "--to",
        "2024-12-31",
        "--limit",
        "100",
    ]
    data = json.loads(runner.invoke(main, args).output)
    assert data["filters"] == {"lang": "de", "from": "2023-01-01", "to": "2024-12-31"}
    assert data["results"] and all(hit["lang"] == "de" for hit in data["results"])


def test_index_location_from_environment(runner, sample_index, monkeypatch):
    monkeypatch.setenv("NEWSEARCH_INDEX", str(sample_index[0]))
    result = runner.invoke(main, ["search", "Hochwasser"])
    assert result.exit_code == 0 and result.output.startswith("2 articles match")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "/no/such/path"], "No such file or folder"),
        (["search", "cocoa", "--index", "/no/such/index"], "There is no index"),
        (["search", "cocoa", "--from", "March"], "is not a date"),
        (["search", "cocoa", "--sort", "random"], "Invalid value for '--sort'"),
    ],
)
def test_clear_errors_and_nonzero_exit(runner, args, message):
    result = runner.invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_query_is_an_error_message(runner, sample_index):
    result = runner.invoke(main, ["search", "AND", "--index", str(sample_index[0])])
    assert result.exit_code == 1 and "no words to search for" in result.output


def test_indexing_script_wraps_the_same_command(tmp_path):
    script = REPO / "scripts" / "index_articles.py"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened on Monday.\n")
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            str(folder),
            "--index",
            str(tmp_path / "ix"),
            "--no-entities",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "read 1, indexed 1, unchanged 0, duplicates 0, rejected 0" in result.stdout
    assert Path(tmp_path / "ix" / "rejects.jsonl").read_text() == ""
