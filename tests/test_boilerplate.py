"""Per-source boilerplate learned from recurring paragraphs, and stripping it."""

from __future__ import annotations

import random

import pytest

from wirehouse.boilerplate import (
    BIG_NIGHT_PAGES,
    MAX_PARAGRAPH_CHARS,
    LearnedBoilerplate,
    ParagraphStat,
    learn,
    night_stats,
    paragraph_key,
    strip,
)

SOURCE = "harbour-gazette"
NEWSLETTER = "Sign up for the Morning Briefing, our daily newsletter, at gazette.example/briefing."
CREDIT = "Photo: Harbour Gazette staff"

STORIES = [
    "The city council voted 7-2 on Tuesday to extend the harbour ferry service to the "
    "northern islands, ending a two-year dispute over who should pay for the new route.",
    "Residents of Elm Street were evacuated overnight after a water main burst, flooding "
    "basements along three blocks and closing the primary school for the rest of the week.",
    "The regional hospital opened its new maternity wing on Monday, three months later than "
    "planned, after a shortage of specialist nurses delayed the hiring of its staff.",
    "Fishermen say this year's mackerel catch is the smallest in a decade, blaming warmer "
    "water and a change in the currents that has pushed the shoals further out to sea.",
    "A local bakery has won the national sourdough prize for the second year running, "
    "beating more than two hundred entries from across the country in the final round.",
    "The harbour master has warned boat owners to secure their moorings ahead of a storm "
    "forecast to bring gusts of up to ninety kilometres an hour on Thursday night.",
]


def body(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


NAMES = ["Ana Silva", "Tom Berg", "Lea Novak", "Omar Haddad", "Kim Lund", "Ines Costa"]


def quote(i: int) -> str:
    return f"\u201cWe did what we could,\u201d said {NAMES[i]}."


def page(i: int, *extra: str) -> str:
    """A story page: its own lede and a short quote, plus whatever chrome the site adds."""
    return body(STORIES[i], quote(i), *extra)


def run_night(
    run_date: str, bodies: list[str], history: list[ParagraphStat], totals: dict[str, int]
) -> None:
    stats, pages = night_stats(SOURCE, run_date, bodies)
    history.extend(stats)
    totals[run_date] = pages


def learned_examples(learned: list[LearnedBoilerplate]) -> set[str]:
    return {item.example for item in learned}


# --- paragraph_key ----------------------------------------------------------------------


def test_key_is_16_hex_and_stable() -> None:
    key = paragraph_key(NEWSLETTER)
    assert len(key) == 16
    assert int(key, 16) >= 0
    assert paragraph_key(NEWSLETTER) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("© 2025 Harbour Gazette Ltd", "© 2026 Harbour Gazette Ltd"),
        ("Updated 3 hours ago", "Updated 5 hours ago"),
        ("Updated 3 hours ago", "UPDATED  12 hours ago."),
        ("Sign up: our newsletter!", "sign up   our newsletter"),
        ("Photo:\tHarbour Gazette", "photo - harbour gazette"),
    ],
)
def test_key_ignores_case_whitespace_digits_punctuation(a: str, b: str) -> None:
    assert paragraph_key(a) == paragraph_key(b)


def test_key_distinguishes_words() -> None:
    assert paragraph_key("Updated 3 hours ago") != paragraph_key("Updated 3 minutes ago")
    assert paragraph_key("Photo: Reuters") != paragraph_key("Photo: AP")


# --- night_stats -------------------------------------------------------------------------


def test_night_stats_counts_each_page_once() -> None:
    bodies = [
        page(0, NEWSLETTER, NEWSLETTER),  # repeated on one page: still one page
        page(1, NEWSLETTER),
        page(2),
    ]
    stats, pages = night_stats(SOURCE, "2026-03-01", bodies)
    assert pages == 3
    by_key = {s.paragraph_key: s for s in stats}
    newsletter = by_key[paragraph_key(NEWSLETTER)]
    assert newsletter == ParagraphStat(
        SOURCE, paragraph_key(NEWSLETTER), NEWSLETTER, 2, "2026-03-01"
    )
    # Each story's lede is a single page's paragraph, kept for the window to add up.
    assert by_key[paragraph_key(STORIES[0])].page_count == 1


def test_duplicate_bodies_count_once() -> None:
    republished = page(0, NEWSLETTER)
    bodies = [republished, republished, republished.replace("\n\n", "\n  \n"), page(1)]
    stats, pages = night_stats(SOURCE, "2026-03-01", bodies)
    assert pages == 2
    counts = {s.paragraph_key: s.page_count for s in stats}
    assert counts[paragraph_key(NEWSLETTER)] == 1
    assert counts[paragraph_key(STORIES[0])] == 1


