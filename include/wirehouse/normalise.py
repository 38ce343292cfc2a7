"""Text normalisation: the body every later stage (dedup, stories, entities) relies on.

Kept cheap and deterministic: Unicode NFC, control and zero-width characters removed,
whitespace folded inside paragraphs, hard-wrapped lines joined back into paragraphs,
paragraphs separated by one blank line, and a small set of generic boilerplate paragraphs
(share prompts, copyright lines, widget strips, wire slugs and byline lines, an author's
closing bio) dropped. `light_body` is the lossless variant the extractor falls back to when
that cleanup would throw the story away. Language detection uses a fixed seed so a re-run
gives the same answer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from langdetect import DetectorFactory, LangDetectException
from langdetect.detector_factory import init_factory

from wirehouse.langdetect_exact import detect_langs  # langdetect's answers, twice as fast

DetectorFactory.seed = 0
# Load the language profiles now: langdetect loads them lazily on first use, and two
# threads doing that at once see a half-loaded factory and answer wrongly.
init_factory()

MIN_WORDS_FOR_LANGUAGE = 20
MIN_LANGUAGE_CONFIDENCE = 0.80
LANGUAGE_SAMPLE_CHARS = 2000  # enough for a confident answer; detection cost grows with text
ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
CONTROL_RE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]")
SPACE_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
WORD_RE = re.compile(r"\w+", re.UNICODE)
BOILERPLATE_RES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(share|share this( article| story)?|tweet|email|print)[.!:]?$",
        r"^(share on|follow us on) (facebook|twitter|x|linkedin|whatsapp)\b.*$",
        r"^(©|\(c\)|copyright)\s.*(all rights reserved|reserved)\.?$",
        r"^(weather|live markets|markets|smiley face)(\s+(weather|live markets|markets))*$",
        r"^(sign up|subscribe) (to|for) (our|the) .*newsletter.*$",
        r"^(read more|related( stories| articles)?|advertisement)[.:]?$",
        r"^click here\b.*$",
        r"^(photo|image|credit|photograph|video)s?\s*:.{0,150}$",
        r"^\(?(photo|image)s?\s+(by|courtesy|credit)\b.{0,150}$",
        r"^\d+\s+of\s+\d+$",
        r"^(_{3,}|-{3,}|\*{3,}|={3,})$",
        r"^our standards\s*:.*$",
        r"^.{0,80}\(@\w{1,15}\)\s+\w+\s+\d{1,2},\s+\d{4}$",
        # a link to another story inside the body: "Related: …", "Also read- …", "[Related: …]"
        r"^\[?(related|also read|read more|read next|see also|don['’]t miss|recommended)"
        r"\s*(:|-|–|—|\.\.\.)\s*\S.{0,200}$",
        r"^\[?(more|watch)\s*:\s*\S.{0,200}$",
    )
]
# a late heading after which pages list other stories: cut the body there
STOP_HEADING_RE = re.compile(
    r"^(more from\b.{0,60}|most (read|popular)\b.{0,40}|recommended( for you| reading)?"
    r"|related( stories| articles| coverage| content| reading)?|you (may|might) also like"
    r"|(read|see) (also|more)|trending( now| stories)?|our sources|stay on the cutting edge"
    r"|don['’]t miss|read next|top (reads|stories)\b.{0,40})"
    r"[:.]?$",
    re.IGNORECASE,
)
# a heading of the apparatus after the story (notes, references, photo credits): cut there
# when it comes in the body's second half; the list under it is often longer than the
# last third STOP_HEADING_RE waits for (a NASA history page's 6 footnotes, a magazine
# cover story's 30 credit lines)
APPARATUS_HEADING_RE = re.compile(
    r"^(footnotes|references|sources|citations|bibliography|(photo|video) credits"
    r"|story source|journal references?)[:.]?$",
    re.IGNORECASE,
)

# a paragraph of story prose: this many words and a sentence's end; a headline or a "Title:
# teaser" link is shorter or ends otherwise. Read off the 11 tails after late headings on
# both development sets (bench/README.md, "Last measured (issue 14: comment threads …)"):
# only the story continuing after a "Most read" heading is prose throughout; not swept.
PROSE_MIN_WORDS = 15
SENTENCE_END = frozenset(".!?\"”’')")
BULLET_RE = re.compile(r"^[-•*–]\s+")
# an affiliate disclosure: "affiliate" with what the outlet gets, or "earn a commission"
DISCLOSURE_RE = re.compile(
    r"\baffiliate\b.{0,200}\b(commissions?|compensat\w+|earn\w*|partnerships?|revenue)\b"
    r"|\b(commissions?|compensat\w+|earn\w*)\b.{0,120}\baffiliate\b"
    r"|\b(may|might) (earn|receive|get) (a |an )?(small )?(share of (the )?sales|commission)",
    re.IGNORECASE,
)
MAX_DISCLOSURE_WORDS = 60  # the disclosures seen on the development pages: 15-40 words
# a repeat this long is a caption or pull quote restating the story; at 8 words the
# questions an interview puts to each guest and a listicle's repeated item names went too
# (fundus_eval 0.9725 -> 0.9717, articles_dev recall lost on 3 pages); 20 lost none.
# Two values tried, on both development sets (bench/README.md, same section).
REPEAT_MIN_WORDS = 20
# Wire copy's furniture around the story, never story text itself: the slug on top (one
# hyphenated all-caps token, "CANAL-BASIN-DRAINED"), a byline line of its own ("By Tom
# Ellery, PA News": up to four capitalised names and an optional ", Agency"), and the end
# mark ("ENDS", "-30-", "###"). The byline stays in `authors`; only the first
# WIRE_HEAD_PARAGRAPHS paragraphs are searched for the slug and the byline.
WIRE_SLUG_RE = re.compile(r"^[A-Z0-9][A-Z0-9'’.&/]*(?:-[A-Z0-9'’.&/:]+)+$")
WIRE_BYLINE_RE = re.compile(
    r"^(?i:by)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){1,3}(?:\s*,\s*[\w .'’&-]{2,40})?$"
)
WIRE_END_RE = re.compile(r"^(ENDS|END|-?30-?|#{3})$")  # in capitals: "End" may be a word
WIRE_HEAD_PARAGRAPHS = 3


def clean_paragraph(text: str) -> str:
    """One paragraph: NFC, no invisible or control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = ZERO_WIDTH_RE.sub("", text)
    text = CONTROL_RE.sub(" ", text)
    return SPACE_RE.sub(" ", text).strip()


