"""JSON Lines dumps of already-extracted articles: discovery, collection and the pipeline.

Every line ends as exactly one fetch row, good lines as articles normalised like pages,
bad lines as rows with their reason; nothing is fetched and a line is imported once."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from wirehouse import jsonl, raw
from wirehouse.collect import Collected, collect_source
from wirehouse.config import Settings
from wirehouse.dates import parse_date_leniently
from wirehouse.discover import discover_source
from wirehouse.fetch import Fetcher, FetchResult
from wirehouse.sources import Source
from wirehouse.urls import article_key

RUN_DATE = "2026-11-21"
QUARRY = (
    "The old quarry above Millbrook will become a nature reserve after the county bought "
    "the site from its last owner, ending twenty years of arguments about landfill plans.",
    "Volunteers have already counted nesting sand martins and three kinds of orchid on the "
    "spoil heaps, and the warden said the ponds would be left to fill naturally.",
)
TRAMS = (
    "Trams will run every six minutes on the river line from January, the transport board "
    "said, after new signalling cut the time each car spends waiting at the junction.",
    "Commuters who wrote to the board about crowding on the evening services welcomed the "
    "change, though some asked why the late-night timetable was left untouched.",
)
ORCHARD = (
    "A community orchard planted on the former bus depot has given its first harvest, with "
    "more than two hundred kilos of apples pressed into juice for the primary schools.",
    "The residents' group that planted the trees four years ago plans to add pears and a "
    "row of hazel along the railway fence next winter, if the council agrees.",
)


def record(**fields: Any) -> str:
    return json.dumps(fields, ensure_ascii=False)


def write_lines(path: Path, lines: list[str], gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def source(tmp_path: Path, *patterns: str, **kw: Any) -> Source:
    return Source(
        id="dumps",
        name="Dumps",
        home_url="https://dumps.example/",
        files=patterns,
        base_dir=str(tmp_path),
        **kw,
    )


def collect(
    src: Source, *, known: frozenset[str] = frozenset(), raw_dir: Path | None = None
) -> Collected:
    def keep(result: FetchResult) -> None:
        assert raw_dir is not None
        result.body_sha256 = raw.archive(raw_dir, result.body)

    with Fetcher("Wirehouse-test/1") as fetcher:
        candidates, attempts = discover_source(src, fetcher)
        return collect_source(
            src,
            RUN_DATE,
            candidates,
            attempts,
            fetcher,
            known_urls=known,
            archive=keep if raw_dir else None,
        )


def by_url(collected: Collected) -> dict[str, dict[str, Any]]:
    return {a["url"]: a for a in collected.articles}


def test_valid_lines_become_articles_with_all_fields(tmp_path: Path) -> None:
    lines = [
        record(
            url="https://Quarry.example/news/reserve?utm_source=api#top",
            id="q-1",
            title="Quarry to become nature reserve | Millbrook Post",
            text="\n\n".join(QUARRY),
            published_at="2026-11-20T09:30:00+02:00",
            site_name="Millbrook Post",
            source="ignored when site_name is given",
            authors=["By Ann Lee", "Tom Price and Ravi Shah", "Millbrook Post Staff"],
            language="en-GB",
            description="The county bought the old quarry.",
            story="not an input",
        ),
        record(
            url="https://trams.example/river-line",
            title="Trams every six minutes",
            text="\n".join(TRAMS),
            published_at="2026-11-19",
            source="City Transit News",
            authors="Jo March, Laurie Laurence",
        ),
        record(
            url="https://orchard.example/harvest",
            title="",
            text=list(ORCHARD),
            published_at="Tuesday, November 17, 2026",
        ),
        record(url="https://orchard.example/future", text=QUARRY[0], published_at="2031-01-01"),
        record(url="https://orchard.example/unknown", text=TRAMS[0], published_at="last week"),
    ]
    write_lines(tmp_path / "api.jsonl", lines)
    got = collect(source(tmp_path, "*.jsonl"), raw_dir=tmp_path / "raw")

    assert len(got.fetches) == 5 and len(got.articles) == 5
    quarry = by_url(got)["https://quarry.example/news/reserve"]
    assert quarry["canonical_url"] == quarry["url"]
    assert quarry["article_id"] == article_key("https://quarry.example/news/reserve")
    assert quarry["title"] == "Quarry to become nature reserve"
    assert quarry["site_name"] == "Millbrook Post"
    assert quarry["authors"] == ["Ann Lee", "Tom Price", "Ravi Shah"]
    assert (quarry["language"], quarry["language_confidence"]) == ("en", 1.0)
    assert quarry["description"] == "The county bought the old quarry."
    assert quarry["published_at"] == datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    assert quarry["body"] == "\n\n".join(QUARRY)
    assert quarry["word_count"] == sum(len(p.replace("-", " ").split()) for p in QUARRY)
    assert quarry["content_hash"] and quarry["too_short"] is True
    assert quarry["probably_not_article"] is False and quarry["paywalled"] is False
    assert (quarry["run_date"], quarry["source_id"], quarry["listed_at"]) == (
        RUN_DATE,
        "dumps",
        None,
    )

    trams = by_url(got)["https://trams.example/river-line"]
    assert trams["site_name"] == "City Transit News"
    assert trams["authors"] == ["Jo March", "Laurie Laurence"]
    assert trams["published_at"] == datetime(2026, 11, 19, tzinfo=UTC)  # date: midnight UTC
    assert trams["body"] == "\n\n".join(TRAMS)  # one paragraph a line
    assert trams["language"] == "en" and 0.8 < trams["language_confidence"] <= 1.0  # detected

    orchard = by_url(got)["https://orchard.example/harvest"]
    assert orchard["title"] is None and orchard["body"] == "\n\n".join(ORCHARD)
    assert orchard["published_at"] == datetime(2026, 11, 17, tzinfo=UTC)  # parsed leniently
    assert by_url(got)["https://orchard.example/future"]["published_at"] is None  # after fetch
    assert by_url(got)["https://orchard.example/unknown"]["published_at"] is None

    # each line's fetch row: read from a file, archived, linked to its article
    rows = {r["url"]: r for r in got.fetches}
    row = rows["https://quarry.example/news/reserve"]
    assert (row["outcome"], row["url_kind"], row["content_type"], row["attempts"]) == (
        "ok",
        "file",
        "application/x-ndjson",
        1,
    )
    assert row["final_url"] == (tmp_path / "api.jsonl").as_uri() + "#line=1"
    assert raw.read(tmp_path / "raw", row["body_sha256"]) == lines[0].encode()
    assert row["bytes"] == len(lines[0].encode()) and row["error"] is None
    assert quarry["fetch_id"] == row["fetch_id"]
    assert quarry["fetched_at"] == row["fetched_at"]


def test_id_only_records_get_a_stable_source_scoped_identity(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "corpus.ndjson",
        [
            record(id="ecb/11 #7", title="Quarry", text="\n".join(QUARRY)),
            record(id=42, url="not a url", text="\n".join(TRAMS)),
        ],
    )
    first = collect(source(tmp_path, "corpus.ndjson"))
    again = collect(source(tmp_path, "corpus.ndjson"))
    assert sorted(by_url(first)) == ["jsonl:dumps/42", "jsonl:dumps/ecb%2F11%20%237"]
    for url, article in by_url(first).items():
        assert article["canonical_url"] == url
        assert article["article_id"] == article_key(url) == by_url(again)[url]["article_id"]
    assert jsonl.id_identity("other", "42") != "jsonl:dumps/42"  # an id is unique per dump


def test_gzipped_dumps_are_read(tmp_path: Path) -> None:
    write_lines(tmp_path / "a.jsonl.gz", [record(id="a", text="\n".join(QUARRY))], gz=True)
    write_lines(tmp_path / "b.ndjson.gz", [record(id="b", text="\n".join(TRAMS))], gz=True)
    got = collect(source(tmp_path, "*.gz"))
    assert sorted(by_url(got)) == ["jsonl:dumps/a", "jsonl:dumps/b"]
    assert by_url(got)["jsonl:dumps/a"]["body"] == "\n\n".join(QUARRY)


def test_bad_lines_are_rows_with_their_reason(tmp_path: Path) -> None:
    good = record(id="good", text="\n".join(QUARRY))
    lines = [
        good,
        "{not json",
        "[1, 2, 3]",
        record(title="no identity", text=TRAMS[0]),
        record(url="ftp://files.example/x", text=TRAMS[0]),
        record(id="no-text", title="Headline only"),
        record(id="headline", title="Orchard frost ruins the early apple crop in Tessel valley"),
        record(id="nothing", source="Northgate Wire"),
        record(id="blank-text", text="   "),
        record(id="short", text="Share\nFour words only here."),
        "",  # blank lines are not lines of the dump
        record(id="good", text="\n".join(TRAMS)),
    ]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    # a gzip that breaks off at the end: its lines are kept, the break is a row of its own
    cut = gzip.compress((record(id="cut", text=ORCHARD[0]) + "\n").encode())[:-8]
    (tmp_path / "broken.jsonl.gz").write_bytes(cut)
    got = collect(source(tmp_path, "*.jsonl", "*.jsonl.gz"), raw_dir=tmp_path / "raw")

    rows = {(r["url"], r["outcome"]): r for r in got.fetches}
    line = path.as_uri() + "#line="
    assert sorted(rows) == sorted(
        [
            ("jsonl:dumps/good", "ok"),
            (line + "2", "parse_error"),
            (line + "3", "parse_error"),
            (line + "4", "invalid_url"),
            (line + "5", "invalid_url"),
            ("jsonl:dumps/no-text", "extraction_empty"),
            ("jsonl:dumps/headline", "ok"),
            ("jsonl:dumps/nothing", "extraction_empty"),
            ("jsonl:dumps/blank-text", "extraction_empty"),
            ("jsonl:dumps/short", "extraction_empty"),
            ("jsonl:dumps/good", "duplicate_url"),
            ("jsonl:dumps/cut", "ok"),
            ((tmp_path / "broken.jsonl.gz").as_uri(), "file_error"),
        ]
    )
    assert rows[(line + "2", "parse_error")]["error"].startswith("line 2: not JSON")
    assert rows[(line + "3", "parse_error")]["error"] == "line 3: a JSON list, not an object"
    assert (
        rows[(line + "4", "invalid_url")]["error"] == "line 4: the line has neither 'url' nor 'id'"
    )
    assert "'url' is not an http(s) URL" in rows[(line + "5", "invalid_url")]["error"]
    # without text the headline is the body: too short here, a short article there
    assert "fewer than 5 words" in rows[("jsonl:dumps/no-text", "extraction_empty")]["error"]
    assert rows[("jsonl:dumps/nothing", "extraction_empty")]["error"] == (
        "the line has no 'text', 'description' or 'title'"
    )
    headline = by_url(got)["jsonl:dumps/headline"]
    assert headline["body"] == "Orchard frost ruins the early apple crop in Tessel valley"
    assert headline["too_short"]
    assert "fewer than 5 words" in rows[("jsonl:dumps/short", "extraction_empty")]["error"]
    assert rows[("jsonl:dumps/no-text", "extraction_empty")]["body_sha256"]  # kept, as pages
    assert (
        "unreadable after line"
        in rows[((tmp_path / "broken.jsonl.gz").as_uri(), "file_error")]["error"]
    )
    # the first line of an identity wins
    assert [a["url"] for a in got.articles] == [
        "jsonl:dumps/good",
        "jsonl:dumps/headline",
        "jsonl:dumps/cut",
    ]
    assert got.articles[0]["body"] == "\n\n".join(QUARRY)


def test_normalisation_is_the_page_path(tmp_path: Path) -> None:
    wire = [
        "BRAMLEY, Westshire — " + ORCHARD[0],
        "Share this article",
        ORCHARD[1],
        "Ann Lee reported from Bramley. Tom Price contributed.",
    ]
    escaped = " \\n ".join(TRAMS)  # a dump escaped twice: paragraphs split on a literal \n
    wrapped = QUARRY[0].replace(" the county ", " the county\n") + "\n\n" + QUARRY[1]
    write_lines(
        tmp_path / "wire.jsonl",
        [
            record(id="wire", title="Orchard harvest", text="\n".join(wire)),
            record(id="escaped", text=escaped),
            record(id="wrapped", text=wrapped),
            record(
                id="headline",
                title="Trams every six minutes",
                text="\n".join(["Trams every six minutes", *TRAMS]),
            ),
        ],
    )
    got = by_url(collect(source(tmp_path, "wire.jsonl")))
    article = got["jsonl:dumps/wire"]
    assert article["dateline"] == "BRAMLEY, Westshire"
    assert article["body"] == "\n\n".join(ORCHARD)  # share prompt gone, dateline off
    assert article["credits"] == "Ann Lee reported from Bramley. Tom Price contributed."
    assert got["jsonl:dumps/escaped"]["body"] == "\n\n".join(TRAMS)
    assert got["jsonl:dumps/wrapped"]["body"] == "\n\n".join(QUARRY)  # wrapping is not a break
    assert got["jsonl:dumps/headline"]["body"] == "\n\n".join(TRAMS)  # repeated headline dropped


def test_paragraph_rules() -> None:
    assert jsonl.paragraph_lines("a\nb") == "a\nb"
    assert jsonl.paragraph_lines("a\nstill a\n\nb") == "a still a\nb"
    assert jsonl.paragraph_lines("a \\n b") == "a \n b"
    assert jsonl.paragraph_lines('printf("x\\n");\nnext') == 'printf("x\\n");\nnext'
    assert jsonl.paragraph_lines("a\r\n\r\nb") == "a\nb"


def test_lenient_dates_never_after_the_fetch() -> None:
    fetched = datetime(2026, 11, 22, 3, tzinfo=UTC)
    assert parse_date_leniently("2013-09-27", fetched) == datetime(2013, 9, 27, tzinfo=UTC)
    assert parse_date_leniently("Published on Friday, 27 September 2013", fetched) == datetime(
        2013, 9, 27, tzinfo=UTC
    )
    assert parse_date_leniently("2026-11-22T05:00:00Z", fetched) is None
    assert parse_date_leniently("November 23, 2026", fetched) is None
    assert parse_date_leniently("Tuesday", fetched) is None
    assert parse_date_leniently(None, fetched) is None


def test_dump_lines_do_not_count_against_max_urls(tmp_path: Path) -> None:
    lines = [record(id=str(i), text=f"Story {i}: " + QUARRY[i % 2]) for i in range(5)]
    write_lines(tmp_path / "five.jsonl", lines)
    got = collect(source(tmp_path, "five.jsonl", max_urls=2))
    assert [r["outcome"] for r in got.fetches] == ["ok"] * 5


def test_a_dump_changed_after_discovery_loses_nothing(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", [record(id="a", text=QUARRY[0])])
    src = source(tmp_path, "d.jsonl")
    with Fetcher("t") as fetcher:
        candidates, attempts = discover_source(src, fetcher)
        write_lines(path, [record(id="b", text=TRAMS[0])])
        got = collect_source(src, RUN_DATE, candidates, attempts, fetcher)
    [row] = got.fetches
    assert (row["url"], row["outcome"]) == ("jsonl:dumps/a", "file_error")
    assert "changed since discovery" in row["error"] and got.articles == []


def test_pipeline_lands_loads_once_and_reruns_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discover -> collect -> land -> load on a real WIREHOUSE_HOME: the dump's articles reach
    landing.articles, a re-run of the night gives the same rows, the next night imports
    nothing again, and re-extraction from the raw archive gives the same articles."""
    from wirehouse import pipeline

    monkeypatch.setenv("WIREHOUSE_EXTRACT_PROCESSES", "1")
    dump = tmp_path / "dumps" / "api.jsonl"
    dump.parent.mkdir()
    write_lines(
        dump,
        [
            record(url="https://quarry.example/reserve", text="\n".join(QUARRY), source="Post"),
            record(id="trams", text="\n".join(TRAMS), published_at="2026-11-20"),
            "{broken",
        ],
    )
    (tmp_path / "sources.yml").write_text(
        "sources:\n  - id: dumps\n    name: Dumps\n    home_url: https://dumps.example/\n"
        "    files: [dumps/*.jsonl]\n"
    )
    settings = Settings(home=tmp_path / "home", sources_file=tmp_path / "sources.yml")

    def night(run_date: str) -> tuple[list[tuple], list[tuple]]:
        sources = pipeline.list_sources(settings)
        collected = [
            pipeline.collect(pipeline.discover(s, run_date, settings), settings) for s in sources
        ]
        pipeline.land_run(run_date, sources, collected, settings)
        pipeline.load_run(run_date, settings)
        return query(run_date)

    def query(run_date: str) -> tuple[list[tuple], list[tuple]]:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            fetches = con.execute(
                "select url, outcome, url_kind, error, body_sha256 from landing.fetches "
                "where run_date = ? order by url, outcome",
                [run_date],
            ).fetchall()
            articles = con.execute(
                "select article_id, url, fetch_id, site_name, published_at, body, word_count, "
                "content_hash, language from landing.articles where run_date = ? order by url",
                [run_date],
            ).fetchall()
        finally:
            con.close()
        return fetches, articles

    fetches, articles = night("2026-11-21")
    assert [(f[0], f[1]) for f in fetches] == [
        (dump.as_uri() + "#line=3", "parse_error"),
        ("https://quarry.example/reserve", "ok"),
        ("jsonl:dumps/trams", "ok"),
    ]
    assert [(a[1], a[3], a[4]) for a in articles] == [
        ("https://quarry.example/reserve", "Post", None),
        ("jsonl:dumps/trams", None, datetime(2026, 11, 20, tzinfo=UTC)),
    ]
    assert articles[1][5] == "\n\n".join(TRAMS)

    assert night("2026-11-21") == (fetches, articles)  # a re-run changes nothing

    later_fetches, later_articles = night("2026-11-22")
    assert later_articles == []
    assert sorted((f[0], f[1]) for f in later_fetches) == [
        (dump.as_uri() + "#line=3", "parse_error"),  # still bad, still said
        ("https://quarry.example/reserve", "already_fetched"),
        ("jsonl:dumps/trams", "already_fetched"),
    ]

    pipeline.reextract(settings, since="2026-11-21", until="2026-11-21")
    assert query("2026-11-21") == (fetches, articles)


