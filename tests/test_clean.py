"""Tests for search.clean: mojibake, Unicode and whitespace, and site furniture."""

from __future__ import annotations

import re
import unicodedata

import ftfy
import pytest
from ftfy import badness
from hypothesis import given, settings
from hypothesis import strategies as st

from search import clean
from search.clean import (
    clean_body,
    clean_headline,
    clean_text,
    furniture_key,
    remove_furniture,
)

# A team-written, fictional article with the furniture scrapers typically leave in.
POLLUTED_ARTICLE = (
    "Mayor opens new bridge\n"
    "\n"
    "The mayor opened the bridge on Monday.\n"
    "\n"
    "Advertisement\n"
    "\n"
    "Traffic is expected to ease. Share this article\n"
    "\n"
    "View Comments\n"
    "Recommended For You\n"
    "Organic Right Rail Article Thumbnails\n"
    "People Also Read.\n"
    "Five things to know about bridges\n"
    "Celebrity chef opens restaurant\n"
)


def test_polluted_article_keeps_both_sentences_and_nothing_else():
    assert clean_body(POLLUTED_ARTICLE) == (
        "Mayor opens new bridge\n\nThe mayor opened the bridge on Monday.\n\n"
        "Traffic is expected to ease."
    )


def test_longer_polluted_article():
    body = (
        "Skip to main content\n"
        "Listen to this article\n"
        "Harbour town votes to restore its lighthouse\n"
        "\n"
        "Image copyright Getty Images\n"
        "Image caption The lighthouse has been dark since 1998\n"
        "\n"
        "Residents of Port Alder voted on Sunday to restore the town’s lighthouse, "
        "ending a ten-year argument about its cost.\n"
        "\n"
        "Read more: Coastal towns count the cost of storms\n"
        "\n"
        "“It is the symbol of this town,” said Ana Ruiz, who led the campaign.\n"
        "Story continues below advertisement\n"
        "The work will take two years.\n"
        "\n"
        "Follow us on Twitter and Facebook\n"
        "Copyright 2024 Some Media. All rights reserved.\n"
        "\n"
        "Most Read\n"
        "Storm closes ferry route\n"
        "Council approves budget\n"
    )
    assert clean_body(body) == (
        "Harbour town votes to restore its lighthouse\n"
        "\n"
        "Residents of Port Alder voted on Sunday to restore the town’s lighthouse, "
        "ending a ten-year argument about its cost.\n"
        "\n"
        "“It is the symbol of this town,” said Ana Ruiz, who led the campaign.\n"
        "The work will take two years."
    )


# ------------------------------------------------------------------------ clean_text


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("She donâ€™t know.", "She don’t know."),
        ("The cafÃ© opened.", "The café opened."),
        ("The cafÃ© owner said she didnâ€™t know.", "The café owner said she didn’t know."),
        ("cafÃƒÂ©", "café"),  # encoded twice
        ("â€œQuotedâ€\x9d", "“Quoted”"),
        ("Ð\x9fÑ\x80Ð¸Ð²ÐµÑ\x82", "Привет"),
        ("Wait\x85 what", "Wait… what"),  # a Windows-1252 ellipsis read as Latin-1
        ("ﬁne", "fine"),
        ("ＡＢＣ １２３", "ABC 123"),
    ],
)
def test_mojibake_is_fixed(raw, fixed):
    assert clean_text(raw) == fixed


@pytest.mark.parametrize(
    "text",
    [
        "“Hello,” she said — ‘yes’.",
        "It’s the mayor’s bridge…",
        "«Bonjour», a-t-il dit.",
        "naïve café façade Zürich",
        "Привет, мир",
        "Γειά σου κόσμε",
        "東京で地震があった。",
        "مرحبا بالعالم",
        "Price: €20, £15 or ¥300 — 50% off ±2°C",
        "Tom &amp; Jerry",  # HTML is the readers' job: unescaping would not be idempotent
    ],
)
def test_good_text_is_unchanged(text):
    assert clean_text(text) == text


