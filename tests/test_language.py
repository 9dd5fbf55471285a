"""Tests for search.language: real models on hand-written text, and the decision rules alone."""

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import language
from search.language import (
    CONFIDENT_LETTERS,
    MIN_LETTERS,
    MIN_SCRIPT_LETTERS,
    SUPPORTED,
    UNDETERMINED,
    Detection,
    _decide,
    detect_language,
    identify,
)


@pytest.mark.parametrize(
    ("headline", "body", "expected"),
    [
        (
            "Council approves new harbour plan",
            "The city council voted on Tuesday to rebuild "
            "the old harbour wall before the winter storms arrive.",
            "en",
        ),
        (
            "Stadtrat beschließt neuen Hafenplan",
            "Der Stadtrat hat am Dienstag beschlossen, die "
            "alte Hafenmauer vor den Winterstürmen zu erneuern.",
            "de",
        ),
        (
            "Le conseil adopte le plan du port",
            "Le conseil municipal a voté mardi la "
            "reconstruction de la vieille digue avant les tempêtes d'hiver.",
            "fr",
        ),
        (
            "El ayuntamiento aprueba el plan del puerto",
            "El pleno municipal votó el martes "
            "reconstruir el viejo muelle antes de los temporales de invierno.",
            "es",
        ),
    ],
)
def test_articles_in_several_languages(headline, body, expected):
    assert detect_language(headline, body) == expected


@pytest.mark.parametrize("text", ["", "Hi", "12345 67890", "OK?", "—"])
def test_too_little_text_is_undetermined(text):
    assert detect_language(text) == UNDETERMINED


def test_answers_are_stable_for_the_same_text():
    text = "Die Regierung hat heute neue Maßnahmen angekündigt."
    assert len({detect_language(text) for _ in range(20)}) == 1


# --- scripts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headline", "expected"),
    [
        ("Σεισμός στην Κρήτη", "el"),
        ("רעידת אדמה בצפון", "he"),
        ("น้ำท่วมใหญ่ที่เชียงใหม่", "th"),
        ("서울에 폭설", "ko"),
        ("東京で大雪", "ja"),  # kana among the kanji: Japanese however short
        ("Երևանում ձյուն է", "hy"),
        ("თბილისში თოვს", "ka"),
        ("ਅੰਮ੍ਰਿਤਸਰ ਵਿੱਚ ਮੀਂਹ", "pa"),
        ("சென்னையில் மழை", "ta"),
    ],
)
def test_a_script_of_its_own_names_the_language_of_a_short_headline(headline, expected):
    assert detect_language(headline) == expected


@pytest.mark.parametrize(
    "text",
    [
        "北京今天发布了新的空气质量标准，要求各区在年底前完成整改。",  # simplified
        "台北市政府今天宣布，捷運新路線將在明年年底前通車營運。",  # traditional
    ],
)
def test_chinese_is_zh_in_either_script(text):
    # Plain langdetect calls the traditional one Korean, though it has no Hangul at all.
    assert detect_language(text) == "zh"


def test_langdetects_chinese_codes_become_zh():
    # Its zh-cn and zh-tw; ISO 639-1 has only zh, so a second opinion can agree with the model.
    assert (
        language._langdetect("北京今天发布了新的空气质量标准，要求各区在年底前完成整改。") == "zh"
    )


def test_kanji_alone_is_too_short_to_tell_chinese_from_japanese():
    assert detect_language("東京都知事選挙") == UNDETERMINED


def test_a_script_nobody_supported_writes_is_undetermined():
    # Ethiopic: Amharic and Tigrinya both write it.
    assert identify("የኢትዮጵያ መንግስት አዲስ ፖሊሲ አወጣ በዛሬው ዕለት").method == "unsupported script Ethiopic"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Правительство объявило о новых мерах поддержки малого бизнеса в регионах.", "ru"),
        ("Уряд оголосив про нові заходи підтримки малого бізнесу в регіонах країни.", "uk"),
        ("Правителството обяви нови мерки за подкрепа на малкия бизнес в регионите.", "bg"),
        ("मुंबई में भारी बारिश से जनजीवन अस्त-व्यस्त, कई ट्रेनें रद्द", "hi"),
        ("Regjeringen la i dag fram et nytt forslag om skatt på bolig og eiendom.", "no"),
        ("Gobernuak zerga berriak iragarri ditu gaur goizean egindako agerraldian.", "eu"),
        ("Ríkisstjórnin kynnti í dag nýjar aðgerðir til að styðja lítil fyrirtæki.", "is"),
    ],
)
def test_languages_sharing_a_script_are_told_apart(text, expected):
    assert detect_language(text) == expected