def test_big_dumps_normalise_on_the_process_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dump of 100+ lines is normalised on the collector's worker processes, with the
    same rows as in-process."""
    from concurrent.futures import ProcessPoolExecutor

    from wirehouse import collect as collect_module

    stories = (QUARRY, TRAMS, ORCHARD)
    lines = [record(id=str(i), text=f"Item {i}.\n" + "\n".join(stories[i % 3])) for i in range(120)]
    write_lines(tmp_path / "big.jsonl", lines)
    src = source(tmp_path, "big.jsonl")

    def run(processes: str) -> tuple[list[dict], list[dict]]:
        monkeypatch.setenv("WIREHOUSE_EXTRACT_PROCESSES", processes)
        got = collect(src)
        drop = ("fetched_at", "elapsed_ms")
        return (
            [{k: v for k, v in r.items() if k not in drop} for r in got.fetches],
            [{k: v for k, v in a.items() if k not in drop} for a in got.articles],
        )

    inline, pooled = run("1"), run("2")
    with collect_module._extractor(len(lines)) as extractor:
        assert isinstance(extractor, ProcessPoolExecutor)
    assert pooled == inline and len(inline[1]) == 120


def test_lenient_dates_read_whole_datelines_and_tokenised_text() -> None:
    """A dateline with publication and update times, or text whose separators a
    tokeniser spaced out, still gives its publication day."""
    fetched = datetime(2026, 11, 22, 3, tzinfo=UTC)
    day = lambda *ymd: datetime(*ymd, tzinfo=UTC)  # noqa: E731
    cases = {
        "POSTED : TUESDAY, JUNE 4, 2019, 7 : 05 PM UPDATED : WEDNESDAY, JUNE 5, 2019": day(
            2019, 6, 4
        ),
        "Updated 08 / 11 / 2020 09 : 15 AM Originally posted 08 / 10 / 2020 at 6 PM": day(
            2020, 8, 10
        ),
        "Last updated 21 : 40 23 / 02 / 2018": day(2018, 2, 23),
        "2017 - 10 - 03 The council met twice.": day(2017, 10, 3),
        "8 : 12 P.M.OCT. 9, 2015": day(2015, 10, 9),
        "Posted 3 / 7 / 16": day(2016, 3, 7),
    }
    for text, expected in cases.items():
        assert parse_date_leniently(text, fetched) == expected, text
    # no year, no date: better undated than guessed
    assert parse_date_leniently("Oct. 9 8 : 12 PM EDT", fetched) is None
    assert parse_date_leniently("31 / 02 / 2019", fetched) is None


def test_line_reader_streams_forward_and_checks_each_line(tmp_path: Path) -> None:
    """Lines are read forward, a line at a time; a line asked for behind the reader
    reopens the file; a line gone or changed since discovery is a file_error."""
    path = write_lines(
        tmp_path / "d.jsonl",
        [record(id=str(i), text=f"Text {i}.") for i in range(1, 6)],
    )
    src = str(path)
    with jsonl.LineReader("dumps") as lines:
        assert b'"id": "2"' in lines.take(src, 2, jsonl.id_identity("dumps", "2"))
        assert b'"id": "5"' in lines.take(src, 5, jsonl.id_identity("dumps", "5"))
        assert b'"id": "1"' in lines.take(src, 1, jsonl.id_identity("dumps", "1"))  # reopened
        with pytest.raises(jsonl.BadLine, match="changed since discovery"):
            lines.take(src, 3, jsonl.id_identity("dumps", "4"))
        with pytest.raises(jsonl.BadLine, match="gone") as gone:
            lines.take(src, 9, jsonl.id_identity("dumps", "9"))
        assert gone.value.outcome == "file_error"


def test_collection_streams_a_dump_instead_of_holding_it(tmp_path: Path) -> None:
    """The first article comes out after a bounded number of lines were read and archived
    (the pages in flight), not after the whole dump: nothing holds every body."""
    from wirehouse import collect as collect_module
    from wirehouse.collect import iter_collect

    lines = 600
    write_lines(
        tmp_path / "big.jsonl",
        [record(id=str(i), text=f"Item {i}.\n" + "\n".join(QUARRY)) for i in range(lines)],
    )
    src = source(tmp_path, "big.jsonl")
    archived = []

    def keep(result: FetchResult) -> None:
        archived.append(result.url)

    with Fetcher("Wirehouse-test/1") as fetcher:
        candidates, attempts = discover_source(src, fetcher)
        rows = iter_collect(src, RUN_DATE, candidates, attempts, fetcher, archive=keep)
        first = next(r for table, r in rows if table == "articles")
        in_flight = len(archived)
        rest = [r for table, r in rows if table == "articles"]
    fetch_window = max(collect_module.FETCH_WINDOW, 2 * collect_module.WORKERS)
    assert first["url"] == "jsonl:dumps/0"
    # submitted but not handed on, handed on but not extracted, and the one yielded
    assert in_flight <= fetch_window + collect_module.EXTRACT_WINDOW + 1 < lines
    assert len(rest) == lines - 1 and len(archived) == lines