def test_nfc_normalisation():
    assert clean_text("cafe\u0301") == "caf\u00e9"


def test_whitespace_and_paragraphs():
    raw = (
        "  Hello \t  world  \n  second\u00a0line\u2003here \n\n\n\n  Next\u202fparagraph  \n \t \n"
    )
    assert clean_text(raw) == "Hello world\nsecond line here\n\nNext paragraph"


def test_line_endings_are_normalised():
    assert clean_text("one\r\ntwo\rthree\r\n\r\n\r\nfour") == "one\ntwo\nthree\n\nfour"
    assert clean_text("one\u2028two\u2029\u2029three\x0cfour") == "one\ntwo\n\nthree\nfour"


def test_whitespace_only_lines_count_as_blank():
    assert clean_text("a\n   \n\t\n\u00a0\nb") == "a\n\nb"


def test_control_characters_are_removed():
    assert clean_text("Hel\x00lo\x07 wor\x1fld\x7f") == "Hello world"
    assert clean_text("\ufeffHello") == "Hello"
    assert clean_text("zero\u200bwidth and news\xadpaper") == "zerowidth and newspaper"
    assert clean_text("x\x1b[31mred\x1b[0m") == "xred"  # terminal escape sequence


def test_tabs_become_spaces():
    assert clean_text("a\tb\t\tc") == "a b c"


def test_empty_and_blank_text():
    assert clean_text("") == ""
    assert clean_text(" \n\n \t \r\n") == ""


def test_clean_headline_is_one_line():
    assert clean_headline("  Mayor opens\n new   bridge \n\n today ") == (
        "Mayor opens new bridge today"
    )
    assert clean_headline("Mayorâ€™s bridge") == "Mayor’s bridge"


# -------------------------------------------------------------------- furniture_key


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("  Share this  ARTICLE » ", "share this article"),
        ("People Also Read.", "people also read"),
        ("Loading...", "loading"),
        ("Read more:", "read more"),
        ("Recommended\tFor You!!", "recommended for you"),
        ("Publicité", "publicité"),
        ("...", ""),
    ],
)
def test_furniture_key(line, key):
    assert furniture_key(line) == key


# ----------------------------------------------------------------- remove_furniture

FURNITURE_LINES = [
    "View Comments",
    "View 12 comments",
    "Comments",
    "Comments (3)",
    "Recommended For You",
    "Organic Right Rail Article Thumbnails",
    "People Also Read.",
    "People also read",
    "Advertisement",
    "ADVERTISEMENT",
    "- Advertisement -",
    "[Advertisement]",
    "ADVERTISEMENT - SCROLL TO CONTINUE READING",
    "Sponsored",
    "Sponsored Content",
    "Share this article",
    "Share this:",
    "Share on Facebook",
    "Share on Twitter",
    "Share on WhatsApp",
    "Facebook Twitter WhatsApp Email",
    "Click here to subscribe",
    "Click here to subscribe.",
    "Subscribe to our newsletter",
    "Subscribe to our newsletter.",
    "Sign up for our daily politics newsletter",
    "Follow us on Twitter",
    "Follow us on Facebook, Twitter and Instagram",
    "Image copyright Getty Images",
    "Image copyright AFP",
    "Image caption The bridge was closed for repairs",
    "Photo: Jane Doe",
    "Photo: Jane Doe/Reuters",
    "(Photo credit should read JOHN DOE/AFP via Getty Images)",
    "REUTERS/Jane Doe",
    "Jane Doe/Reuters",
    "(AP Photo/John Doe)",
    "Getty Images",
    "AFP via Getty Images",
    "Read more:",
    "Read more: Storm closes ferry route",
    "READ MORE: Storm closes ferry route",
    "Related:",
    "Related: Storm closes ferry route",
    "Related Articles",
    "More from Politics",
    "Most Read",
    "Most read in Business",
    "Trending Now",
    "You may also like",
    "Continue reading",
    "Continue reading the main story",
    "Story continues below advertisement",
    "Skip to main content",
    "Loading...",
    "Copyright 2024 Some Media. All rights reserved.",
    "© 2024 Some Media Ltd",
    "We use cookies to improve your experience on our site.",
    "We use cookies to give you the best experience. By continuing to browse the site you "
    "agree to our use of cookies. Find out more in our cookie policy.",
    "Accept all cookies",
    "Listen to this article",
    "Listen to this article (4 min)",
    "5 min read",
    "Watch:",
    "Watch: The moment the bridge opened",
    # German, French, Spanish
    "Anzeige",
    "Werbung",
    "Lesen Sie auch: Neue Brücke eröffnet",
    "Mehr zum Thema",
    "Publicité",
    "Lire aussi",
    "Lire aussi : Le pont est ouvert",
    "Partager",
    "Publicidad",
    "Te puede interesar",
    "Te puede interesar: El puente abre",
    "Comentarios",
]


