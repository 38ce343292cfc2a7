"""Collection over a real HTTP server on 127.0.0.1: one fetch row per candidate, whatever
happens to it, and one article row per page that yields text."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import lantern_source
from pytest_httpserver import HTTPServer

from wirehouse import raw
from wirehouse.collect import Collected, collect_source
from wirehouse.discover import Candidate
from wirehouse.fetch import Fetcher, FetchResult
from wirehouse.sources import Source

RUN_DATE = "2026-11-21"

HARBOUR = (
    "The harbour board voted on Tuesday evening to replace the ageing swing bridge at the "
    "mouth of the inner basin, ending a dispute that has divided fishermen and shopkeepers "
    "for almost a decade. Engineers told the meeting that the old steel frame had corroded "
    "faster than expected and could no longer be trusted to open in high winds.",
    "Work is due to begin in the spring and should take eighteen months. During that time a "
    "temporary footbridge will carry pedestrians, while vehicles will be diverted along the "
    "coast road. Several traders said they feared a drop in passing custom, but the board "
    "promised a fund to help businesses that can show lost income.",
)
LIBRARY = (
    "The county library will stay open until nine o'clock on weeknights from next month, "
    "after a pilot scheme drew far more visitors than the council had expected. Staff "
    "counted more than four thousand evening visits over the summer, many of them students "
    "preparing for examinations and parents collecting children from clubs nearby.",
    "Councillors agreed to fund two extra posts from the culture budget. The head librarian "
    "said the longer hours would also allow the building to host evening talks, a weekly "
    "repair café and a reading group for adults learning English as a second language, "
    "which has had a waiting list since it began in the spring.",
)
FERRY = (
    "The island ferry resumed its full timetable on Monday after three weeks of reduced "
    "sailings caused by a fault in the main engine. The operator said the replacement part "
    "had been shipped from the manufacturer in Finland and fitted over the weekend by a "
    "team of engineers who worked through two nights to finish the repair.",
    "Islanders had complained that the single daily crossing left them unable to reach "
    "hospital appointments on the mainland. The operator apologised and said it would "
    "refund season ticket holders for the lost sailings, and that a second vessel would be "
    "chartered next winter as cover while the main ship is in dry dock.",
)


def article_page(title: str, paragraphs: tuple[str, ...], canonical: str | None = None) -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paras = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"{link}</head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>{title}</h1>{paras}</article>"
        "<footer>Copyright The Lantern</footer></body></html>"
    ).encode()


EMPTY_PAGE = (
    b"<!DOCTYPE html><html><head><title>Menu</title></head><body>"
    b"<nav><a href='/'>Home</a></nav><div></div></body></html>"
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    + zlib.compress(b"\x00" * 64)
)


def run(
    source: Source,
    candidates: list[Candidate],
    *,
    known_urls: frozenset[str] = frozenset(),
    raw_dir: Path | None = None,
) -> Collected:
    def keep(result: FetchResult) -> None:
        assert raw_dir is not None
        result.body_sha256 = raw.archive(raw_dir, result.body)

    with Fetcher(
        "Wirehouse-test/1",
        allow_private_hosts=source.allow_private_hosts,
        delay_seconds=source.delay_seconds,
        concurrency=source.concurrency,
        sleep=lambda _s: None,
    ) as fetcher:
        return collect_source(
            source,
            RUN_DATE,
            candidates,
            [],
            fetcher,
            known_urls=known_urls,
            archive=keep if raw_dir is not None else None,
        )


def outcomes(collected: Collected) -> list[tuple[str, str]]:
    return sorted((row["url"], row["outcome"]) for row in collected.fetches)


def serve(httpserver: HTTPServer, pages: dict[str, tuple[bytes, str]]) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    for path, (body, ctype) in pages.items():
        httpserver.expect_request(path).respond_with_data(body, content_type=ctype)
    httpserver.expect_request("/missing").respond_with_data("no such page", status=404)


def hits(httpserver: HTTPServer) -> list[str]:
    return sorted(request.path for request, _ in httpserver.log)


def test_every_candidate_gets_exactly_one_row(httpserver: HTTPServer, tmp_path: Path) -> None:
    harbour = article_page("Harbour bridge to be replaced", HARBOUR)
    library_a = article_page("Library opens late", LIBRARY, canonical="/news/library")
    library_b = article_page("Library opens late (print)", LIBRARY, canonical="/news/library")
    serve(
        httpserver,
        {
            "/news/harbour": (harbour, "text/html; charset=utf-8"),
            "/img/chart": (PNG, "text/html"),
            "/menu": (EMPTY_PAGE, "text/html"),
            "/news/library-amp": (library_a, "text/html; charset=utf-8"),
            "/print/library": (library_b, "text/html; charset=utf-8"),
            "/news/old": (article_page("Ferry back", FERRY), "text/html"),
        },
    )
    u = httpserver.url_for
    listed = "2026-11-21T06:30:00+00:00"
    candidates = [
        Candidate(url=u("/news/harbour"), via="url", lastmod=listed),
        Candidate(url=u("/missing"), via="url"),
        Candidate(url=u("/img/chart"), via="url"),
        Candidate(url=u("/menu"), via="url"),
        Candidate(url=u("/news/harbour"), via="feed"),
        Candidate(url=u("/news/library-amp"), via="url"),
        Candidate(url=u("/print/library"), via="url"),
        Candidate(url=u("/news/old"), via="sitemap"),
    ]
    raw_dir = tmp_path / "raw"
    source = lantern_source(httpserver, [c.url for c in candidates])
    got = run(source, candidates, known_urls=frozenset({u("/news/old")}), raw_dir=raw_dir)

    assert len(got.fetches) == len(candidates)
    assert outcomes(got) == sorted(
        [
            (u("/news/harbour"), "ok"),
            (u("/missing"), "http_error"),
            (u("/img/chart"), "not_html"),
            (u("/menu"), "extraction_empty"),
            (u("/news/harbour"), "duplicate_url"),
            (u("/news/library-amp"), "ok"),
            (u("/print/library"), "duplicate_url"),
            (u("/news/old"), "already_fetched"),
        ]
    )
    # the repeated URL and the already-fetched one were never requested
    assert hits(httpserver) == sorted(
        [
            "/robots.txt",
            "/news/harbour",
            "/missing",
            "/img/chart",
            "/menu",
            "/news/library-amp",
            "/print/library",
        ]
    )
    rows = {(r["url"], r["outcome"]): r for r in got.fetches}
    assert len({r["fetch_id"] for r in got.fetches}) == len(got.fetches)
    assert all(r["run_date"] == RUN_DATE and r["source_id"] == "lantern" for r in got.fetches)
    assert all(r["url_kind"] == "article" for r in got.fetches)

    ok = rows[(u("/news/harbour"), "ok")]
    assert (ok["http_status"], ok["attempts"], ok["error"]) == (200, 1, None)
    assert ok["final_url"] == u("/news/harbour") and ok["bytes"] == len(harbour)
    assert ok["listed_at"] == datetime(2026, 11, 21, 6, 30, tzinfo=UTC)
    assert raw.read(raw_dir, ok["body_sha256"]) == harbour

    missing = rows[(u("/missing"), "http_error")]
    assert (missing["http_status"], missing["error"], missing["body_sha256"]) == (
        404,
        "HTTP 404",
        None,
    )
    not_html = rows[(u("/img/chart"), "not_html")]
    assert not_html["error"] == "content type 'text/html'"
    assert raw.read(raw_dir, not_html["body_sha256"]) == PNG  # archived before extraction
    empty = rows[(u("/menu"), "extraction_empty")]
    assert "no article text" in empty["error"]
    for skipped, reason in [
        ((u("/news/harbour"), "duplicate_url"), "already collected in this run"),
        ((u("/news/old"), "already_fetched"), "fetched successfully on an earlier night"),
    ]:
        row = rows[skipped]
        assert (row["attempts"], row["http_status"], row["body_sha256"], row["error"]) == (
            0,
            None,
            None,
            reason,
        )
    canon_dup = rows[(u("/print/library"), "duplicate_url")]
    assert (canon_dup["http_status"], canon_dup["attempts"]) == (200, 1)
    assert canon_dup["error"] == "same canonical URL as another page"
    assert raw.read(raw_dir, canon_dup["body_sha256"]) == library_b

    # articles: the harbour story and one library story, with their fetch rows' ids
    assert [a["canonical_url"] for a in got.articles] == [
        u("/news/harbour"),
        u("/news/library"),
    ]
    harbour_article, library_article = got.articles
    assert harbour_article["fetch_id"] == ok["fetch_id"]
    assert library_article["fetch_id"] == rows[(u("/news/library-amp"), "ok")]["fetch_id"]
    assert library_article["url"] == u("/news/library-amp")
    for article in got.articles:
        assert (article["run_date"], article["source_id"]) == (RUN_DATE, "lantern")
        assert article["word_count"] >= 60
    assert harbour_article["title"] == "Harbour bridge to be replaced"
    assert "swing bridge" in harbour_article["body"]
    assert harbour_article["listed_at"] == datetime(2026, 11, 21, 6, 30, tzinfo=UTC)
    assert library_article["listed_at"] is None
    assert harbour_article["article_id"] != library_article["article_id"]


def test_refresh_fetches_known_urls_again(httpserver: HTTPServer) -> None:
    ferry = article_page("Ferry back on full timetable", FERRY)
    serve(httpserver, {"/news/ferry": (ferry, "text/html")})
    url = httpserver.url_for("/news/ferry")
    candidates = [Candidate(url=url, via="sitemap", lastmod="2026-11-20")]
    known = frozenset({url})

    skipped = run(lantern_source(httpserver, [url]), candidates, known_urls=known)
    assert outcomes(skipped) == [(url, "already_fetched")] and skipped.articles == []
    assert hits(httpserver) == []

    refreshed = run(lantern_source(httpserver, [url], refresh=True), candidates, known_urls=known)
    assert outcomes(refreshed) == [(url, "ok")]
    [article] = refreshed.articles
    assert article["canonical_url"] == url and "island ferry" in article["body"]
    assert article["listed_at"] == datetime(2026, 11, 20, tzinfo=UTC)
    assert article["fetch_id"] == refreshed.fetches[0]["fetch_id"]
    assert hits(httpserver) == ["/news/ferry", "/robots.txt"]


def test_max_urls_caps_fetches_and_records_the_rest(httpserver: HTTPServer) -> None:
    """URLs beyond max_urls are not fetched; they are counted into ONE over_limit row for
    the source and night (url: its home page), however many there are."""
    pages = {
        "/news/harbour": (article_page("Harbour", HARBOUR), "text/html"),
        "/news/library": (article_page("Library", LIBRARY), "text/html"),
        "/news/ferry": (article_page("Ferry", FERRY), "text/html"),
        "/news/quay": (article_page("Quay", HARBOUR), "text/html"),
    }
    serve(httpserver, pages)
    urls = [httpserver.url_for(p) for p in pages]
    got = run(
        lantern_source(httpserver, urls, max_urls=2),
        [Candidate(url=url, via="feed") for url in urls],
    )
    home = httpserver.url_for("/")
    assert outcomes(got) == sorted([(urls[0], "ok"), (urls[1], "ok"), (home, "over_limit")])
    over = next(r for r in got.fetches if r["outcome"] == "over_limit")
    assert (over["url_kind"], over["attempts"], over["error"]) == (
        "source",
        0,
        "2 candidates over max_urls=2",
    )
    assert [a["url"] for a in got.articles] == urls[:2]
    assert "/news/ferry" not in hits(httpserver) and "/news/quay" not in hits(httpserver)
    assert len({r["fetch_id"] for r in got.fetches}) == 3


def test_extraction_on_worker_processes_matches_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With enough pages, extraction runs on a process pool: same rows as in-process."""
    import shutil
    from concurrent.futures import ProcessPoolExecutor

    from wirehouse import collect

    samples = sorted((Path(__file__).parents[1] / "include" / "sample_articles").glob("*/*.html"))
    cands = []
    for i in range(100):
        page = tmp_path / f"p{i}.html"
        shutil.copy(samples[i % len(samples)], page)
        cands.append(Candidate(url=page.as_uri(), via="file", path=str(page)))
    src = Source(id="s", name="S", home_url="https://s.example/", files=("x",), max_urls=1000)

    def run(processes: str) -> tuple[list[dict], list[dict]]:
        monkeypatch.setenv("WIREHOUSE_EXTRACT_PROCESSES", processes)
        with Fetcher("t") as fetcher:
            got = collect_source(src, "2026-11-22", cands, [], fetcher)
        drop = ("fetched_at", "elapsed_ms")
        return (
            [{k: v for k, v in r.items() if k not in drop} for r in got.fetches],
            [{k: v for k, v in a.items() if k not in drop} for a in got.articles],
        )

    inline, pooled = run("1"), run("2")
    with collect._extractor(len(cands)) as extractor:  # env still says 2 processes
        assert isinstance(extractor, ProcessPoolExecutor)
    assert pooled == inline
    assert len(inline[1]) == len(samples)  # the rest are duplicates by canonical URL
