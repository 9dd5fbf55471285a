"""Tests for scripts/import_reuters21578.py (Reuters-21578 SGML -> JSON lines)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "import_reuters21578.py"
FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "reuters"
FIXTURE = FIXTURE_DIR / "reut2-000.sgm"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_reuters21578", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


importer = _load_script()


# --- shared data (to move to conftest.py) -------------------------------------------------


def shared_data_dir() -> Path:
    """The shared data folder: $NEWSEARCH_SHARED_DATA, else shared/data beside the repo."""
    override = os.environ.get("NEWSEARCH_SHARED_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def require_shared_data(name: str) -> Path:
    """The folder of one shared data set; skip when absent, but fail on CI."""
    path = shared_data_dir() / name
    if not path.is_dir():
        reason = (
            f"shared data set {name!r} not found at {path} "
            "(set NEWSEARCH_SHARED_DATA to the folder that holds it)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so missing data is an error")
        pytest.skip(reason)
    return path


# --- the team-written fixture ---------------------------------------------------------------

EXPECTED_FIXTURE = [
    {
        "id": "reuters-1",
        "headline": "<ACME GRAIN CO> SAYS WHEAT & CORN SALES ROSE",
        "body": "<Acme Grain Co> said its wheat & corn\n"
        "sales rose 12 pct in February, helped by demand from Z\u00fcrich.\n"
        "    The company said prices were  steady at 3.10 dlrs a bushel.",
        "date": "2-MAR-1987 09:15:00.00",
        "places": ["usa", "canada"],
        "people": [],
        "orgs": ["ec"],
        "exchanges": [],
        "topics": ["grain", "wheat"],
        "source": "Reuters",
        "lewissplit": "TRAIN",
        "oldid": "901",
    },
    {
        "id": "reuters-2",
        "headline": "LAWSON SAYS STERLING STABLE\nAGAINST MARK",
        "body": "",
        "date": "2-MAR-1987 09:20:11.42&#5;&#5;&#5;RM",
        "places": ["uk"],
        "people": ["lawson"],
        "orgs": [],
        "exchanges": ["lse"],
        "topics": [],
        "source": "Reuters",
        "lewissplit": "TEST",
        "oldid": "902",
    },
    {
        "id": "reuters-3",
        "headline": "",
        "body": "NEWSEARCH WEEKLY FIGURES - MAR 2\n"
        "    Week ended Feb 27          mlns\n"
        " Stocks.................1,234 vs.....1,200",
        "date": "2-MAR-1987  09:25:30.00",
        "places": [],
        "people": [],
        "orgs": [],
        "exchanges": [],
        "topics": [],
        "source": "Reuters",
        "lewissplit": "NOT-USED",
        "oldid": "903",
    },
]


def test_fixture_keeps_the_latin1_quirk():
    data = FIXTURE.read_bytes()
    assert b"\xfc" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_iter_documents_on_fixture_exactly():
    assert list(importer.iter_documents(FIXTURE)) == EXPECTED_FIXTURE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Net profit rose.\n Reuter\n&#3;", "Net profit rose."),
        ("Net profit rose.\n REUTER\n&#3;", "Net profit rose."),
        ("Net profit rose.\n reuter\n&#3;", "Net profit rose."),
        ("Net profit rose.\nREUTER...^M\n&#3;", "Net profit rose."),
        ("Net profit rose. REUTER\n&#3;", "Net profit rose."),
        ("Net profit rose.\n REUTER TAW\n&#3;", "Net profit rose."),
        ("Net profit rose.\n Reuter4\n&#3;", "Net profit rose."),
        ("Net profit rose.\nREUTER\n Reuter\n&#3;", "Net profit rose."),
        ("the spokesman told Reuters.\n Reuter\n&#3;", "the spokesman told Reuters."),
        ("the spokesman told Reuters.\n&#3;", "the spokesman told Reuters."),
        ("Continued on next page.\n More\n&#3;", "Continued on next page.\n More"),
        (
            "A &lt;B> &amp; C&#127;\n  indented   line\n Reuter\n&#3;",
            "A <B> & C\n  indented   line",
        ),
    ],
)
def test_clean_body(raw, expected):
    assert importer.clean_body(raw) == expected


def test_convert_writes_utf8_json_lines_in_file_order(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    text = FIXTURE.read_text(encoding="latin-1")
    later = text.replace('NEWID="1"', 'NEWID="4"').replace('NEWID="2"', 'NEWID="5"')
    later = later.replace('NEWID="3"', 'NEWID="6"')
    (src / "reut2-001.sgm").write_text(later, encoding="latin-1")
    (src / "reut2-000.sgm").write_text(text, encoding="latin-1")
    (src / "README.txt").write_text("not a data file\n", encoding="ascii")
    out = tmp_path / "out" / "reuters.jsonl"

    assert importer.convert(src, out) == 6

    lines = out.read_bytes().decode("utf-8").splitlines()
    documents = [json.loads(line) for line in lines]
    assert [d["id"] for d in documents] == [f"reuters-{n}" for n in range(1, 7)]
    assert documents[:3] == EXPECTED_FIXTURE
    assert "Z\u00fcrich" in lines[0]  # written as UTF-8, not as a \u escape
    assert not list(out.parent.glob("*.partial"))


def test_convert_without_sgm_files_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        importer.convert(tmp_path, tmp_path / "out.jsonl")


def test_unclosed_element_is_an_error(tmp_path):
    text = FIXTURE.read_text(encoding="latin-1")
    cut = text[: text.rindex("</REUTERS>")]
    broken = tmp_path / "reut2-000.sgm"
    broken.write_text(cut, encoding="latin-1")
    with pytest.raises(ValueError, match="3 <REUTERS> tags but 2 complete elements"):
        list(importer.iter_documents(broken))


def test_command_line(tmp_path):
    out = tmp_path / "reuters.jsonl"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(FIXTURE_DIR), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    summary = run.stderr.strip()
    assert "\n" not in summary
    assert summary.startswith("read 1 files, wrote 3 documents")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_command_line_help():
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0
    assert "reut2-*.sgm" in run.stdout
    assert "SRC_DIR" in run.stdout.upper()


# --- the real collection ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def reuters_documents(tmp_path_factory):
    src = require_shared_data("reuters21578")
    out = tmp_path_factory.mktemp("reuters") / "reuters.jsonl"
    count = importer.convert(src, out)
    documents = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert count == len(documents)
    return {document["id"]: document for document in documents}, documents


@pytest.mark.integration
def test_real_collection_count_and_ids(reuters_documents):
    by_id, documents = reuters_documents
    assert len(documents) == 21_578
    assert len(by_id) == 21_578
    # Files hold the documents in NEWID order, 1 .. 21578.
    assert [d["id"] for d in documents] == [f"reuters-{n}" for n in range(1, 21_579)]


@pytest.mark.integration
def test_real_collection_cocoa_story(reuters_documents):
    by_id, _ = reuters_documents
    cocoa = by_id["reuters-1"]
    assert cocoa["headline"] == "BAHIA COCOA REVIEW"
    assert cocoa["topics"] == ["cocoa"]
    assert cocoa["places"] == ["el-salvador", "usa", "uruguay"]
    assert cocoa["date"] == "26-FEB-1987 15:01:01.79"
    assert cocoa["lewissplit"] == "TRAIN"
    assert cocoa["oldid"] == "5544"
    assert cocoa["body"].startswith("Showers continued throughout the week in\nthe Bahia cocoa")
    assert cocoa["body"].endswith("carnival which ends midday on February 27.")


@pytest.mark.integration
def test_real_collection_bodies_and_fields(reuters_documents):
    _, documents = reuters_documents
    with_body = [d for d in documents if d["body"]]
    # 19,043 BODY elements + 737 UNPROC texts; the 1,798 BRIEFs have a title only.
    assert len(with_body) >= 19_700
    assert sum(1 for d in documents if d["headline"]) == 20_841
    for document in documents:
        text = document["headline"] + document["body"]
        assert "\x03" not in text and "&lt;" not in text and "&#" not in text
        assert not document["body"].rstrip().endswith(("Reuter", "REUTER", "reuter"))
        assert document["date"] and document["date"] == document["date"].strip()
        assert document["source"] == "Reuters"
    # Category counts as documented in PROVENANCE.md.
    assert sum(1 for d in documents if d["topics"]) == 11_367
    assert sum(1 for d in documents if d["places"]) == 18_798
    assert sum(1 for d in documents if d["people"]) == 1_156
    assert sum(1 for d in documents if d["orgs"]) == 881
    assert sum(1 for d in documents if d["exchanges"]) == 482
    splits = [d["lewissplit"] for d in documents]
    assert (splits.count("TRAIN"), splits.count("TEST"), splits.count("NOT-USED")) == (
        14_668,
        6_188,
        722,
    )
