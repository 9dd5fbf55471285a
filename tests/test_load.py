"""The load test's short CI variant: normal and hostile requests against `newsearch serve`.

The full run (20 clients, 60 s) is ``scripts/load_test.py --index DIR``; this one proves
on the sample index that the mix gives zero 5xx and leaves every worker answering.
"""

from __future__ import annotations

import json
from pathlib import Path

from scripts._scripts import load_script
from search.indexer import IndexSummary


def test_a_short_hostile_load_gives_no_server_errors(
    sample_index: tuple[Path, IndexSummary], tmp_path: Path
) -> None:
    out = tmp_path / "load.json"
    argv = ["--index", str(sample_index[0]), "--clients", "6", "--seconds", "4"]
    assert (
        load_script("load_test").main(
            [*argv, "--threads", "4", "--hostile", "0.5", "--json", str(out)]
        )
        == 0
    )
    figures = json.loads(out.read_text())
    assert figures["requests"] > 0 and figures["hostile_ms"]["n"] > 0
    assert not any(code.startswith("5") for code in figures["statuses"])
    assert figures["statuses"].get("400", 0) > 0  # the hostile share really was refused
    assert figures["every_worker_answers_after"]
