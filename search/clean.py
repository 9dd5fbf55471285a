"""Clean article text: mojibake, Unicode and whitespace, and site furniture.

Two jobs, run on every article, so both are built from regexes compiled once:

* ``clean_text`` repairs the text itself. ftfy fixes mojibake ("cafÃ©" -> "café", and the
  three-character garble of a curly apostrophe in "don't") and normalises to NFC. Curly quotes
  are kept and HTML entities are left alone: turning markup into text is the readers'
  job, and unescaping is not idempotent ("&amp;amp;" would lose a level on every pass).
  Then control characters go, every kind of horizontal space becomes one ASCII space,
  lines are stripped and paragraphs are separated by exactly one blank line.
* ``remove_furniture`` drops the lines a site wraps around an article: "Advertisement",
  "Share this article", photo credits, cookie notices, and the link lists that follow
  an end-of-article marker such as "View Comments" or "People Also Read". Patterns
  match a whole short line, never a word inside a sentence, so "The advertisement
  campaign cost $2 million." stays.

Both are idempotent: ``clean_body(clean_body(x)) == clean_body(x)``. ftfy is the slow
part (about 0.15 ms for a 100-word line), so it only sees lines that contain a
character it could change; plain ASCII lines, and lines whose non-ASCII characters
cannot form mojibake, skip it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import ftfy
from ftfy import chardata

__all__ = [
    "clean_body",
    "clean_headline",
    "clean_text",
    "ends_sentence",
    "furniture_key",
    "open_pair",
    "remove_furniture",
]

# --------------------------------------------------------------------------- text

_FTFY_CONFIG = ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=False, explain=False)

# Line breaks of every kind become "\n" before the text is split into lines. U+0085
# is not here: on its own it is a Windows-1252 ellipsis that was decoded as Latin-1,
# and ftfy turns it back into "…".
# (A regex, not str.translate: translate is slow on non-ASCII text.)
_LINE_BREAK_RE = re.compile("\r\n?|[\x0b\x0c\u2028\u2029]")
_LINE_BREAK_AFTER_FTFY_RE = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")

# Removed before ftfy looks at a line: C0 controls other than tab (ESC stays, so that
# ftfy can remove a whole terminal escape sequence) and zero-width spaces.
_PRE_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\u200b\u2060]")
# Removed after ftfy: every remaining control character, including C1 controls that
# ftfy could not map to a Windows-1252 character, byte-order marks, soft hyphens (an
# invisible break inside a word, which would split it for the index) and the
# deprecated format characters ftfy also treats as controls.
# Control and invisible format characters, bidirectional embeddings, overrides and
# isolates among them: an override (U+202E) makes text display in another order than
# it reads ("Trojan Source"); the marks U+200E/U+200F that RTL text needs are kept.
_POST_CONTROL_RE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\xad\u200b\u202a-\u202e\u2060\u2066-\u206f"
    "\ufeff\ufff9-\ufffc\ud800-\udfff]"
)
_SPACE_RUN_RE = re.compile("[ \t]+")

# Characters that take part in ftfy's mojibake heuristic (ftfy.badness): Latin-1 and
# Latin Extended, spacing modifiers, Greek, Cyrillic, general punctuation, currency,
# letterlike, maths and technical symbols, box drawing and shapes, U+F8FF, the Latin
# ligatures and U+FFFD. Every sequence the heuristic flags contains two of these side
# by side, or one of the single triggers below, so a line with neither is not mojibake
# and ftfy would only NFC-normalise it. tests/test_clean.py checks this class against
# the installed ftfy.
_MOJIBAKE_ALPHABET = (
    "\xa0-\u024f\u02b0-\u02ff\u0370-\u052f\u2000-\u23ff\u2500-\u25ff\uf8ff\ufb00-\ufb06\ufffd"
)
# Characters some other ftfy fixer changes on their own: C1 controls, surrogates,
# Latin ligatures, full- and half-width forms, ftfy's control characters (ESC among
# them), plus "Â"/"Ã" before a space (a UTF-8 no-break space that lost its byte) and
# "Œ"/"œ" (flagged before any non-letter).
_FTFY_SINGLES = "".join(
    sorted(
        {chr(c) for c in chardata.LIGATURES}
        | {chr(c) for c in chardata.WIDTH_MAP}
        | {chr(c) for c in chardata.CONTROL_CHARS}
    )
)
_SINGLES_CLASS = f"Œœ\x80-\x9f\ud800-\udfff{re.escape(_FTFY_SINGLES)}"
# One character class leads, so most positions cost a single test; the lookbehinds then
# check which trigger it was. Same as "[S]{2}|[ÂÃ] |[singles]", three times faster.
_NEEDS_FTFY_RE = re.compile(
    f"[{_MOJIBAKE_ALPHABET}{_SINGLES_CLASS}]"
    f"(?:(?<=[{_SINGLES_CLASS}])|(?<=[ÂÃ]) |(?<=[{_MOJIBAKE_ALPHABET}])[{_MOJIBAKE_ALPHABET}])"
)

_MAX_ROUNDS = 4  # a line is cleaned until it stops changing; real text needs at most 2


def _needs_ftfy(line: str) -> bool:
    """True if ftfy could change ``line`` beyond NFC normalisation."""
    return _NEEDS_FTFY_RE.search(line) is not None


def _clean_line(line: str, depth: int = 0) -> list[str]:
    """Clean one line; returns the lines it became (ftfy can reveal a hidden line break).

    Each round: remove controls, NFC, ftfy if needed, remove controls again, collapse
    whitespace. Rounds repeat until the result is a fixed point, which is what makes
    ``clean_text`` idempotent; usually the first round proves it.
    """
    if line.isascii() and "\x1b" not in line:
        # Nothing for ftfy or NFC to do (ESC would start a terminal escape sequence).
        if not line.isprintable():
            line = _POST_CONTROL_RE.sub("", line)
        return [" ".join(line.split())]
    for _ in range(_MAX_ROUNDS):
        text = _PRE_CONTROL_RE.sub("", line)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        fixed = None
        if _NEEDS_FTFY_RE.search(text):
            text = _SPACE_RUN_RE.sub(" ", text).strip(" ")
            text = fixed = ftfy.fix_and_explain(text, _FTFY_CONFIG).text
            text = _LINE_BREAK_AFTER_FTFY_RE.sub("\n", text)
        text = _POST_CONTROL_RE.sub("", text)
        if "\n" in text:
            parts = text.split("\n")
            if depth >= 2:
                return [" ".join(part.split()) for part in parts]
            return [out for part in parts for out in _clean_line(part, depth + 1)]
        cleaned = " ".join(text.split())
        if cleaned == fixed:
            return [cleaned]  # ftfy's output is its own fixed point
        # Without ftfy, removing controls and squeezing spaces cannot put two mojibake
        # characters side by side or add a trigger character; the one trigger they can
        # create is "Ã" + tab (or an odd space) -> "Ã ".
        if (
            fixed is None
            and "Ã " not in cleaned
            and "Â " not in cleaned
            and unicodedata.is_normalized("NFC", cleaned)
        ):
            return [cleaned]
        line = cleaned
    return [line]


def _join_lines(lines: Iterable[str]) -> str:
    """Join lines, turning each run of empty lines into one blank line; trim the ends."""
    out: list[str] = []
    for line in lines:
        if line:
            out.append(line)
        elif out and out[-1]:
            out.append("")
    if out and not out[-1]:
        out.pop()
    return "\n".join(out)


def clean_text(text: str) -> str:
    """Fix mojibake, normalise Unicode and whitespace; keep paragraphs (blank-line separated)."""
    if not text:
        return ""
    if not text.isascii() or "\r" in text or "\x0b" in text or "\x0c" in text:
        text = _LINE_BREAK_RE.sub("\n", text)
    lines: list[str] = []
    for raw in text.split("\n"):
        lines.extend(_clean_line(raw))
    return _join_lines(lines)


def clean_headline(text: str) -> str:
    """clean_text, then collapse to a single line."""
    return " ".join(clean_text(text).split())


# ---------------------------------------------------------------------- furniture

_WORDS_MAX = 12  # furniture is short; a longer line is prose unless a pattern below says so
_COPYRIGHT_WORDS_MAX = 30
_COOKIE_WORDS_MAX = 50
_CREDIT_WORDS_MAX = 8
# A trailing list is dropped only if every line after the marker is headline-like.
_PROSE_WORDS = 16  # a line with this many words is a paragraph, not a headline
_PROSE_CHARS = 120
_SENTENCE_MIN_WORDS = 4  # "He declined to comment." counts as prose; "Read on." does not

# Stripped from the front of a key before matching: bullets, dashes, brackets, quotes.
_LEADING_JUNK = " •·‣◦▪▸►▶*-\u2013—|>»\u203a<«\u2039[(\"'“\u2018”\u2019#~_"
_CLOSERS = "\"'”\u2019»\u203a)]"

_SOCIAL = (
    r"(?:share|tweet|e-?mail|mail|print|copy link|copy|copied|link copied|save|save article"
    r"|bookmark|facebook|twitter|x|whatsapp|linkedin|reddit|pinterest|telegram|messenger"
    r"|flipboard|threads|bluesky|tumblr|sms)"
)
_NETWORKS = r"(?:facebook|twitter|x|whatsapp|linkedin|instagram|tiktok|youtube|threads|bluesky)"
_AGENCY = (
    r"(?:reuters|ap|ap photo|ap images|associated press|the associated press|afp|epa|epa-efe"
    r"|efe|pa|pa media|pa wire|pa images|getty|getty images|shutterstock|rex|rex features"
    r"|alamy|bloomberg|xinhua|anadolu|anadolu agency|sipa|dpa|ansa|kyodo|tass|nurphoto"
    r"|sopa images|zuma press|zuma wire|ap photo/file|reuters/file)"
)

# Two kinds of pattern. Strict ones are fixed phrases or an unmistakable prefix ("Photo:",
# "Image caption"), and drop a line even if it ends like a sentence. Loose ones end in
# free text ("More from Politics", "Subscribe to The Times for £1"); they could also
# match a real sentence ("Most read books of 2024 were thrillers."), so they only drop a
# line that does not end in sentence punctuation.

# End-of-article markers: what follows them, if it is only short lines, is a link list.
# Every marker is also furniture, so the marker line itself always goes.
_MARKER_PATTERNS = (
    r"(?:view|show|read|see|load|open) (?:all )?(?:\d+ )?comments?",
    r"comments?(?: \(\d+\)?| \d+)?|\d+ comments?",  # the key has lost the ")"
    r"recommended(?: for you| stories| articles| reading| videos| content| links)?",
    r"people (?:also|are also) (?:read|reading|viewed|watched|liked)",
    r"related(?: articles?| stories| story| coverage| content| news| links| topics| posts"
    r"| reading| videos| items)?",
    r"more (?:stories|news|articles|videos|coverage|like this|to explore|to read"
    r"|on this (?:story|topic))",
    r"(?:the )?most (?:read|popular|viewed|shared|commented|watched|emailed)"
    r"(?: now| today| this week| stories| articles| videos)?",
    r"trending(?: now| stories| news| topics| articles| videos| today)?",
    r"top (?:stories|news|videos|headlines)(?: now| today)?",
    r"(?:popular|latest) stories|popular now",
    r"you (?:may|might|could|will) (?:also )?(?:like|love|enjoy|be interested in)"
    r"(?: this| these)?",
    r"you (?:may|might) have missed|in case you missed it|icymi|don['\u2019]t miss",
    r"organic right rail article thumbnails",
    r"(?:from )?around the web",
    r"editor['\u2019]?s['\u2019]? (?:picks?|choice)|staff picks",
    r"(?:what to )?(?:read|watch) next|up next|next up|(?:next|previous) (?:article|story)",
    r"(?:promoted|sponsored) (?:stories|content|links)|paid (?:content|links)|partner stories",
    r"taboola|outbrain",
    # German, French, Spanish
    r"das könnte sie auch interessieren|mehr zum thema|meistgelesen|am meisten gelesen",
    r"vous aimerez aussi|sur le même sujet|les plus lus|à lire également",
    r"(?:también )?te puede interesar|(?:más|mas) noticias|noticias relacionadas|lo más leído",
)
_MARKER_LOOSE_PATTERNS = (
    r"more (?:from|by) (?:\S+ ){0,4}\S+",
    r"more (?:stories |news |articles )?in (?:\S+ ){0,4}\S+",
    r"(?:the )?most (?:read|popular|viewed|shared|commented|watched|emailed) (?:\S+ ){0,4}\S+",
    r"(?:ads|content|sponsored|promoted) by (?:\S+ ){0,4}\S+",
    r"popular (?:on|at|in) (?:\S+ ){0,3}\S+",
)

_FURNITURE_PATTERNS = (
    # advertising
    r"advertisements?|adverts?|ads?|advertising|anzeige|werbung|publicité|publicite"
    r"|publicidad|pubblicità|pub|reklame|annonce",
    r"(?:advertisement|ad|anzeige|werbung)(?: ?[-\u2013—|:] ?| )"
    r"(?:scroll|continue|story continues|article continues|weiter)[^.!?]*",
    r"(?:sponsored|promoted)(?: (?:content|post|links?|stories|story|partner))?",
    r"story continues (?:below|after (?:this )?(?:advertisement|ad))"
    r"(?: (?:advertisement|this ad|the ad))?",
    r"(?:article|story|text) continues (?:below|after (?:this )?(?:advertisement|ad))",
    r"continue reading(?: (?:the main story|below|this article|the story|here"
    r"|on the next page|after the ad))?",
    r"(?:scroll|swipe) (?:down )?to continue(?: reading| with content)?",
    r"skip (?:to (?:main )?content|to navigation|to main menu|(?:this )?(?:ad|advert|advertisement)"
    r"|next section)",
    # sharing
    r"share(?: this| it| the story| this (?:article|story|post|page|video|link))?",
    rf"share(?: this (?:article|story))? (?:on|via|to) {_NETWORKS}"
    rf"(?:[ ,|/·•]+(?:and |or )?{_SOCIAL})*",
    rf"{_SOCIAL}(?:[ ,|/·•]+{_SOCIAL})*",
    r"(?:print|save|email|e-mail) (?:this )?(?:article|story|page)",
    r"gift (?:this )?article",
    # subscriptions, newsletters, following
    r"(?:click|tap) here(?: to (?:subscribe|read more|sign up|register|log in|continue"
    r"|download|watch|listen))?",
    r"subscribe(?: now| today| here)?|subscribe (?:to|for) (?:our|the) newsletters?",
    r"sign up(?: now| here| today)?"
    r"|sign up (?:for|to) (?:our |the |my )?(?:\w+ )?newsletters?(?: here| now| today)?",
    r"(?:(?:our|free|daily|weekly) )*newsletters?",
    rf"(?:follow|like|find) (?:us|\S+(?: \S+){{0,2}}) (?:on|at) {_NETWORKS}"
    rf"(?:(?:,| and| or|,? and|,? or) {_NETWORKS})*",
    r"thanks? (?:you )?for (?:signing up|subscribing)",
    # images, video, audio
    r"image (?:copyright|caption|source)(?:,? .*)?|media caption(?:,? .*)?",
    r"(?:photos?|photographs?|pictures?|pics?|images?|videos?|fotos?|bild(?:er)?|illustration"
    r"|graphic|credit|photo credit|image credit|file photo|caption)\s?:.*",
    r"(?:watch|listen|watch video|watch now|watch live|live)\s?:.*",
    r"watch(?: now| video| the video| live)?",
    r"listen(?: now| to (?:this|the) (?:article|story|podcast|episode))?",
    r"\d+ min(?:ute)?s? (?:read|listen|watch)",
    # reading links
    r"(?:read|see) (?:more|also|next|the full story|full story|the latest)"
    r"(?:\s?:.*| (?:here|stories|news))?",
    r"also read(?:\s?:.*)?|more\s?:.*|more|filed under\s?:.*",
    r"related\s?:.*",
    # comments
    r"no comments(?: yet)?|join the (?:conversation|discussion|debate)"
    r"|(?:leave|add|post|write) a comment|comments are closed|comment on this (?:story|article)"
    r"|hide comments|comments powered by \S+"
    r"|have your say(?: (?:below|here|now|on this (?:story|article)"
    r"|in the comments(?: below| section)?))?",
    # page chrome
    r"loading|please wait|back to top|top of page|go to top",
    r"advertise with us|about us|contact us|terms of (?:use|service)|privacy policy"
    r"|cookie (?:policy|settings|preferences)|manage (?:cookies|preferences|consent)"
    r"|(?:accept|reject|allow)(?: all)? cookies|do not sell my (?:personal )?info(?:rmation)?",
    r"all rights reserved|alle rechte vorbehalten|tous droits réservés"
    r"|todos los derechos reservados",
    # German, French, Spanish
    r"(?:à )?lire (?:aussi|également|la suite|plus)(?:\s?:.*)?|voir aussi(?:\s?:.*)?",
    r"(?:lesen sie (?:auch|mehr|hier)|mehr zum thema|auch interessant|weiterlesen|mehr lesen)"
    r"(?:\s?:.*)?",
    r"(?:(?:también )?te puede interesar|lee también|lea también|leer más|seguir leyendo"
    r"|sigue leyendo|puede que te interese|relacionad[oa]s?)(?:\s?:.*)?",
    r"partager|partagez|compartir|compártelo|teilen",
    r"(?:\d+ )?(?:commentaires?|kommentare?|comentarios?)",
    r"abonnez-vous|inscrivez-vous|suscríbete|jetzt abonnieren|newsletter abonnieren"
    r"|zum newsletter anmelden|abonnieren",
)
_FURNITURE_LOOSE_PATTERNS = (
    r"(?:paid|partner) (?:content|post|partnership)(?: [^.!?]{1,40})?",
    r"share (?:on|via|to|with) [\w ,&/.+-]{1,60}",
    r"(?:click|tap) here (?:to|for) [^.!?]+",
    r"subscribe (?:to|for) [^.!?]+",
    r"sign up (?:for|to) [^.!?]*newsletters?[^.!?]*",
    r"(?:get|receive) (?:our|the) [^.!?]*newsletters?[^.!?]*",
    rf"(?:follow|like|find) us (?:on|at) {_NETWORKS}[^.!?]*",
    rf"follow @\S+|follow [^.!?]{{1,60}} on {_NETWORKS}",
    r"(?:photos?|photographs?|pictures?|images?|fotos?) (?:credit|courtesy)\b.*|photo by \S.*",
    r"listen to (?:this|the) (?:article|story|podcast|episode) [^.!?]*",
    r"read more (?:about|on|at|from) [^.!?]+",
    r"please enable javascript[^.!?]*",
    r"[^.!?]* by clicking here",
    r"(?:\S+ ){1,3}newsletters?",
    r"source\s?:\s?(?:\S+ ){0,4}\S+",
    r"(?:partager|partagez|compartir|teilen) (?:sur|cet article|en|auf) [^.!?]{1,40}",
    r"(?:abonnez-vous|inscrivez-vous|suscríbete|abonnieren) [^.!?]{1,60}",
)

# Photo credits: "REUTERS/Kevin Lamarque", "Mark Makela/Getty Images", "AFP via Getty
# Images". Only counted when the line also looks like a name (see _looks_like_credit).
_CREDIT_PATTERN = (
    rf"{_AGENCY}\s?/\s?[^/]+(?:/[^/]+)?"
    rf"|[^/]+?\s?/\s?{_AGENCY}(?:\s?/\s?[^/]+)?(?: via getty images)?"
    r"|(?:[^/]+ )?(?:via|for) getty images|getty images(?: for [^/]+)?"
)
_COPYRIGHT_PATTERN = r"(?:copyright|©|\(c\))(?: ?©)? ?(?:\d{4}|[^.!?]*all rights reserved).*"
# A cookie notice, not a sentence about cookies: it also asks for consent or explains why.
_COOKIE_PATTERN = (
    r"(?=.*\b(?:experience|consent|agree|accept|privacy|policy|personali[sz]|analytic|continu"
    r"|brows|settings|improve|learn more|find out more))"
    r"(?:(?:we|this (?:web)?site|our (?:web)?site|(?:this|our) service) (?:use|uses|is using)"
    r" cookies\b.*|by (?:continuing|using) (?:to (?:browse|use) )?(?:this|our) (?:web)?site\b.*"
    r"cookies.*)"
)


def _alternation(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


_MARKER_RE = re.compile(_alternation(_MARKER_PATTERNS))
_MARKER_LOOSE_RE = re.compile(_alternation(_MARKER_LOOSE_PATTERNS))
_FURNITURE_RE = re.compile(_alternation(_FURNITURE_PATTERNS))
_FURNITURE_LOOSE_RE = re.compile(_alternation(_FURNITURE_LOOSE_PATTERNS))
_CREDIT_RE = re.compile(_CREDIT_PATTERN)
_COPYRIGHT_RE = re.compile(_COPYRIGHT_PATTERN)
_COOKIE_RE = re.compile(_COOKIE_PATTERN)

# Furniture stuck to the end of a sentence: "Traffic is expected to ease. Share this
# article". Only fixed phrases, and only after sentence punctuation.
# ASCII phrases only: cutting ASCII off the end of a line cannot change what ftfy
# makes of the rest, so the shortened line is still clean and clean_body stays idempotent.
_TAIL_PATTERNS = (
    r"advertisements?|advert|anzeige|werbung|publicidad",
    rf"share(?: this(?: article| story| post)?)?|share (?:on|via) {_NETWORKS}"
    rf"(?:(?:,| and| or|,? and|,? or) {_NETWORKS})*",
    r"(?:click|tap) here to (?:subscribe|read more|sign up)",
    r"subscribe(?: now| to our newsletter)?|sign up (?:for|to) (?:our|the) (?:\w+ )?newsletter",
    r"read more|continue reading|view comments|comments|story continues below(?: advertisement)?",
    rf"listen to this article|follow us on {_NETWORKS}(?:(?:,| and|,? and) {_NETWORKS})*",
    r"lire aussi|lire la suite|te puede interesar|weiterlesen|mehr zum thema",
)
_TAIL_RE = re.compile(
    rf"([.!?…][{re.escape(_CLOSERS)}]*)\s+(?:{_alternation(_TAIL_PATTERNS)})\W*\Z", re.IGNORECASE
)
_TAIL_CHARS = 100  # longer than any tail phrase with its sentence punctuation
_SLACK_WORDS = 4  # leading bullets and stray spaces count as words in a quick count
_COPYRIGHT_HINT_RE = re.compile(r"\W*(?:copyright|©|\(c\))", re.IGNORECASE)
_CREDIT_CONNECTORS = frozenset(
    {"via", "for", "and", "by", "de", "da", "di", "do", "du", "van", "von", "der", "del", "la"}
)


def furniture_key(line: str) -> str:
    """Normalised form of a line used to compare it against known/learned furniture.

    Lowercase, whitespace collapsed, trailing punctuation and symbols stripped:
    "  Share this  article » " -> "share this article".
    """
    key = " ".join(line.lower().split())
    end = len(key)
    while end and (key[end - 1] == " " or unicodedata.category(key[end - 1])[0] in "PS"):
        end -= 1
    return key[:end]


def ends_sentence(line: str) -> bool:
    """True if ``line`` ends in sentence punctuation, perhaps followed by closing quotes."""
    end = line.rstrip(_CLOSERS)
    return end.endswith((".", "!", "?", "…"))


def _looks_like_credit(line: str) -> bool:
    """A credit is a list of names: no word starts lowercase except a connector ("via")."""
    for word in line.split():
        letters = [c for c in word if c.isalpha()]
        if letters and letters[0].islower() and word.lower().strip("()") not in _CREDIT_CONNECTORS:
            return False
    return True


def _furniture_kind(key: str, line: str) -> int:
    """0: not furniture; 1: furniture; 2: furniture that marks the end of the article."""
    form = key.lstrip(_LEADING_JUNK)
    if not form:
        return 0
    words = form.count(" ") + 1
    if words <= _WORDS_MAX:
        if _MARKER_RE.fullmatch(form):
            return 2
        if _FURNITURE_RE.fullmatch(form):
            return 1
        if not ends_sentence(line):
            if _MARKER_LOOSE_RE.fullmatch(form):
                return 2
            if _FURNITURE_LOOSE_RE.fullmatch(form):
                return 1
            if (
                words <= _CREDIT_WORDS_MAX
                and _CREDIT_RE.fullmatch(form)
                and _looks_like_credit(line)
            ):
                return 1
    if words <= _COPYRIGHT_WORDS_MAX and _COPYRIGHT_RE.fullmatch(form):
        return 1
    if words <= _COOKIE_WORDS_MAX and "cookie" in form and _COOKIE_RE.fullmatch(form):
        return 1
    return 0


def _may_be_furniture(line: str) -> bool:
    """Cheap pre-check: could ``_furniture_kind`` flag this line? (Most lines are prose.)"""
    spaces = line.count(" ")
    if spaces < _WORDS_MAX + _SLACK_WORDS:
        return True
    if spaces < _COPYRIGHT_WORDS_MAX + _SLACK_WORDS and _COPYRIGHT_HINT_RE.match(line):
        return True
    return spaces < _COOKIE_WORDS_MAX + _SLACK_WORDS and ("ookie" in line or "OOKIE" in line)


def _strip_tail(line: str) -> str | None:
    """The line without furniture stuck to its last sentence, or None if there is none."""
    start = max(0, len(line) - _TAIL_CHARS)
    match = _TAIL_RE.search(line, start)
    if match is None:
        return None
    return line[: match.end(1)]


def _filter_line(line: str, extra_lines: frozenset[str]) -> tuple[str | None, bool]:
    """(what is left of the line or None if it goes, whether it was an end marker)."""
    while True:
        if extra_lines or _may_be_furniture(line):
            key = furniture_key(line)
            # The patterns first: a learned line that is also an end marker ("Recommended
            # For You") must still open the trailing link list for removal.
            kind = _furniture_kind(key, line)
            if kind:
                return None, kind == 2
            if key and key in extra_lines:
                return None, False
        stripped = _strip_tail(line)
        if stripped is None:
            return line, False
        line = stripped


def open_pair(line: str, following: str) -> bool:
    """True if ``following`` may carry on the sentence ``line`` left open.

    Newswire text is often hard-wrapped at a fixed width, so "...1.50 dlrs per" / "share."
    are one sentence, not a furniture line "share".
    """
    return bool(line) and following[:1].islower() and not ends_sentence(line)


def _is_prose(line: str) -> bool:
    """A paragraph line rather than a headline in a link list."""
    if len(line) > _PROSE_CHARS:
        return True
    words = len(line.split())
    if words >= _PROSE_WORDS:
        return True
    if words < _SENTENCE_MIN_WORDS:
        return False
    end = line.rstrip(_CLOSERS)
    return end.endswith((".", "!")) and not end.endswith("..")


def remove_furniture(body: str, extra_lines: frozenset[str] = frozenset()) -> str:
    """Drop site-furniture lines and trailing link lists; keep every real sentence.

    ``extra_lines`` holds ``furniture_key``s of lines learned elsewhere; a line whose
    key is among them is dropped too. After an end-of-article marker ("View Comments",
    "People Also Read", ...) the rest is dropped if it is only short, headline-like
    lines; if a real paragraph follows, only the marker goes.
    """
    lines = [raw.strip() for raw in body.split("\n")]
    verdicts: list[tuple[str | None, bool] | None] = [None] * len(lines)

    def verdict(i: int) -> tuple[str | None, bool]:
        found = verdicts[i]
        if found is None:
            found = verdicts[i] = _filter_line(lines[i], extra_lines)
        return found

    def wrapped(i: int, j: int) -> bool:
        # Lines i and j = i + 1 are one hard-wrapped sentence: both are kept as they are.
        # Two furniture lines in a row ("Comments" / "comments") are not a sentence.
        # Judging the pair gives both lines the same answer, which keeps this idempotent.
        return (
            i >= 0
            and j < len(lines)
            and open_pair(lines[i], lines[j])
            and not (verdict(i)[0] is None and verdict(j)[0] is None)
        )

    out: list[str] = []
    cut: int | None = None  # where the trailing list starts, if one is open
    for i, line in enumerate(lines):
        if not line:
            out.append("")
            continue
        kept: str | None = line
        if not (wrapped(i - 1, i) or wrapped(i, i + 1)):
            kept, is_marker = verdict(i)
            if kept is None:
                if is_marker and cut is None:
                    cut = len(out)
                continue
        out.append(kept)
        if cut is not None and _is_prose(kept):
            cut = None
    if cut is not None:
        del out[cut:]
    return _join_lines(out)


def clean_body(body: str, extra_lines: frozenset[str] = frozenset()) -> str:
    """clean_text then remove_furniture; ``extra_lines`` are learned furniture keys."""
    return remove_furniture(clean_text(body), extra_lines)