def is_boilerplate(paragraph: str) -> bool:
    """Generic boilerplate that no article body needs (per-source learning comes later)."""
    return any(rx.match(paragraph) for rx in BOILERPLATE_RES)


def drop_link_lists(lines: list[str]) -> list[str]:
    """The lines without a "Read next:" / "Don't miss" style heading (STOP_HEADING_RE)
    that introduces a bulleted list, and without that list: links to other stories set
    inside the body, wherever they stand (the late-heading cut only looks at the last
    third)."""
    kept: list[str] = []
    i = 0
    while i < len(lines):
        if STOP_HEADING_RE.match(lines[i]) and i + 1 < len(lines) and BULLET_RE.match(lines[i + 1]):
            i += 1
            while i < len(lines) and BULLET_RE.match(lines[i]):
                i += 1
            continue
        kept.append(lines[i])
        i += 1
    return kept


def drop_repeats(paragraphs: list[str]) -> list[str]:
    """The paragraphs without later repeats of one already given (compared folded, so a
    caption that repeats a sentence without its full stop is a repeat): photo captions and
    pull quotes restate the story, and a story never says a whole paragraph twice. Lines
    under REPEAT_MIN_WORDS words (a "Reply", a subheading used twice) are left alone."""
    seen: set[str] = set()
    kept = []
    for p in paragraphs:
        key = _fold(p)
        if word_count(p) >= REPEAT_MIN_WORDS and key in seen:
            continue
        seen.add(key)
        kept.append(p)
    return kept