def test_same_story_with_only_timestamp_changed_counts_once() -> None:
    bodies = [page(0, "Updated 3 hours ago"), page(0, "Updated 5 hours ago")]
    _, pages = night_stats(SOURCE, "2026-03-01", bodies)
    assert pages == 1


def test_empty_bodies_are_not_pages() -> None:
    stats, pages = night_stats(SOURCE, "2026-03-01", ["", "  \n\n ", page(0)])
    assert pages == 1
    assert all(s.page_count == 1 for s in stats)


def test_night_stats_rejects_bad_run_date() -> None:
    with pytest.raises(ValueError, match="run_date"):
        night_stats(SOURCE, "yesterday", [page(0)])


# --- learn -------------------------------------------------------------------------------


def test_learned_after_three_pages_and_enough_share() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}
    run_night(
        "2026-03-01",
        [page(0, NEWSLETTER), page(1, NEWSLETTER), page(2, NEWSLETTER), page(3), page(4)],
        history,
        totals,
    )
    learned = learn(history, totals, as_of="2026-03-01")
    assert learned == [
        LearnedBoilerplate(
            source_id=SOURCE,
            paragraph_key=paragraph_key(NEWSLETTER),
            example=NEWSLETTER,
            page_count=3,
            share=3 / 5,
            first_seen_run_date="2026-03-01",
            last_seen_run_date="2026-03-01",
        )
    ]


def test_exactly_thirty_percent_is_learned() -> None:
    # Ten distinct pages, three of them carrying the photo credit.
    sections = ["Politics", "Sport", "Weather", "Business", "Culture"]
    bodies = [
        page(i % 6, f"Section: {sections[i % 5]}", *([CREDIT] if i < 3 else [])) for i in range(10)
    ]
    stats, pages = night_stats(SOURCE, "2026-03-01", bodies)
    assert pages == 10
    learned = learn(stats, {"2026-03-01": pages}, as_of="2026-03-01")
    assert [item.example for item in learned] == [CREDIT]
    assert learned[0].share == pytest.approx(0.3)


def test_not_learned_at_two_pages_even_with_full_share() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}
    run_night("2026-03-01", [page(0, NEWSLETTER), page(1, NEWSLETTER)], history, totals)
    assert learn(history, totals, as_of="2026-03-01") == []


def test_not_learned_when_share_below_threshold() -> None:
    # A quote that a big site ran on 4 of its 20 pages tonight (20%): content, not chrome.
    mayor = "\u201cThis is a dark day for the harbour,\u201d the mayor said."
    bodies = [page(i % 6, mayor) for i in range(4)]
    bodies += [page(i % 6, f"Reporting by desk {chr(97 + i)}") for i in range(16)]
    stats, pages = night_stats(SOURCE, "2026-03-01", bodies)
    assert pages == 20
    learned = learn(stats, {"2026-03-01": pages}, as_of="2026-03-01")
    assert paragraph_key(mayor) not in {item.paragraph_key for item in learned}


def test_digits_insensitive_chrome_is_learned_across_nights() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}
    run_night(
        "2025-12-31",
        [page(0, "Updated 3 hours ago", "© 2025 Harbour Gazette Ltd"), page(1)],
        history,
        totals,
    )
    run_night(
        "2026-01-01",
        [
            page(2, "Updated 5 hours ago", "© 2026 Harbour Gazette Ltd"),
            page(3, "Updated 11 hours ago", "© 2026 Harbour Gazette Ltd"),
        ],
        history,
        totals,
    )
    learned = learn(history, totals, as_of="2026-01-01")
    by_key = {item.paragraph_key: item for item in learned}
    updated = by_key[paragraph_key("Updated 1 hours ago")]
    assert updated.page_count == 3
    assert updated.share == 3 / 4
    assert updated.first_seen_run_date == "2025-12-31"
    assert updated.last_seen_run_date == "2026-01-01"
    # The example is the latest night's wording, so analysts see the current chrome.
    assert updated.example in {"Updated 11 hours ago", "Updated 5 hours ago"}
    copyright_line = by_key[paragraph_key("© 2027 Harbour Gazette Ltd")]
    assert copyright_line.example == "© 2026 Harbour Gazette Ltd"
    assert copyright_line.page_count == 3


