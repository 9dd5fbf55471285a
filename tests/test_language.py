import pytest

from search.language import UNDETERMINED, detect_language


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