def is_disclosure(paragraph: str) -> bool:
    """A commerce page's affiliate disclosure ("… we may earn an affiliate commission"):
    the same sentence on every shopping story of a site, never the story."""
    return word_count(paragraph) <= MAX_DISCLOSURE_WORDS and bool(DISCLOSURE_RE.search(paragraph))


def is_shouting(paragraph: str) -> bool:
    """An all-caps line of 4+ words: a related-story link or a promo, not story text."""
    letters = [c for c in paragraph if c.isalpha()]
    return len(paragraph.split()) >= 4 and len(letters) >= 12 and all(c.isupper() for c in letters)


def normalise_body(text: str, headline: str | None = None) -> str:
    """Extractor text (one paragraph per line) to the warehouse body form: hard-wrapped
    lines joined back into paragraphs, list bullets dropped (the item text is kept),
    generic boilerplate and shouting promo lines removed, a repeat of the headline at the
    top removed, and the body cut at a late "More from …" style heading (only in its last
    third, so a story about recommendations survives)."""
    paragraphs = [BULLET_RE.sub("", p) for p in drop_link_lists(_lines(text))]
    paragraphs = [
        p
        for p in paragraphs
        if WORD_RE.search(p)
        and not is_boilerplate(p)
        and not is_shouting(p)
        and not is_disclosure(p)
    ]
    paragraphs = drop_repeats(strip_wire_furniture(paragraphs))
    if headline and paragraphs and _fold(paragraphs[0]) == _fold(headline):
        paragraphs = paragraphs[1:]
    return "\n\n".join(cut_at_late_heading(paragraphs))