def test_long_paragraphs_are_never_learned() -> None:
    # A syndicated story the site runs on every page of a section: long, so it is content.
    wire = (
        "GENEVA (Wire) \u2014 Negotiators from forty countries agreed early on Sunday to a "
        "framework for sharing fishing quotas in the North Atlantic, after talks that ran "
        "through the night and nearly collapsed twice over the allocation for coastal "
        "fleets. The agreement still has to be ratified by each government, and several "
        "delegations said they expected a difficult debate at home, where fishing "
        "communities have long resisted any cut to their share of the catch."
    )
    assert len(wire) > MAX_PARAGRAPH_CHARS
    bodies = [body(f"Section {s}: analysis", wire) for s in "abcd"]
    stats, pages = night_stats(SOURCE, "2026-03-01", bodies)
    assert pages == 4
    assert paragraph_key(wire) not in {s.paragraph_key for s in stats}
    learned = learn(stats, {"2026-03-01": pages}, as_of="2026-03-01")
    assert paragraph_key(wire) not in {item.paragraph_key for item in learned}
    # Even if a learned set somehow contained it, strip leaves long paragraphs alone.
    text = body("Section a: analysis", wire)
    assert strip(text, {paragraph_key(wire)}) == (text, [])


def test_window_excludes_old_nights() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}
    # The old footer was on every page in January, then the site redesigned.
    run_night("2026-01-05", [page(i, CREDIT) for i in range(3)], history, totals)
    run_night("2026-02-10", [page(i) for i in range(3, 6)], history, totals)
    assert learned_examples(learn(history, totals, as_of="2026-01-05")) == {CREDIT}
    # 2026-02-10 minus 30 nights is 2026-01-11: January 5th is out of the window.
    assert learn(history, totals, as_of="2026-02-10") == []
    # A window wide enough to reach it still sees it (3 of 6 pages).
    assert learned_examples(learn(history, totals, as_of="2026-02-10", window_nights=40)) == {
        CREDIT
    }


def test_window_edges() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}
    run_night("2026-03-01", [page(i, CREDIT) for i in range(3)], history, totals)
    # as_of 2026-03-30 with 30 nights covers 2026-03-01 .. 2026-03-30.
    assert learned_examples(learn(history, totals, as_of="2026-03-30")) == {CREDIT}
    assert learn(history, totals, as_of="2026-03-31") == []
    assert learned_examples(learn(history, totals, as_of="2026-03-01", window_nights=1)) == {CREDIT}


def test_as_of_excludes_future_nights() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}
    run_night("2026-03-01", [page(0, NEWSLETTER), page(1)], history, totals)
    run_night("2026-03-02", [page(2, NEWSLETTER), page(3, NEWSLETTER)], history, totals)
    # Re-running March 1st must not see what March 2nd taught us.
    assert learn(history, totals, as_of="2026-03-01") == []
    assert learned_examples(learn(history, totals, as_of="2026-03-02")) == {NEWSLETTER}


def test_share_counts_nights_the_paragraph_was_absent() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}
    run_night("2026-03-01", [page(i, CREDIT) for i in range(3)], history, totals)
    run_night("2026-03-02", [page(i) for i in range(6)], history, totals)
    run_night(
        "2026-03-03", [page(i, f"Desk note {chr(97 + i)}") for i in range(6)], history, totals
    )
    # 3 of 15 pages: 20%, the site has dropped the credit line.
    assert learn(history, totals, as_of="2026-03-03") == []


def test_night_stored_twice_is_not_double_counted() -> None:
    stats, pages = night_stats(SOURCE, "2026-03-01", [page(0, CREDIT), page(1, CREDIT), page(2)])
    assert learn(stats + stats, {"2026-03-01": pages}, as_of="2026-03-01") == []


def test_learn_rejects_inconsistent_input() -> None:
    stats, pages = night_stats(SOURCE, "2026-03-01", [page(0, CREDIT), page(1, CREDIT)])
    with pytest.raises(ValueError, match="page total"):
        learn(stats, {}, as_of="2026-03-01")
    with pytest.raises(ValueError, match="pages of"):
        learn(stats, {"2026-03-01": 1}, as_of="2026-03-01")
    other, _ = night_stats("other-source", "2026-03-01", [page(0, CREDIT)])
    with pytest.raises(ValueError, match="one source"):
        learn(stats + other, {"2026-03-01": pages}, as_of="2026-03-01")
    with pytest.raises(ValueError, match="as_of"):
        learn(stats, {"2026-03-01": pages}, as_of="03/01/2026")
    assert learn([], {}, as_of="2026-03-01") == []


