"""Extraction: golden files for every bundled sample page, plus behaviour checks.

Golden files live in tests/golden/. After an intended change to extraction, regenerate
them with `WIREHOUSE_UPDATE_GOLDEN=1 make test` and review the diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wirehouse.dates import parse_timestamp
from wirehouse.extract import ExtractionEmpty, extract_article
from wirehouse.fetch import decode_html
from wirehouse.normalise import content_hash, detect_language, normalise_body

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "include" / "sample_articles").glob("*/*.html"))
GOLDEN = Path(__file__).parent / "golden"


def extract_sample(path: Path) -> dict:
    html = decode_html(path.read_bytes(), None)
    return extract_article(html, path.as_uri(), trust_any_site=True).to_json_dict()


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(path: Path) -> None:
    golden = GOLDEN / f"{path.parent.name}__{path.stem}.json"
    try:
        actual = extract_sample(path)
    except ExtractionEmpty as exc:
        actual = {"error": str(exc)}
    if os.environ.get("WIREHOUSE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with WIREHOUSE_UPDATE_GOLDEN=1"
    assert actual == json.loads(golden.read_text(encoding="utf-8"))


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