@pytest.mark.parametrize("line", FURNITURE_LINES)
def test_furniture_line_is_dropped(line):
    body = f"The mayor opened the bridge on Monday.\n\n{line}\n\nIt cost two million euros."
    assert remove_furniture(body) == (
        "The mayor opened the bridge on Monday.\n\nIt cost two million euros."
    )


REAL_SENTENCES = [
    "The advertisement campaign cost the city $2 million.",
    "Share prices fell 3% on Monday.",
    "Readers can share this article with their friends.",
    "Comments from the minister sparked outrage.",
    "Most read books of 2024 were thrillers.",
    "More from the mayor later today.",
    "He works for AP/Reuters.",
    "He works for AP/Reuters",
    "Follow us on this journey, the mayor told residents.",
    "Sponsored by the council, the festival runs until Sunday.",
    "Subscribe to the view that the bridge was too costly, and you are not alone.",
    "Click here, the instructions said, and nothing happened.",
    "Loading the ship took three days.",
    "Copyright law was changed in 2019.",
    "We use cookies, the bakery owner said, because customers love them.",
    "Getty Images said it would appeal.",
    "Related topics were discussed at length.",
    "Trending topics on the site included the bridge.",
    "Watch the river rise, the old saying goes.",
    "Photographs from the scene showed flooded streets.",
    "Werbung ist in Schulen verboten, sagte die Ministerin.",
    "La publicité a coûté cher à la ville.",
]


@pytest.mark.parametrize("sentence", REAL_SENTENCES)
def test_real_sentences_are_kept(sentence):
    body = f"Intro paragraph of the story.\n\n{sentence}\n\nClosing paragraph of the story."
    assert remove_furniture(body) == body
    assert clean_body(body) == body


def test_sentence_alone_is_kept():
    for sentence in REAL_SENTENCES:
        assert remove_furniture(sentence) == sentence


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Traffic is expected to ease. Share this article", "Traffic is expected to ease."),
        ("Traffic is expected to ease. Share this article »", "Traffic is expected to ease."),
        ("He left early. Advertisement", "He left early."),
        ("It rained. Advertisement. Share this article", "It rained."),
        ("“We are pleased,” she said. Read more", "“We are pleased,” she said."),
        ("Der Bau beginnt im Mai. Anzeige", "Der Bau beginnt im Mai."),
        ("Works start in May. Share on Facebook, Twitter and WhatsApp", "Works start in May."),
    ],
)
def test_furniture_stuck_to_a_sentence_is_trimmed(line, kept):
    assert remove_furniture(line) == kept


def test_paragraph_structure_survives_dropped_lines():
    assert remove_furniture("A one.\n\nAdvertisement\n\nB two.") == "A one.\n\nB two."
    assert remove_furniture("A one.\nAdvertisement\nB two.") == "A one.\nB two."
    assert remove_furniture("Advertisement\n\nA one.\n\nAdvertisement") == "A one."
    assert remove_furniture("A one.\n\n\n\nB two.") == "A one.\n\nB two."