def test_output_order_is_deterministic() -> None:
    bodies = [
        page(0, NEWSLETTER, CREDIT, "Updated 2 hours ago"),
        page(1, NEWSLETTER, CREDIT, "Updated 4 hours ago"),
        page(2, NEWSLETTER, CREDIT),
        page(3, NEWSLETTER, "Updated 9 hours ago"),
        page(4, NEWSLETTER),
    ]
    stats, pages = night_stats(SOURCE, "2026-03-01", bodies)
    expected = learn(stats, {"2026-03-01": pages}, as_of="2026-03-01")
    assert [(item.example, item.page_count) for item in expected] == [
        (NEWSLETTER, 5),
        *sorted(
            [(CREDIT, 3), ("Updated 2 hours ago", 3)],
            key=lambda e: paragraph_key(e[0]),
        ),
    ]
    rng = random.Random(7)
    for _ in range(20):
        shuffled = bodies[:]
        rng.shuffle(shuffled)
        again, again_pages = night_stats(SOURCE, "2026-03-01", shuffled)
        assert again == stats
        history = again[:]
        rng.shuffle(history)
        assert learn(history, {"2026-03-01": again_pages}, as_of="2026-03-01") == expected


# --- strip -------------------------------------------------------------------------------


def test_strip_removes_learned_paragraphs() -> None:
    text = page(0, "Updated 7 hours ago", NEWSLETTER)
    keys = {paragraph_key(NEWSLETTER), paragraph_key("Updated 1 hours ago")}
    stripped, removed = strip(text, keys)
    assert stripped == body(STORIES[0], quote(0))
    assert removed == ["Updated 7 hours ago", NEWSLETTER]


def test_strip_without_matches_returns_body_unchanged() -> None:
    text = page(0)
    assert strip(text, {paragraph_key(NEWSLETTER)}) == (text, [])
    assert strip(text, set()) == (text, [])


def test_strip_keeps_a_body_that_would_become_empty() -> None:
    text = body(NEWSLETTER, CREDIT)
    assert strip(text, {paragraph_key(NEWSLETTER), paragraph_key(CREDIT)}) == (text, [])


# --- incremental -------------------------------------------------------------------------


def test_incremental_nights_learn_then_strip() -> None:
    history: list[ParagraphStat] = []
    totals: dict[str, int] = {}

    night1 = [page(0, NEWSLETTER), page(1, NEWSLETTER)]
    run_night("2026-03-01", night1, history, totals)
    learned1 = learn(history, totals, as_of="2026-03-01")
    assert learned1 == []
    keys1 = {item.paragraph_key for item in learned1}
    assert [strip(b, keys1)[0] for b in night1] == night1

    # Night 2: stats are counted on the raw bodies, then tonight's set is applied.
    night2 = [page(2, NEWSLETTER), page(3, CREDIT)]
    run_night("2026-03-02", night2, history, totals)
    learned2 = learn(history, totals, as_of="2026-03-02")
    assert [(item.example, item.page_count, item.share) for item in learned2] == [
        (NEWSLETTER, 3, 3 / 4)
    ]
    assert learned2[0].first_seen_run_date == "2026-03-01"
    keys2 = {item.paragraph_key for item in learned2}
    stripped, removed = strip(night2[0], keys2)
    assert NEWSLETTER not in stripped
    assert STORIES[2] in stripped
    assert removed == [NEWSLETTER]
    assert strip(night2[1], keys2) == (night2[1], [])


def test_big_night_of_distinct_paragraphs_keeps_bounded_state() -> None:
    """A night of many pages, each with its own short paragraph plus a shared footer,
    stores only the footer: a paragraph on one page of a big night cannot pass alone, and
    keeping a row per one-off paragraph cost 276 MB on bench_memory's 1M-line dump."""
    pages = BIG_NIGHT_PAGES * 3
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]

    def lead(i: int) -> str:  # distinct letters per page: digits alone fold away
        return " ".join(words[int(d)] for d in f"{i:06o}")

    bodies = [
        f"Story {lead(i)} here.\n\nSubscribe to the Example newsletter." for i in range(pages)
    ]
    stats, page_total = night_stats("s", "2026-01-01", bodies)
    assert page_total == len(set(bodies)) > BIG_NIGHT_PAGES
    assert len(stats) == 1
    assert stats[0].example == "Subscribe to the Example newsletter."
    assert stats[0].page_count == page_total
