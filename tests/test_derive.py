"""Derivation on our own fixtures (tests/fixtures/derive, invented texts): a newspaper's
trimmed, reordered and reworded rewrite of wire copy is derived from it, an independent
report of the same court case is not, wire copy in two takes counts as one source, and
hard-wrapped text reads as the same text unwrapped."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wirehouse import derive, stories

FIXTURES = Path(__file__).parent / "fixtures" / "derive"
T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


def takes() -> list[derive.Profile]:
    return [derive.profile(fixture("wire_take1")), derive.profile(fixture("wire_take2"))]


def test_a_trimmed_reordered_reworded_rewrite_of_wire_copy_is_derived() -> None:
    paper = derive.profile(fixture("paper_rewrite"))
    wire = takes()
    # it keeps too few sentences in order for the sentence rule alone...
    pooled = [s for p in wire for s in p.sentences]
    assert derive.sentence_score(paper.sentences, pooled) < derive.DERIVED_SCORE
    # ...but keeps the agency's wording outside the quotes
    assert derive.phrase_share(paper.phrases, [p.phrases for p in wire]) >= derive.PHRASE_SHARE
    assert derive.derivation_score(paper, wire) >= derive.DERIVED_SCORE


def test_an_independent_report_with_the_same_names_numbers_and_quote_is_not_derived() -> None:
    report = derive.profile(fixture("independent_report"))
    assert derive.derivation_score(report, takes()) < derive.DERIVED_SCORE
    # the judge's words, quoted by both, are no evidence of copying
    said = "The judge said he betrayed the trust of his neighbours."
    quoted = 'The judge said: "You betrayed the trust of your neighbours."'
    assert ("betrayed", "the", "trust") in derive.phrases(said)
    assert ("betrayed", "the", "trust") not in derive.phrases(quoted)
    assert not any("betrayed" in gram for gram in report.phrases)


def test_quotations_are_left_out() -> None:
    assert derive.unquoted('He said: "We will appeal," and left.') == ["He said: ", " and left."]
    assert derive.unquoted("It read: ``The music is slushy'' and more") == [
        "It read: ",
        " and more",
    ]
    # single quotes, British style; apostrophes inside or after a word are not quotes
    assert derive.unquoted("He said: 'Ring the police?' The dons' Birtwistle's work.") == [
        "He said: ",
        " The dons' Birtwistle's work.",
    ]
    # a quotation still open at the paragraph's end runs to it
    assert derive.unquoted("Mary wrote: “For the record, I love my sister") == ["Mary wrote: "]
    # a doubled mark is one mark
    assert derive.unquoted('""We learned," Mr Blum said.') == [" Mr Blum said."]


def test_names_and_numbers_alone_are_no_phrase() -> None:
    grams = derive.phrases("Sheriff Anton Reyes said 3,200 residents of Pellham left.")
    assert ("sheriff", "anton", "reye") not in grams  # only names
    assert ("200", "resident", "of") in grams  # holds an ordinary word


def test_hard_wrapped_text_reads_as_unwrapped() -> None:
    text = fixture("wire_take1")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    wrapped = "\n\n".join(textwrap.fill(p, 60) for p in paragraphs)
    # a wrap normalisation did not recognise: every printed line a paragraph of its own
    line_per_paragraph = "\n\n".join(line for p in paragraphs for line in textwrap.wrap(p, 60))
    for body in (wrapped, line_per_paragraph):
        assert derive.sentences(body) == derive.sentences(text)
        assert derive.phrases(body) == derive.phrases(text)
    paper = derive.profile(fixture("paper_rewrite"))
    assert derive.derivation_score(paper, [derive.profile(line_per_paragraph)]) >= (
        derive.DERIVED_SCORE
    )


def test_wire_paragraph_marks_end_sentences() -> None:
    """Some wire systems end each paragraph with a mark ("<") that the old splitter took
    for more sentence: a whole story read as one sentence."""
    body = (
        "Composer Keith Burstein told the High Court today that he voiced disapproval.< "
        "Justin Rushbrooke, representing the newspaper, asked whether he heckled.< "
        "``Was the Times diarist not entitled to criticise this behaviour?''< "
        "Mr Burstein replied that disruption during a performance was wrong.<"
    )
    assert len(derive.sentences(body)) == 4


def test_wire_takes_are_scored_together() -> None:
    """A paper's piece drawing on two takes of the wire story is derived from the wire,
    though neither take alone would make it so; it names the take weighing most."""
    brief = derive.profile(fixture("paper_brief"))
    first, second = takes()
    assert derive.derivation_score(brief, [first]) < derive.DERIVED_SCORE
    assert derive.derivation_score(brief, [second]) < derive.DERIVED_SCORE
    assert derive.derivation_score(brief, [first, second]) >= derive.DERIVED_SCORE

    bodies = {
        "take1": fixture("wire_take1"),
        "take2": fixture("wire_take2"),
        "brief": fixture("paper_brief"),
        "rewrite": fixture("paper_rewrite"),
    }
    sources = {"take1": "wire", "take2": "wire", "brief": "courier", "rewrite": "gazette"}
    times = {
        "take1": T0,
        "take2": T0 + timedelta(hours=2),
        "brief": T0 + timedelta(hours=18),
        "rewrite": T0 + timedelta(hours=19),
    }
    story_of = dict.fromkeys(bodies, "st_fraud")
    found = stories.find_derivations(story_of, times, sources, bodies, sorted(bodies))
    assert found["brief"].derived_from == "take1"
    assert found["brief"].score >= derive.DERIVED_SCORE
    assert found["rewrite"].derived_from == "take1"  # not the brief, published before it
    # one source's takes are not rewrites of each other, and nothing earlier was there
    assert "take1" not in found and "take2" not in found