def test_trailing_link_list_is_dropped():
    body = (
        "The council approved the budget on Tuesday.\n\n"
        "Related Articles\n"
        "Council approves budget\n"
        "Storm closes ferry route\n\n"
        "You may also like\n"
        "Ten photos of the old harbour\n"
        "Is the bridge safe? What we know\n"
    )
    assert remove_furniture(body) == "The council approved the budget on Tuesday."


def test_trailing_list_followed_by_a_real_paragraph_is_kept():
    body = (
        "The council approved the budget on Tuesday.\n\n"
        "Related Articles\n"
        "Storm closes ferry route\n\n"
        "The budget includes money for repairs to the harbour wall, which was damaged "
        "in last winter's storms.\n\n"
        "View Comments\n"
        "Council approves budget\n"
    )
    assert remove_furniture(body) == (
        "The council approved the budget on Tuesday.\n\n"
        "Storm closes ferry route\n\n"
        "The budget includes money for repairs to the harbour wall, which was damaged "
        "in last winter's storms."
    )


def test_short_real_sentence_after_a_marker_is_kept():
    body = "The vote was close.\n\nComments\n\nThe mayor declined to comment."
    assert remove_furniture(body) == "The vote was close.\n\nThe mayor declined to comment."


def test_marker_inside_a_sentence_does_not_cut():
    body = "The first line.\nPeople also read the minutes of the meeting, she said.\nFinal line."
    assert remove_furniture(body) == body


def test_hard_wrapped_newswire_text_keeps_every_word():
    body = (
        "Harbour Holdings said it would pay a dividend of 15 cts a\n"
        "share. Sales abroad rose five pct to 22 mln dlrs. Share\n"
        "prices rose on the news, and analysts expect\n"
        "more.\n"
        "More"
    )
    assert remove_furniture(body) == body.removesuffix("\nMore")


def test_extra_lines():
    learned = frozenset({furniture_key("Get the Daily Harbour app!")})
    body = "The ferry resumed.\n\nGET THE DAILY HARBOUR APP\n\nPassengers cheered."
    assert remove_furniture(body, learned) == "The ferry resumed.\n\nPassengers cheered."
    assert remove_furniture(body) == body


def test_extra_lines_match_long_lines_too():
    notice = (
        "This story was produced with support from a regional journalism fund which has no "
        "say over our editorial decisions."
    )
    learned = frozenset({furniture_key(notice)})
    body = f"The ferry resumed.\n\n{notice}"
    assert remove_furniture(body, learned) == "The ferry resumed."


def test_extra_lines_never_drop_blank_or_symbol_lines():
    body = "One.\n\n* * *\n\nTwo."
    assert remove_furniture(body, frozenset({""})) == body


def test_clean_body_on_crlf_and_mojibake():
    body = "The cafÃ© reopened.\r\n\r\nAdvertisement\r\n\r\nIt didnâ€™t close again.\r\n"
    assert clean_body(body) == "The café reopened.\n\nIt didn’t close again."


# ------------------------------------------------------------------ ftfy short-cut


def _badness_characters() -> set[str]:
    """Every non-ASCII character ftfy's mojibake heuristic refers to."""
    chars: set[str] = set()
    for value in badness.MOJIBAKE_CATEGORIES.values():
        i = 0
        while i < len(value):
            if i + 2 < len(value) and value[i + 1] == "-":
                chars.update(chr(c) for c in range(ord(value[i]), ord(value[i + 2]) + 1))
                i += 3
            else:
                chars.add(value[i])
                i += 1
    chars.update(c for c in badness.BADNESS_RE.pattern if ord(c) > 127)
    chars.update("\xa0\xad")  # written as escapes in the pattern
    return {c for c in chars if ord(c) > 127}


