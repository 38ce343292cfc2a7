"""wirehouse.langdetect_exact gives langdetect's own answers: same languages, same
probabilities to the last bit, same exception, on real and unusual texts."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import langdetect
import lxml.html
import pytest
from langdetect.lang_detect_exception import LangDetectException

from wirehouse import langdetect_exact, normalise

TESTS = Path(__file__).parent
# ../shared/bench/extraction beside the checkout, or beside its parent (a worktree)
EXTRACTION_BENCH = next(
    (
        base / "shared" / "bench" / "extraction"
        for base in TESTS.parents[1:3]
        if (base / "shared" / "bench" / "extraction").exists()
    ),
    TESTS.parents[1] / "shared" / "bench" / "extraction",
)
# Unicode ranges langdetect normalises differently: Latin, Latin-1, Latin Extended-B,
# Greek, Cyrillic, Hebrew, Arabic, Devanagari, Thai, kana, CJK, Hangul, Latin Extended
# Additional (Vietnamese), general punctuation
SCRIPTS = [
    (0x41, 0x7A),
    (0xC0, 0x24F),
    (0x370, 0x3FF),
    (0x400, 0x4FF),
    (0x590, 0x5FF),
    (0x600, 0x6FF),
    (0x900, 0x97F),
    (0xE00, 0xE7F),
    (0x3040, 0x30FF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
]


def answer(detect, text: str) -> object:  # type: ignore[no-untyped-def]
    try:
        return [(lang.lang, lang.prob) for lang in detect(text)]
    except LangDetectException as exc:
        return ("raised", str(exc))


def same_as_langdetect(texts: list[str]) -> None:
    for text in texts:
        assert answer(langdetect_exact.detect_langs, text) == answer(
            langdetect.detect_langs, text
        ), text[:80]


def mixed_script_texts(count: int) -> list[str]:
    rng = random.Random(1)
    texts = []
    for _ in range(count):
        main, other = rng.choice(SCRIPTS), rng.choice(SCRIPTS)
        words = []
        for _ in range(rng.randint(1, 120)):
            lo, hi = main if rng.random() < 0.8 else other
            words.append("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 9))))
        texts.append(" ".join(words))
    return texts


def test_same_answers_on_the_golden_bodies_and_fixture_stories() -> None:
    texts = [str(json.loads(p.read_text())["body"] or "") for p in TESTS.glob("golden/*.json")]
    texts += [p.read_text() for p in (TESTS / "fixtures" / "stories").glob("*.txt")]
    assert len(texts) > 10
    same_as_langdetect([t[: normalise.LANGUAGE_SAMPLE_CHARS] for t in texts])


def test_same_answers_on_texts_in_many_scripts() -> None:
    texts = mixed_script_texts(150)
    texts += ["", "12345 !!! ---", "ABC DEF GHI", "Ångström  über   façade — “quoted” ș ț"]
    texts += ["Vie\u0302\u0323t Nam " * 10, "http://example.com/x a@b.org " * 5 + "plain words"]
    same_as_langdetect(texts)


def test_texts_without_features_raise_as_langdetect_does() -> None:
    with pytest.raises(LangDetectException):
        langdetect_exact.detect_langs("1234 5678")


@pytest.mark.skipif(not EXTRACTION_BENCH.exists(), reason="extraction benchmark data absent")
def test_same_answers_on_the_extraction_benchmark_pages() -> None:
    texts = []
    for path in sorted(EXTRACTION_BENCH.glob("**/*.gz"))[:120]:
        text = " ".join(
            lxml.html.fromstring(gzip.decompress(path.read_bytes())).text_content().split()
        )
        texts += [text[i : i + 2000] for i in range(0, min(len(text), 6000), 2000)]
    same_as_langdetect(texts)
