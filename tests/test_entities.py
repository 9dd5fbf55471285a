from search.entities import drop_short_mentions, extract_entities, normalise_entity


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


def test_normalisation():
    assert normalise_entity("Bashar al Assad's") == "Bashar al Assad"
    assert normalise_entity("  the  Pentagon ") == "Pentagon"
    assert normalise_entity("Ms. Marsh", "person") == "Marsh"
    assert normalise_entity("“Reuters”") == "Reuters"


def test_surname_mentions_fold_into_full_names():
    names = ["Helena Marsh", "Marsh", "Crane", "Oliver Crane", "Rao"]
    assert drop_short_mentions(names, names) == ["Helena Marsh", "Oliver Crane", "Rao"]
