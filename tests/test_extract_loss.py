"""No loss: cleanup may shorten a body but never throw the story away (issue 14).

Hard-wrapped wire copy (one <p>, <br> or <div> per printed line, <pre> blocks, slugs,
``----`` rules, "By …, PA News" lines, all-caps teleprinter archives) must come out with
the whole story, and `extraction_path` must say which path made the body. The story is
our own text (tests/fixtures/wire_story.txt); the saved-page fixtures built from it are
tests/fixtures/pages/wire_*.html, whose golden files test_extract.py checks.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from pathlib import Path

import pytest

from wirehouse.boilerplate import paragraph_key, strip
from wirehouse.extract import (
    EXTRACTION_PATHS,
    extract_article,
    extract_record,
    looks_like_listing,
    lost_story,
)
from wirehouse.fetch import decode_html
from wirehouse.normalise import (
    drop_author_bios,
    drop_closing_furniture,
    light_body,
    normalise_body,
    split_credits,
    unwrap_lines,
)

FIXTURES = Path(__file__).parent / "fixtures"
STORY = [p.strip() for p in (FIXTURES / "wire_story.txt").read_text().split("\n\n") if p.strip()]
URL = "https://www.northgatewire.example/archive/canal-basin"
TITLE = "Carrow canal basin drained after walls shift"


def fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def assert_story_survives(body: str) -> None:
    """Every paragraph of the story is in the body, word for word (joins may move the
    paragraph breaks of hard-wrapped text, never drop a word)."""
    folded = fold(body)
    for paragraph in STORY:
        assert fold(paragraph) in folded, paragraph[:60]


def lines(width: int = 68, upper: bool = False) -> list[list[str]]:
    return [
        [html.escape(line.upper() if upper else line) for line in textwrap.wrap(p, width)]
        for p in STORY
    ]


def page(inner: str, title: str = TITLE) -> str:
    return (
        f"<html><head><title>{title}</title></head><body>"
        "<div class='nav'><a href='/'>Archive</a> | <a href='/years/'>Years</a></div>"
        f"{inner}<div class='foot'><a href='/next'>Next story</a></div></body></html>"
    )


def wire(body_lines: list[list[str]], byline: str = "By Tom Ellery, PA News") -> str:
    text = "".join(f"<p>{line}</p>" for para in body_lines for line in para)
    return f"<p>CANAL-BASIN-DRAINED</p><p>----</p><p>{byline}</p>{text}<p>ENDS</p><p>----</p>"


VARIANTS = {
    "p_per_line": page("".join(f"<p>{ln}</p>" for para in lines() for ln in para)),
    "br_lines": page("<div>" + "<br><br>".join("<br>".join(para) for para in lines()) + "</div>"),
    "pre_block": page("<pre>" + "\n\n".join("\n".join(para) for para in lines()) + "</pre>"),
    "div_per_line": page("".join(f"<div>{ln}</div>" for para in lines() for ln in para)),
    "pa_wire": page(wire(lines())),
}


NO_PARAGRAPHS = {"br_lines", "div_per_line"}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_hard_wrapped_variants_keep_the_story(variant: str) -> None:
    record = extract_article(VARIANTS[variant], URL)
    assert_story_survives(record.body)
    # trafilatura's fast runs find no main text without <p> elements; its defaults do
    expected = "trafilatura_default" if variant in NO_PARAGRAPHS else "wirehouse"
    assert record.extraction_path == expected
    assert "----" not in record.body
    # the printed lines are joined back into paragraphs, not one paragraph per line
    assert len(record.body.split("\n\n")) <= len(STORY) + 1


def test_wire_furniture_leaves_the_body_and_the_byline_names_the_author() -> None:
    record = extract_article(VARIANTS["pa_wire"], URL)
    assert not record.body.startswith("CANAL-BASIN-DRAINED")
    assert "PA News" not in record.body
    assert not record.body.endswith("ENDS")
    assert record.authors == ["Tom Ellery"]
    assert not looks_like_listing(record.body)  # joined lines are not a listing's headlines


def test_all_caps_archive_falls_back_to_lossless_cleaning() -> None:
    # every line is "shouting" to the full cleanup, which would leave nothing
    caps = page(wire(lines(upper=True), "BY TOM ELLERY, PA NEWS"), TITLE.upper())
    text = "\n".join(textwrap.wrap(" ".join(STORY).upper(), 68))
    assert lost_story(normalise_body(text), text)
    record = extract_article(caps, URL)
    assert_story_survives(record.body)
    assert record.extraction_path == "trafilatura_fallback"
    assert "----" not in record.body and not record.body.endswith("ENDS")


def test_saved_wire_fixture_pages_keep_the_story() -> None:
    for name, path in (
        ("wire_hard_wrapped", "wirehouse"),
        ("wire_caps_archive", "trafilatura_fallback"),
    ):
        saved = decode_html((FIXTURES / "pages" / f"{name}.html").read_bytes(), None)
        record = extract_article(saved, URL)
        assert_story_survives(record.body)
        assert record.extraction_path == path


def test_json_lines_record_paths() -> None:
    text = "\n\n".join(STORY)
    record = extract_record(json.dumps({"url": URL, "title": TITLE, "text": text}).encode(), URL)
    assert record.extraction_path == "jsonl"
    shouted = json.dumps({"url": URL, "title": TITLE, "text": text.upper()}).encode()
    record = extract_record(shouted, URL)
    assert record.extraction_path == "jsonl_fallback"
    assert_story_survives(record.body)


def test_paths_are_a_closed_set() -> None:
    assert set(EXTRACTION_PATHS) == {
        "wirehouse",
        "wirehouse_recall",
        "trafilatura_fallback",
        "trafilatura_default",
        "jsonl",
        "jsonl_fallback",
    }


def test_lost_story_is_under_half_of_the_extractor_words() -> None:
    text = "\n".join(STORY)
    assert not lost_story(normalise_body(text), text)
    assert lost_story("", text)
    assert lost_story(STORY[0], text)
    # a short text that loses a share prompt lost no story
    assert not lost_story("Four words only here.", "Share\nFour words only here.")


def test_unwrap_leaves_ordinary_paragraphs_alone() -> None:
    assert unwrap_lines(STORY) == STORY  # web paragraphs are longer than any printed line
    short = ["Home", "News", "Sport", "Weather", "Contact us", "About", "Jobs", "Terms"]
    assert unwrap_lines(short) == short  # a menu ends nowhere near one width
    wrapped = [line for para in STORY for line in textwrap.wrap(para, 68)]
    assert len(unwrap_lines(wrapped)) <= len(STORY) + 1


def test_light_body_drops_only_rules_and_furniture() -> None:
    text = "CANAL-BASIN-DRAINED\n----\nBy Tom Ellery, PA News\n" + "\n".join(STORY) + "\nENDS"
    body = light_body(text.upper())
    assert_story_survives(body)
    assert "----" not in body and "PA NEWS" not in body and not body.endswith("ENDS")


def test_learned_boilerplate_never_strips_half_a_body() -> None:
    # hard-wrapped copy republished under many URLs: its short lines recur on every page
    body = "\n\n".join(textwrap.wrap(" ".join(STORY), 68))
    keys = {paragraph_key(p) for p in body.split("\n\n")[1:]}
    assert strip(body, keys) == (body, [])
    keep_most = {paragraph_key(body.split("\n\n")[0])}
    stripped, removed = strip(body, keep_most)
    assert len(removed) == 1 and stripped == body.split("\n\n", 1)[1]


def test_closing_bio_of_the_author_leaves_the_body() -> None:
    story = "\n\n".join(STORY)
    bio = "Tom Ellery is a reporter for the Carrow Courier. Send tips to tom@courier.example."
    outlet_bio = "Northgate Wire's Tom Ellery is the author of a book on canals."
    assert drop_author_bios(f"{story}\n\n{bio}", ["Tom Ellery"]) == story
    assert drop_author_bios(f"{story}\n\n{outlet_bio}", ["Tom Ellery"]) == story
    # only the article's own authors, only at the end, only a bio's wording
    assert drop_author_bios(f"{story}\n\n{bio}", ["Ruth Adeyemi"]) == f"{story}\n\n{bio}"
    said = "Tom Ellery said the basin would reopen in the summer."
    assert drop_author_bios(f"{story}\n\n{said}", ["Tom Ellery"]) == f"{story}\n\n{said}"
    assert drop_author_bios(f"{bio}\n\n{story}", ["Tom Ellery"]) == f"{bio}\n\n{story}"


def test_a_bio_under_a_short_or_partial_byline_name_leaves_the_body() -> None:
    story = "\n\n".join(STORY)
    # the byline gives the full name, the bio a short form, or the first name alone
    assert drop_author_bios(f"{story}\n\nTom Ellery covers canals.", ["Thomas Ellery"]) == story
    solo = "Thomas currently works for the Carrow Courier and lives in Bramstadt."
    assert drop_author_bios(f"{story}\n\n{solo}", ["Thomas Ellery"]) == story
    apposition = "Tom Ellery, a former lock keeper, writes about the waterways."
    assert drop_author_bios(f"{story}\n\n{apposition}", ["Thomas Ellery"]) == story
    # a second bio paragraph after it goes with it
    more = "When not on the towpath he can be found in his allotment."
    assert (
        drop_author_bios(f"{story}\n\nTom Ellery is a reporter.\n\n{more}", ["Tom Ellery"]) == story
    )
    # another person with the author's first name is story
    other = "Thomas Baker is expected to give evidence at the inquiry in March."
    assert drop_author_bios(f"{story}\n\n{other}", ["Thomas Ellery"]) == f"{story}\n\n{other}"


def test_closing_prompts_and_references_leave_the_body() -> None:
    story = "\n\n".join(STORY)
    prompts = [
        "Join our commenting forum",
        "Subscribe to Carrow Premium to bookmark this article",
        "Want to keep up with breaking news? Subscribe to our email newsletter.",
        "Follow the Courier's canal desk on Facebook and Instagram.",
        "Courier waterways: https://courier.example/hub/waterways",
        "A. Roe et al. 2023. Wall movement in drained canal basins. Journal of Locks 4: 1-9.",
    ]
    assert drop_closing_furniture("\n\n".join([story, *prompts]), []) == story
    # prompts before the author's bio, and after it
    bio = "Tom Ellery is a reporter for the Carrow Courier."
    body = "\n\n".join([story, prompts[0], bio, prompts[2]])
    assert drop_closing_furniture(body, ["Tom Ellery"]) == story
    # a paywall notice stays for the `paywalled` flag; a closing sentence with an
    # imperative but no promotion is story; prompts inside the story stay
    paywall = "Subscribe to continue reading this article."
    assert drop_closing_furniture(f"{story}\n\n{paywall}", []) == f"{story}\n\n{paywall}"
    for closing in (
        "Get well soon, the children wrote on the card.",
        "Follow-up talks with the Twitter account's owners are planned for March.",
        "The survey, by Roe et al, found the same cracks in 2019.",
    ):
        assert drop_closing_furniture(f"{story}\n\n{closing}", []) == f"{story}\n\n{closing}"
    inside = "\n\n".join([STORY[0], prompts[2], *STORY[1:]])
    assert drop_closing_furniture(inside, []) == inside
    assert drop_closing_furniture(prompts[2], []) == prompts[2]  # never the first paragraph


def test_link_lines_separators_and_apparatus_leave_the_body() -> None:
    text = "\n".join(
        [
            STORY[0],
            "Related: Lock keepers fear for summer trade",
            "::",
            *STORY[1:],
            "[Read more: How the basin was built]",
            "Footnotes",
            "[1] Carrow Canal Company minutes, 1894.",
            "[2] Northgate Wire archive, box 17.",
        ]
    )
    assert normalise_body(text).split("\n\n") == STORY
    # a "Related" that is a sentence of the story is no link line
    sentence = "Related to the closure, the council will review its budget in March."
    assert sentence in normalise_body(f"{STORY[0]}\n{sentence}")


def test_closing_republication_and_contributor_lines_are_credits() -> None:
    story = "\n\n".join(STORY)
    for line in (
        "This story was originally published December 22, 2023, 12:20 PM.",
        "Contributing: Associated Press; Ruth Adeyemi",
        "Includes information from The Associated Press",
    ):
        assert split_credits(f"{story}\n\n{line}") == (story, line)