# --- the decision, with the models replaced ----------------------------------------------------


def _never() -> Any:
    raise AssertionError("this model should not have been asked")


def counts(**scripts: int) -> Counter[str]:
    return Counter(scripts)


def test_a_script_of_its_own_asks_no_model():
    assert _decide(counts(Greek=5, Latin=2), _never, _never) == Detection("el", "script")


def test_too_few_letters_asks_no_model():
    assert _decide(counts(Latin=MIN_LETTERS - 1), _never, _never).lang == UNDETERMINED
    assert _decide(counts(Greek=MIN_SCRIPT_LETTERS - 1), _never, _never).lang == UNDETERMINED
    assert _decide(Counter(), _never, _never).lang == UNDETERMINED


def test_a_long_text_takes_the_models_answer_even_when_unsure():
    found = _decide(counts(Latin=CONFIDENT_LETTERS), lambda: [("da", 0.5), ("no", 0.5)], _never)
    assert found.lang == "da"
    assert found.method == "model"


def test_a_short_unsure_text_needs_langdetect_to_agree():
    rank = lambda: [("da", 0.55), ("no", 0.45)]  # noqa: E731
    assert _decide(counts(Latin=20), rank, lambda: "da") == Detection("da", "agreed", 0.55)
    assert _decide(counts(Latin=20), rank, lambda: "no").lang == UNDETERMINED
    assert _decide(counts(Latin=20), rank, lambda: UNDETERMINED).lang == UNDETERMINED


def test_a_short_text_the_model_gives_less_than_even_odds_is_und_even_if_both_agree():
    rank = lambda: [("ru", 0.45), ("bg", 0.35), ("uk", 0.2)]  # noqa: E731
    assert _decide(counts(Cyrillic=20), rank, _never) == Detection("und", "model unsure", 0.45)


def test_a_short_text_the_model_is_sure_of_needs_no_second_opinion():
    found = _decide(counts(Latin=20), lambda: [("de", 0.95), ("nl", 0.05)], _never)
    assert found == Detection("de", "model", 0.95)


def test_only_languages_written_in_the_texts_scripts_are_candidates():
    # The model prefers Russian, but there is no Cyrillic letter in the text.
    rank = lambda: [("ru", 0.9), ("sl", 0.06), ("hr", 0.04)]  # noqa: E731
    assert _decide(counts(Latin=50), rank, _never).lang == "sl"
    # Arabic letters that are a real share of the text put Urdu up for choice...
    rank = lambda: [("ur", 0.7), ("en", 0.3)]  # noqa: E731
    assert _decide(counts(Latin=60, Arabic=40), rank, _never).lang == "ur"
    # ...a stray one does not.
    assert _decide(counts(Latin=99, Arabic=1), rank, _never).lang == "en"


def test_kana_share_decides_between_japanese_and_chinese():
    assert _decide(counts(Han=8, Kana=2), _never, _never).lang == "ja"
    rank = lambda: [("ja", 0.2), ("zh", 0.8)]  # noqa: E731
    assert _decide(counts(Han=99, Kana=1), rank, _never).lang == "zh"


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_text_gets_a_supported_code_or_und(text):
    assert detect_language(text) in SUPPORTED | {UNDETERMINED}


def test_supported_codes_are_iso_639_1():
    assert all(len(code) == 2 and code.isalpha() and code.islower() for code in SUPPORTED)
    assert {"en", "de", "fr", "zh", "no", "he"} <= SUPPORTED


def test_an_article_is_decided_without_langdetect(monkeypatch):
    # langdetect is the slow one (several ms per article); the model alone settles long texts.
    monkeypatch.setattr(language, "_langdetect", lambda text: _never())
    body = "The city council voted on Tuesday to rebuild the old harbour wall. " * 10
    assert detect_language("Council approves new harbour plan", body) == "en"