def test_ftfy_shortcut_alphabet_covers_the_heuristic():
    alphabet = re.compile(f"[{clean._MOJIBAKE_ALPHABET}{clean._SINGLES_CLASS}]")
    missing = sorted(c for c in _badness_characters() if not alphabet.fullmatch(c))
    assert missing == []


MOJIBAKE_PRONE = (
    "ÂÃâ€™œŒ¢£©®°·»«–—‘’“”…ŸžŠšÐÑØÙ×²³àáéíóúüñçß√±∂†≠∞≈‚Äìîï¬ƒ∆ΒΓΞΟβΆВГРСЂўАБвгрс"
    "\xa0\xad\x85\x9d\x81\x1b\ufeff\u200b\u3000ﬁＡ│▀◊⌐�ā"
)
mojibake_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(MOJIBAKE_PRONE),
        st.sampled_from("abc XYZ.,!?'\"\t\n"),
        st.characters(exclude_categories=()),
    ),
    max_size=40,
)


@settings(max_examples=1500, deadline=None)
@given(mojibake_text)
def test_ftfy_shortcut_only_skips_lines_ftfy_would_not_change(text):
    line = re.sub("[\n\r\x0b\x0c\u2028\u2029]", " ", text)
    line = unicodedata.normalize("NFC", clean._PRE_CONTROL_RE.sub("", line))
    if not clean._needs_ftfy(line):
        assert ftfy.fix_and_explain(line, clean._FTFY_CONFIG).text == line


# --------------------------------------------------------------------- properties

SENTENCES = [
    "The mayor opened the bridge on Monday.",
    "Traffic is expected to ease.",
    "“It is a great day,” she said.",
    "The cafÃ© owner didnâ€™t comment.",
    "Five things to know about bridges",
    "Celebrity chef opens restaurant",
    "The budget includes money for repairs to the harbour wall, which was damaged in "
    "last winter's storms and has been closed since.",
]
# Pieces of hard-wrapped newswire text, some of which look like furniture on their own.
FRAGMENTS = [
    "share.",
    "share",
    "comments",
    "more",
    "more.",
    "advertisement",
    "the company said it would pay 15 cts a",
    "prices rose on the news, and analysts expect",
    "Sales rose. Share",
    "Comments",
]
furniture_heavy_text = st.lists(
    st.one_of(
        st.sampled_from(FURNITURE_LINES),
        st.sampled_from(REAL_SENTENCES + SENTENCES),
        st.sampled_from(FRAGMENTS),
        st.just(""),
        st.text(max_size=20),
    ),
    max_size=25,
).flatmap(
    lambda lines: st.sampled_from(["\n", "\r\n", "\n\n", " ", ". "]).map(
        lambda sep: sep.join(lines)
    )
)
any_text = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=())),
    mojibake_text,
    furniture_heavy_text,
)


def _check_shape(out: str) -> None:
    assert "\n\n\n" not in out
    assert out == out.strip()
    for line in out.split("\n"):
        assert line == line.strip()
        assert "  " not in line


@settings(max_examples=1000, deadline=None)
@given(any_text)
def test_clean_body_is_idempotent_and_well_formed(text):
    once = clean_body(text)
    assert clean_body(once) == once
    _check_shape(once)


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_clean_text_is_idempotent_and_well_formed(text):
    once = clean_text(text)
    assert clean_text(once) == once
    _check_shape(once)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_clean_headline_is_always_one_trimmed_line(text):
    headline = clean_headline(text)
    assert "\n" not in headline
    assert headline == headline.strip()
    assert "  " not in headline


@settings(max_examples=300, deadline=None)
@given(furniture_heavy_text, st.frozensets(st.sampled_from(FURNITURE_LINES + SENTENCES)))
def test_remove_furniture_with_extra_lines_is_idempotent(text, learned):
    extra = frozenset(furniture_key(line) for line in learned)
    once = remove_furniture(clean_text(text), extra)
    assert remove_furniture(once, extra) == once
    assert clean_text(once) == once
