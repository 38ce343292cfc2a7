"""Text normalisation: the body every later stage (dedup, stories, entities) relies on.

Kept cheap and deterministic: Unicode NFC, control and zero-width characters removed,
whitespace folded inside paragraphs, paragraphs separated by one blank line, and a small
set of generic boilerplate paragraphs (share prompts, copyright lines, widget strips)
dropped. Language detection uses a fixed seed so a re-run gives the same answer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from langdetect import DetectorFactory, LangDetectException, detect_langs
from langdetect.detector_factory import init_factory

DetectorFactory.seed = 0
# Load the language profiles now: langdetect loads them lazily on first use, and two
# threads doing that at once see a half-loaded factory and answer wrongly.
init_factory()

MIN_WORDS_FOR_LANGUAGE = 20
MIN_LANGUAGE_CONFIDENCE = 0.80
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
    )
]


def clean_paragraph(text: str) -> str:
    """One paragraph: NFC, no invisible or control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = ZERO_WIDTH_RE.sub("", text)
    text = CONTROL_RE.sub(" ", text)
    return SPACE_RE.sub(" ", text).strip()


def is_boilerplate(paragraph: str) -> bool:
    """Generic boilerplate that no article body needs (per-source learning comes later)."""
    return any(rx.match(paragraph) for rx in BOILERPLATE_RES)


def normalise_body(text: str) -> str:
    """Extractor text (one paragraph per line) to the warehouse body form."""
    paragraphs = (clean_paragraph(line) for line in text.replace("\r\n", "\n").split("\n"))
    return "\n\n".join(p for p in paragraphs if p and not is_boilerplate(p))


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
        best = detect_langs(body)[0]
    except LangDetectException:
        return "und", 0.0
    if best.prob < MIN_LANGUAGE_CONFIDENCE:
        return "und", float(best.prob)
    return best.lang, float(best.prob)
