"""Extraction: golden files for every bundled sample page, plus behaviour checks.

Golden files live in tests/golden/. After an intended change to extraction, regenerate
them with `WIREHOUSE_UPDATE_GOLDEN=1 make test` and review the diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import lxml.html
import pytest

from wirehouse.dates import parse_timestamp
from wirehouse.extract import (
    OTHER_STORIES,
    READER_COMMENTS,
    ExtractionEmpty,
    extract_article,
    named_blocks,
    split_authors,
    without_blocks,
)
from wirehouse.fetch import decode_html
from wirehouse.normalise import content_hash, detect_language, is_disclosure, normalise_body

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "include" / "sample_articles").glob("*/*.html"))
GOLDEN = Path(__file__).parent / "golden"
FIXTURES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html"))
FIXTURE_URL = "https://www.northgatewire.example/fixtures/{}"


def extract_sample(path: Path) -> dict:
    html = decode_html(path.read_bytes(), None)
    return extract_article(html, path.as_uri(), trust_any_site=True).to_json_dict()


def assert_golden(golden: Path, actual: dict) -> None:
    """Compare with the golden file (rewritten first when WIREHOUSE_UPDATE_GOLDEN is set)."""
    if os.environ.get("WIREHOUSE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with WIREHOUSE_UPDATE_GOLDEN=1"
    assert actual == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(path: Path) -> None:
    golden = GOLDEN / f"{path.parent.name}__{path.stem}.json"
    try:
        actual = extract_sample(path)
    except ExtractionEmpty as exc:
        actual = {"error": str(exc)}
    assert_golden(golden, actual)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_golden_fixture_pages(path: Path) -> None:
    golden = GOLDEN / f"fixture__{path.stem}.json"
    html = decode_html(path.read_bytes(), None)
    assert_golden(golden, extract_article(html, FIXTURE_URL.format(path.stem)).to_json_dict())


def test_dateline_credits_json_ld_dates_and_authors() -> None:
    page = Path(__file__).parent / "fixtures" / "pages" / "wire_dateline_credits.html"
    r = extract_article(decode_html(page.read_bytes(), None), FIXTURE_URL.format("x"))
    assert r.dateline == "BRAMSTADT, Norland"
    assert r.body.startswith("A Senate committee voted 9-4")
    assert r.credits and r.credits.startswith("Okafor reported from Bramstadt.")
    assert "contributed" not in r.body and "reported from" not in r.body
    assert r.authors == ["Amara Okafor", "Lukas Brenner"]  # the staff organisation is no author
    assert r.published_at.isoformat() == "2026-11-19T08:15:00+00:00"  # JSON-LD beats meta
    assert r.modified_at.isoformat() == "2026-11-19T10:40:00+00:00"
    assert r.title == "Senate panel backs Kessel River dam study"
    assert r.canonical_url == "https://www.northgatewire.example/2026/11/19/kessel-dam-study"
    assert not (r.too_short or r.probably_not_article or r.paywalled)


def test_paywalled_short_and_future_dates() -> None:
    from datetime import UTC, datetime

    page = Path(__file__).parent / "fixtures" / "pages" / "members_only.html"
    html = decode_html(page.read_bytes(), None)
    r = extract_article(html, FIXTURE_URL.format("m"))
    assert r.paywalled and r.too_short
    # a stated date after the fetch is not believed; the feed's date is used instead
    listed = datetime(2026, 11, 19, 6, tzinfo=UTC)
    early = extract_article(
        html,
        FIXTURE_URL.format("m"),
        fetched_at=datetime(2026, 11, 19, 12, tzinfo=UTC),
        listed_at=listed,
    )
    assert early.published_at == listed


def test_there_are_a_dozen_samples() -> None:
    assert len(SAMPLES) >= 12


def test_widget_and_share_boilerplate_is_stripped() -> None:
    farm = [extract_sample(p) for p in SAMPLES if p.parent.name == "trendpulse_now"]
    assert farm
    for record in farm:
        paragraphs = record["body"].split("\n\n")
        assert all(
            p.strip() not in ("Share.", "Weather", "Live Markets", "Smiley face")
            for p in paragraphs
        )
        assert "All Rights Reserved" not in record["body"]


def test_canonical_url_dates_and_language_come_from_the_page() -> None:
    records = {p.parent.name: extract_sample(p) for p in SAMPLES}
    assert records["harbor_wire"]["canonical_url"].startswith("https://www.harborwire.example/")
    assert records["harbor_wire"]["published_at"].startswith("2026-11-")
    assert records["le_courrier"]["language"] == "fr"
    assert records["harbor_wire"]["language"] == "en"


def test_canonical_link_to_another_site_is_not_trusted() -> None:
    html = (
        '<html><head><link rel="canonical" href="https://other.example/stolen"></head>'
        "<body><article>" + "<p>" + "Words in a long enough paragraph here. " * 20 + "</p>"
        "</article></body></html>"
    )
    record = extract_article(html, "https://mine.example/story?utm_source=x")
    assert record.canonical_url == "https://mine.example/story"


def test_empty_page_raises_extraction_empty() -> None:
    with pytest.raises(ExtractionEmpty):
        extract_article("<html><body><nav>Home</nav></body></html>", "https://n.example/")


def test_normalisation() -> None:
    text = "  Caf\u0065\u0301   au\u200b lait \n\nShare.\n\u00a9 2026 Example News. All rights reserved.\nEnd\u0007 "
    assert normalise_body(text) == "Caf\u00e9 au lait\n\nEnd"
    assert content_hash("A  b\n\nC") == content_hash("a b c")
    assert detect_language("too short") == ("und", 0.0)


def test_parse_timestamp_to_utc() -> None:
    assert parse_timestamp("2026-11-21T10:00:00+02:00").isoformat() == "2026-11-21T08:00:00+00:00"
    assert parse_timestamp("2026-11-21").isoformat() == "2026-11-21T00:00:00+00:00"
    assert parse_timestamp("yesterday") is None


def test_generic_cleanup_rules() -> None:
    text = "\n".join(
        [
            "Dam study approved",  # the headline again
            "The committee voted on Wednesday to fund the study of the river dam.",
            "CLICK HERE TO GET THE NEWS APP",
            "- Farmers oppose the dam",
            "Photo: Jane Roe / Northgate Wire",
            "The ministry will wait for the findings before it decides anything at all.",
            "A third paragraph about the vote and what comes next in the Senate.",
            "More from Northgate Wire",
            "Another story entirely",
        ]
    )
    assert normalise_body(text, headline="Dam study approved").split("\n\n") == [
        "The committee voted on Wednesday to fund the study of the river dam.",
        "Farmers oppose the dam",
        "The ministry will wait for the findings before it decides anything at all.",
        "A third paragraph about the vote and what comes next in the Senate.",
    ]


def _story(head: str, body_top: str = "") -> str:
    """A made-up article page: the given <head> content, an optional block before the
    story and a body long enough to extract."""
    paragraph = "<p>" + "The council met on Tuesday to discuss the harbour budget. " * 12 + "</p>"
    return (
        f"<html><head>{head}</head><body>{body_top}<div class='story'>"
        f"{paragraph * 3}</div></body></html>"
    )


def test_title_agrees_with_one_of_several_h1_and_drops_section_and_site() -> None:
    html = _story(
        "<meta property='og:title' content='Harbour budget passes | News | The Example Gazette'>",
        "<h1>Harbour budget passes</h1><nav><h1>Sections</h1><h1>Contact Us</h1></nav>",
    )
    assert extract_article(html, "https://gazette.example/a").title == "Harbour budget passes"


def test_title_skips_an_h1_that_is_a_logo() -> None:
    html = _story(
        "<meta property='og:title' content='Ferry fares rise for islanders'>",
        "<header><h1>GAZETTE\nGazette Logo</h1></header>",
    )
    assert (
        extract_article(html, "https://gazette.example/b").title == "Ferry fares rise for islanders"
    )


def test_title_drops_a_trailing_section_label() -> None:
    html = _story(
        "<meta property='og:title' content='Keep the library open late | Editorial'>",
        "<article><h1>Opinion | Keep the library open late | Editorial</h1></article>",
    )
    assert extract_article(html, "https://gazette.example/c").title == "Keep the library open late"


def _ld(authors: list[str]) -> str:
    people = [{"@type": "Person", "name": a} for a in authors]
    data = {"@type": "NewsArticle", "headline": "Harbour budget passes", "author": people}
    return f"<script type='application/ld+json'>{json.dumps(data)}</script>"


def test_authors_fuller_visible_byline_beats_json_ld() -> None:
    html = _story(_ld(["Jane Roe"]), "<p>By <a href='/p/jr'>Jane Roe</a> and <a>Omar Vale</a></p>")
    assert extract_article(html, "https://gazette.example/d").authors == ["Jane Roe", "Omar Vale"]


def test_authors_outlet_credit_gives_way_to_the_visible_byline() -> None:
    head = _ld(["Example Gazette"]) + "<meta property='og:site_name' content='Example Gazette'>"
    html = _story(head, "<div><span>By <a>Jane Roe</a>, Senior Staff Writer</span></div>")
    assert extract_article(html, "https://gazette.example/e").authors == ["Jane Roe"]


def test_authors_photographer_in_metadata_is_dropped() -> None:
    html = _story(
        _ld(["Jane Roe", "Sam Lens"]),
        "<div class='credits'>By Jane Roe <span>Photography by <a>Sam Lens</a></span></div>",
    )
    assert extract_article(html, "https://gazette.example/f").authors == ["Jane Roe"]


def test_by_line_needs_a_full_name_first() -> None:
    html = _story("", "<p>By contrast, Harbour Council kept its budget.</p><p>By Jane Roe</p>")
    assert extract_article(html, "https://gazette.example/g").authors == ["Jane Roe"]


def test_split_authors_rules() -> None:
    assert split_authors("https://www.facebook.com/ExampleGazette/") == []
    assert split_authors("Marino - Brad Lynch") == ["Marino - Brad Lynch"]
    assert split_authors("By Jane Roe, Senior Editor") == ["Jane Roe"]


def test_shop_page_loses_disclosure_link_list_and_repeated_paragraph() -> None:
    """The affiliate disclosure, the "Read next:" list set inside the story and a paragraph
    printed twice (a pull quote) go; every story paragraph stays, once, in order."""
    name = "shop_story_forum_thread"
    html = (Path(__file__).parent / "fixtures" / "pages" / f"{name}.html").read_text()
    paragraphs = extract_article(html, FIXTURE_URL.format(name)).body.split("\n\n")
    assert not any("affiliate" in p for p in paragraphs)
    assert not any(
        p.startswith(("Read next", "Consumer watchdog", "Why the price")) for p in paragraphs
    )
    assert [p.split()[:3] for p in paragraphs] == [
        ["The", "appliance", "maker"],
        ["The", "company", "said"],
        ["The", "recall", "covers"],
        ["“We", "are", "sorry"],
        ["The", "national", "product"],
        ["Consumer", "groups", "said"],
    ]


STORY = [
    "The harbour board voted on Tuesday to close the north quay for repairs next spring.",
    "Engineers found cracks in the quay wall during a survey in the summer, the board said.",
    "The repairs will cost about 3 million crowns and should take eight months to finish.",
    "Fishing boats that use the north quay will move to the south basin while work goes on.",
    "Skippers said they had not been asked about the timing and would raise it at the next meeting.",
    "The board said it would publish the full survey and the contract on its website next week.",
]
STORY_P = "".join(f"<p>{p}</p>" for p in STORY)
COMMENT = (
    "Closing the quay in spring is the worst time for the fishing boats, as every skipper knows."
)


def _page(article: str, after: str = "") -> lxml.html.HtmlElement:
    return lxml.html.fromstring(
        "<html><body class='single comments-open'><article><h1>Quay to close</h1>"
        f"{article}</article>{after}</body></html>"
    )


def test_comment_blocks_are_named_comment_anywhere_but_never_frame_the_page() -> None:
    doc = _page(
        STORY_P + "<div class='commentary-note'>An opinion aside.</div>",
        "<div class='xenforo-comment-widget' id='xf-7'><div class='ff-comment-item'>"
        f"{COMMENT}</div></div><span class='e-comment-count'>8</span>",
    )
    classes = [node.get("class") for node in named_blocks(doc)[READER_COMMENTS]]
    assert classes == ["xenforo-comment-widget", "ff-comment-item", "e-comment-count"]


def test_without_comments_drops_a_thread_the_extractor_took_for_story() -> None:
    doc = _page(STORY_P, f"<div class='forum-comments'><div>{COMMENT}</div></div>")
    text = "\n".join([*STORY, COMMENT])
    _, pruned_text, path = without_blocks(
        doc, "https://n.example/quay", text, "wirehouse", READER_COMMENTS
    )
    assert COMMENT not in pruned_text and "harbour board voted" in pruned_text
    assert path == "wirehouse"
    assert doc.xpath("//div[@class='forum-comments']")  # the page itself is left whole


def test_without_comments_keeps_a_story_set_in_a_comment_named_block() -> None:
    """A block named as a comment that holds the story (the text without it keeps under
    LOSS_SHARE of the words) stays: cleanup never throws the story away."""
    doc = lxml.html.fromstring(
        f"<html><body><h1>Quay to close</h1><div class='comment-piece'>{STORY_P}</div></body></html>"
    )
    text = "\n".join(STORY)
    url = "https://n.example/quay"
    assert without_blocks(doc, url, text, "p", READER_COMMENTS) == (doc, text, "p")
    plain = _page(STORY_P)  # no comment block at all: nothing is extracted again
    assert without_blocks(plain, url, text, "p", READER_COMMENTS) == (plain, text, "p")


def test_boxes_of_other_stories_inside_the_article_are_left_out() -> None:
    """A related-stories box set between the story's paragraphs goes; a "teaser-content"
    block (some sites' name for the lead paragraph) is no such box."""
    teaser = "Harbour fees to rise for the third year in a row, the board says in its plan."
    box = f"<div class='inline-related-links'><p>{teaser}</p></div>"
    paragraphs = [f"<p>{p}</p>" for p in STORY]
    doc = _page("".join(paragraphs[:3]) + box + "".join(paragraphs[3:]))
    assert [n.get("class") for n in named_blocks(doc)[OTHER_STORIES]] == ["inline-related-links"]
    text = "\n".join([*STORY[:3], teaser, *STORY[3:]])  # as the extractor gave it
    _, pruned_text, _ = without_blocks(doc, "https://n.example/quay", text, "p", OTHER_STORIES)
    assert teaser not in pruned_text
    assert all(p in pruned_text for p in STORY)
    lead = _page(f"<div class='teaser-content'><p>{STORY[0]}</p></div>" + "".join(paragraphs[1:]))
    assert named_blocks(lead)[OTHER_STORIES] == []


def test_a_most_read_heading_inside_the_story_goes_alone() -> None:
    """A "Most read" heading whose links the extractor removed, followed by story prose,
    loses only the heading; followed by a list of headlines, the body is cut there."""
    story = [
        p + " It was the second vote on the quay this year, after a tied vote in May."
        for p in STORY
    ]
    quotes = [
        "“We waited two years for this decision and we will hold them to it,” said the chair of the "
        "skippers’ association, who has fished from the north quay for thirty years.",
        "Work will start in March, the board said, once the last of the winter storms have passed "
        "and the contractor has moved its barge into the basin.",
    ]
    kept = normalise_body("\n".join([*story, "Most read in Business", *quotes]))
    assert kept.split("\n\n") == [*story, *quotes]
    headlines = ["Council backs new bridge", "Five things to do this weekend in the city"]
    cut = normalise_body("\n".join([*story, "Most read in Business", *headlines]))
    assert cut.split("\n\n") == story


def test_link_lists_disclosures_and_repeats() -> None:
    story = STORY[0] + " " + STORY[1]  # longer than a printed line: no hard wrap here
    text = "\n".join(
        [
            "We may earn a commission when you buy through the links on this page.",
            story,
            "Don't miss:",
            "- Council backs new bridge after a long debate over its cost and its design",
            "- Five things to do this weekend",
            "Don't miss the harbour festival, which opens on Saturday with a parade at ten.",
            story,
            "Q: How did you hear of it?",
            "Q: How did you hear of it?",
        ]
    )
    assert normalise_body(text).split("\n\n") == [
        story,
        "Don't miss the harbour festival, which opens on Saturday with a parade at ten.",
        "Q: How did you hear of it?",  # a short repeat (an interview's question) stays
        "Q: How did you hear of it?",
    ]
    assert is_disclosure("Every product is chosen by our editors; we earn an affiliate commission.")
    assert not is_disclosure("The affiliate station said it would carry the debate live.")