def cut_at_late_heading(paragraphs: list[str]) -> list[str]:
    """The paragraphs up to a late "More from …" heading (in the last third) or an apparatus
    heading (in the second half). A "Most read" heading followed only by story prose is a
    widget whose links the extractor already removed, set in the middle of the story: only
    the heading goes."""
    for i, p in enumerate(paragraphs):
        if i >= max(3, len(paragraphs) * 2 // 3) and STOP_HEADING_RE.match(p):
            if is_story_prose(paragraphs[i + 1 :]):
                return paragraphs[:i] + cut_at_late_heading(paragraphs[i + 1 :])
            return paragraphs[:i]
        if i >= max(3, len(paragraphs) // 2) and APPARATUS_HEADING_RE.match(p):
            return paragraphs[:i]
    return paragraphs


def is_story_prose(paragraphs: list[str]) -> bool:
    """Whether every paragraph is a sentence of story length, as no list of other stories
    is: those are headlines, or headlines and teasers, and at least one line is short."""
    return bool(paragraphs) and all(
        word_count(p) >= PROSE_MIN_WORDS and p.rstrip()[-1] in SENTENCE_END for p in paragraphs
    )


def strip_wire_furniture(paragraphs: list[str]) -> list[str]:
    """The paragraphs without wire copy's slug and byline lines near the top and its end
    mark at the foot (see WIRE_SLUG_RE)."""
    head = [
        p
        for p in paragraphs[:WIRE_HEAD_PARAGRAPHS]
        if not (WIRE_SLUG_RE.match(p) or WIRE_BYLINE_RE.match(p))
    ]
    paragraphs = head + paragraphs[WIRE_HEAD_PARAGRAPHS:]
    if paragraphs and WIRE_END_RE.match(paragraphs[-1]):
        paragraphs = paragraphs[:-1]
    return paragraphs


def light_body(text: str, headline: str | None = None) -> str:
    """Extractor text to the body form with only what can never remove story: whitespace
    and invisible characters cleaned, hard-wrapped lines joined, lines without a letter or
    digit (``----`` rules, ``***``), wire furniture (slug, byline line, end mark) and a
    repeat of the headline at the top dropped. The
    fallback when :func:`normalise_body` leaves too little (see ``extract.lost_story``):
    all-caps wire copy, for one, is nothing but "shouting" lines to the full cleanup."""
    paragraphs = strip_wire_furniture([p for p in _lines(text) if WORD_RE.search(p)])
    if headline and paragraphs and _fold(paragraphs[0]) == _fold(headline):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs)


def _lines(text: str) -> list[str]:
    """The text's non-empty lines, cleaned, with hard-wrapped runs joined."""
    lines = [clean_paragraph(line) for line in text.replace("\r\n", "\n").split("\n")]
    return unwrap_lines([line for line in lines if line])


# Hard-wrapped text (plain-text wire copy, press releases, mailing-list archives saved as
# HTML with one <p> or <br> per printed line): most lines end near one width. Printed
# widths are 60-80 columns; a prose paragraph on the web is rarely under 100 characters,
# so only texts whose 90th-percentile line is at most WRAP_MAX_WIDTH count; lists of
# short items (menus, tables of names) are narrower than any print column.
WRAP_MIN_LINES = 8
WRAP_MIN_WIDTH = 40
WRAP_MAX_WIDTH = 100
WRAP_FULL_SLACK = 15  # a line this close to the width was broken by the wrap (longest word)
WRAP_MIN_FULL_SHARE = 0.5  # of the lines: half ending near the width means a wrap


def unwrap_lines(lines: list[str]) -> list[str]:
    """Lines of hard-wrapped text joined back into paragraphs; other text unchanged.

    A line that reaches (within WRAP_FULL_SLACK) the text's wrap width was broken by the
    wrap, so the next line continues it; a shorter line ends its paragraph. Only applies
    when at least WRAP_MIN_FULL_SHARE of WRAP_MIN_LINES+ lines end near one width of at
    most WRAP_MAX_WIDTH (and at least WRAP_MIN_WIDTH) characters, which ordinary web
    paragraphs never do."""
    if len(lines) < WRAP_MIN_LINES:
        return lines
    lengths = sorted(len(line) for line in lines)
    width = lengths[int(len(lengths) * 0.9) - 1]
    if not WRAP_MIN_WIDTH <= width <= WRAP_MAX_WIDTH:
        return lines
    full = [width - WRAP_FULL_SLACK <= len(line) <= width + 2 for line in lines]
    if sum(full) < WRAP_MIN_FULL_SHARE * len(lines):
        return lines
    joined: list[str] = []
    carry = False
    for line, was_full in zip(lines, full, strict=True):
        if carry and WORD_RE.search(line):
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
        carry = was_full and bool(WORD_RE.search(line))
    return joined


def _fold(text: str) -> str:
    return " ".join(WORD_RE.findall(text.lower()))


def word_count(text: str) -> int:
    return len(WORD_RE.findall(text))


def content_hash(body: str) -> str:
    """Hash of the lowercased, whitespace-folded body: equal for verbatim copies."""
    folded = " ".join(body.lower().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]


def detect_language(body: str) -> tuple[str, float]:
    """ISO 639-1 code and confidence; ``und`` for short or ambiguous text."""
    if word_count(body) < MIN_WORDS_FOR_LANGUAGE:
        return "und", 0.0
    try:
        best = detect_langs(body[:LANGUAGE_SAMPLE_CHARS])[0]
    except LangDetectException:
        return "und", 0.0
    if best.prob < MIN_LANGUAGE_CONFIDENCE:
        return "und", float(best.prob)
    return best.lang, float(best.prob)


# "DAKAR, Senegal —", "WASHINGTON (AP) —", "ATLANTA -- ", "NEW YORK, Nov 21 (Reuters) - "
DATELINE_RE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’\-]+(?:\s[A-Z][A-Z.'’\-]+){0,3}"
    r"(?:,\s*[A-Z][A-Za-z.'’\-]*(?:\s[A-Za-z0-9.'’\-]+){0,2}){0,2})"
    r"\s*(?:\((?P<agency>[A-Za-z .]{2,30})\))?\s*(?:—|–|--|-|:)\s+(?P<rest>\S.*)$",
    re.DOTALL,
)
CREDITS_RE = re.compile(
    r"(\bcontributed\b(\s+(to\s+)?(this\s+)?(report|reporting|story))?"
    r"|\breported\s+(this\s+story\s+)?from\b"
    r"|^(additional\s+)?(reporting|writing|editing)\s+by\b"
    r"|^(this|the)\s+(story|article|report)\s+was\s+(reported|written|produced)\b"
    r"|\boriginally\s+(published|appeared)\b|^contributing\s*:"
    r"|^includes\s+(information|reporting)\s+from\b)",
    re.IGNORECASE,
)
MAX_CREDIT_WORDS = 60
MAX_CREDIT_PARAGRAPHS = 3


def split_dateline_parts(body: str) -> tuple[str | None, str | None, str]:
    """Take the dateline off the first paragraph: its place, the agency in brackets if
    any, and the body without it: ('DAKAR, Senegal', 'AP', body).

    Only an all-caps place (optionally followed by a region and an agency in brackets) and a
    dash counts, so an ordinary first sentence is never cut."""
    first, sep, rest = body.partition("\n\n")
    match = DATELINE_RE.match(first)
    if not match or len(match["place"]) > 60 or word_count(match["rest"]) < 3:
        return None, None, body
    agency = match["agency"].strip() if match["agency"] else None
    return match["place"].strip(" ,"), agency, match["rest"] + sep + rest


# A closing paragraph about one of the article's own authors ("Jane Roe is a senior editor
# at …", "Outlet's Jane Roe is the author of …", "Steph Roe, a former …, covers …"): the
# writer's bio, page furniture that differs between outlets, not the story. Searched in the
# last BIO_PARAGRAPHS paragraphs: up to MAX_BIO_WORDS words starting with a capitalised name
# that holds the first or last name of a byline name of 2+ words (bylines give "Stephanie
# Roe", bios "Steph Roe") and then a bio's verb; the bio and what follows it are dropped.
# On the development pages: 14 bios, and one op-ed whose gold keeps the author's bio
# (bench/README.md, "Body quality").
BIO_VERB_RE = re.compile(
    r"^(?:,|(?:is|was|has|writes|covers|reports|joined|makes|currently|lives|works)\b)"
)
OUTLET_POSSESSIVE_RE = re.compile(r"^[\w&.'’ -]{1,40}['’]s\s+")  # "Outlet's Jane Roe"
BIO_NAME_RE = re.compile(r"^(?:[A-Z][\w.'’-]*\s){0,3}[A-Z][\w.'’-]*")
BIO_PARAGRAPHS = 3
MAX_BIO_WORDS = 200  # the longest bio on the development pages: 176 words


def drop_author_bios(body: str, authors: list[str]) -> str:
    """The body without a closing bio paragraph of its authors (see BIO_VERB_RE) and what
    follows it."""
    paragraphs = body.split("\n\n")
    full = [a.split() for a in authors if len(a.split()) >= 2]
    firsts, lasts = {n[0] for n in full}, {n[-1] for n in full}
    for i in range(len(paragraphs) - 1, max(0, len(paragraphs) - 1 - BIO_PARAGRAPHS), -1):
        if word_count(paragraphs[i]) <= MAX_BIO_WORDS and _is_bio(paragraphs[i], firsts, lasts):
            return "\n\n".join(paragraphs[:i])
    return body


def _is_bio(paragraph: str, firsts: set[str], lasts: set[str]) -> bool:
    """Whether the paragraph starts with a byline name and a bio's verb: the name holds a
    byline's last name, or is a byline's first name alone ("Gemma currently works …"), so
    another person of the same first name ("Jane Doe is expected …") is no bio."""
    text = paragraph.lstrip("—–- ")
    for candidate in (text, OUTLET_POSSESSIVE_RE.sub("", text, count=1)):
        match = BIO_NAME_RE.match(candidate)
        if not match:
            continue
        name = match[0].split()
        if (lasts.intersection(name) or (len(name) == 1 and name[0] in firsts)) and (
            BIO_VERB_RE.match(candidate[match.end() :].lstrip())
        ):
            return True
    return False


# Closing prompts addressed to the reader, never story: newsletter and subscription offers,
# "follow us on …", comment and bookmark prompts, a bare "Label: https://…" link line, and
# closing literature references ("A. Roe et al. 2023. …", "More information: …"). Only
# trailing paragraphs of up to MAX_PROMPT_WORDS words go (MAX_REFERENCE_WORDS for a
# reference); a prompt starting with an imperative needs a promotion's word too, so a
# closing sentence such as "Get well soon, they wrote." stays.
PROMPT_VERB_RE = re.compile(
    r"^\[?(sign up|subscribe|join|follow|get|download|want|don['’]t miss|stay)\b(?![-’'])",
    re.IGNORECASE,
)
PROMPT_NOUN_RE = re.compile(
    r"\b(newsletters?|inbox|subscri(be|bing|ption)|premium|forums?|conversations?|alerts"
    r"|app|updates|facebook|twitter|instagram|tiktok|youtube|threads|snapchat)\b",
    re.IGNORECASE,
)
PROMPT_RE = re.compile(
    r"(\bnewsletter\b.*\b(subscrib|sign up|delivered)|\b(sign up|subscribe)\b.*\bnewsletter\b"
    r"|\bfollow (us|him|her|them|[\w’'. ]{1,40}) (on (facebook|twitter|x|instagram|snapchat"
    r"|threads|tiktok|linkedin|youtube)|at https?://)"
    r"|\bbookmark this article\b|\bpost your comment\b|^[\w .'’&-]{1,40}:\s*https?://\S+$)",
    re.IGNORECASE,
)
REFERENCE_RE = re.compile(
    r"(^more information:|\bdoi:?\s*10\.\d|^[\w.'’ -]{1,80} et al\.?,?\s*\(?(19|20)\d\d\b)",
    re.IGNORECASE,
)
# a paywall's "Subscribe to continue reading" is no prompt to drop: the record's
# `paywalled` flag reads it at the body's end (extract.PAYWALL_RE, after a subscribe word)
PAYWALL_ASK = r"(to (continue|keep) reading|to read (the|this) (full|rest)|for full access)"
PAYWALL_NOTICE_RE = re.compile(rf"\b{PAYWALL_ASK}\b", re.IGNORECASE)
MAX_PROMPT_WORDS = 45
MAX_REFERENCE_WORDS = 80
CLOSING_ROUNDS = 3  # prompts, then a bio, then the prompts before it: "Join …", bio, "Sign up …"


def is_prompt(paragraph: str) -> bool:
    """A paragraph addressed to the reader to sign up, subscribe, follow or comment."""
    words = word_count(paragraph)
    if PAYWALL_NOTICE_RE.search(paragraph):
        return False
    if words > MAX_PROMPT_WORDS:
        return words <= MAX_REFERENCE_WORDS and bool(REFERENCE_RE.search(paragraph))
    return bool(
        PROMPT_RE.search(paragraph)
        or REFERENCE_RE.search(paragraph)
        or (PROMPT_VERB_RE.match(paragraph) and PROMPT_NOUN_RE.search(paragraph))
    )


def drop_closing_furniture(body: str, authors: list[str]) -> str:
    """The body without what closes an article page after the story: reader prompts and
    references (:func:`is_prompt`) and the author's bio (:func:`drop_author_bios`), in
    either order. The first paragraph always stays."""
    for _ in range(CLOSING_ROUNDS):
        paragraphs = body.split("\n\n")
        while len(paragraphs) > 1 and is_prompt(paragraphs[-1]):
            paragraphs.pop()
        before, body = body, drop_author_bios("\n\n".join(paragraphs), authors)
        if body == before:
            break
    return body


def split_credits(body: str) -> tuple[str, str | None]:
    """Move closing credit lines ('X reported from Y. Z contributed.') out of the body:
    they differ between outlets running the same story, and are no part of the story."""
    paragraphs = body.split("\n\n")
    credits: list[str] = []
    while len(paragraphs) > 1 and len(credits) < MAX_CREDIT_PARAGRAPHS:
        last = paragraphs[-1]
        if word_count(last) > MAX_CREDIT_WORDS or not CREDITS_RE.search(last):
            break
        credits.insert(0, paragraphs.pop())
    return "\n\n".join(paragraphs), ("\n\n".join(credits) or None)
