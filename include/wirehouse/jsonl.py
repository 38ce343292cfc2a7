"""JSON Lines of already-extracted articles: dumps from other scrapers or news APIs.

A `files` pattern that matches ``*.jsonl``, ``*.ndjson`` (gzipped or not) brings in articles
that some other tool already fetched and extracted; nothing is fetched and no HTML is parsed.
One JSON object a line::

    {"url": "https://n.example/a", "id": "a-17", "title": "…", "text": "para one\\npara two",
     "published_at": "2026-11-21", "source": "Northgate Wire", "authors": ["Ann Lee"]}

- identity: ``url`` (an http(s) URL, canonicalised as page URLs are), else ``id``, which
  becomes ``jsonl:<source_id>/<id, percent-encoded>``: an id is only unique inside one dump,
  so the source is part of it, and it is the same every night. The identity is the fetch
  row's ``url`` and the article's ``url`` and ``canonical_url``; ``article_id`` hashes it.
- ``text``: a string, or a list of paragraphs. See :func:`paragraph_lines`. A record
  without text (news APIs often give only a headline and a summary) is kept as a short
  article whose body is its ``description``, else its ``title``: it still names its event
  and joins its story, and ``too_short`` marks it. Without any of the three it is
  ``extraction_empty``.
- optional: ``title``, ``published_at``, ``site_name`` or ``source``, ``authors`` (a list or
  one byline string; ``author`` is accepted too), ``language`` (ISO 639-1), ``description``.
  Other fields are ignored. A ``published_at`` with an offset
  (``2026-11-21T22:00:00-05:00``) keeps it: the article's ``published_at`` is the UTC
  instant, ``published_utc_offset`` the offset (-300) and ``published_local_date`` the day
  written (the 21st); a date alone or a zone-less time has no offset and its day as written
  (see :func:`wirehouse.dates.parse_stated_leniently`).

This module only reads and checks lines (it is used by discovery, which must stay light); the
record becomes an article in :func:`wirehouse.extract.extract_record`, through the same
normalisation as every extracted page.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from wirehouse.urls import canonicalize_url

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
# the content type of a line's fetch row; collection and re-extraction route on it
CONTENT_TYPE = "application/x-ndjson"
MAX_LINE_BYTES = 5 * 1024 * 1024  # the page body cap: one article is never bigger
READ_PIECE = 1024 * 1024
BLANK_LINE_RE = re.compile(r"\n[ \t\u00a0]*\n")
LITERAL_BREAK_RE = re.compile(r"\\r\\n|\\n|\\r")
LANGUAGE_RE = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]+)*$")


class BadLine(ValueError):
    """A line that cannot become an article; `outcome` is its fetch outcome."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


def is_jsonl(path: Path | str) -> bool:
    """Whether a `files` match is a JSON Lines dump (by name, as HTML and WARC files are)."""
    return str(path).lower().endswith(JSONL_SUFFIXES)


def line_uri(path: Path, number: int) -> str:
    """Where a line lives, for rows about lines without an identity of their own: the file
    URI and ``#line=N``, N counted from 1 as editors and error messages count."""
    return f"{path.as_uri()}#line={number}"


def id_identity(source_id: str, record_id: str) -> str:
    """The identity of a record that has an id but no URL: ``jsonl:<source_id>/<id>``."""
    return f"jsonl:{source_id}/{quote(record_id, safe='')}"


def parse_record(line: bytes) -> dict[str, Any]:
    """One line as a JSON object; BadLine (`parse_error`) when it is not one."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise BadLine("parse_error", f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise BadLine("parse_error", f"a JSON {type(record).__name__}, not an object")
    return record


def _http_url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def _record_id(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def record_identity(record: dict[str, Any], source_id: str) -> str:
    """The record's identity (see the module docstring); BadLine (`invalid_url`) without one."""
    url = _http_url(record.get("url"))
    if url:
        return canonicalize_url(url)
    record_id = _record_id(record.get("id"))
    if record_id:
        return id_identity(source_id, record_id)
    if record.get("url") not in (None, ""):
        raise BadLine(
            "invalid_url", f"'url' is not an http(s) URL ({record['url']!r}) and there is no 'id'"
        )
    raise BadLine("invalid_url", "the line has neither 'url' nor 'id'")


def paragraph_lines(text: str) -> str:
    """A record's text as one paragraph per line, the form extractors hand to normalisation.

    - Blank lines separate paragraphs when there are any; single line breaks inside a
      paragraph are then only wrapping and become spaces.
    - Without blank lines, every line break separates paragraphs.
    - A text without any real line break whose paragraphs are separated by the two
      characters ``\\n`` (a dump escaped twice, as in some research corpora) is split there;
      when a text has real line breaks, a literal ``\\n`` is left alone (it may be code).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" not in text:
        text = LITERAL_BREAK_RE.sub("\n", text)
    if BLANK_LINE_RE.search(text):
        return "\n".join(" ".join(block.split("\n")) for block in BLANK_LINE_RE.split(text))
    return text


def record_text(record: dict[str, Any]) -> tuple[str, str]:
    """The record's text, one paragraph per line, and the field it came from: its
    ``text``, else its ``description``, else its ``title`` (a headline-only record is still
    a report of its event); BadLine (`extraction_empty`) with none of them."""
    for key in ("text", "description", "title"):
        value = record.get(key)
        if isinstance(value, list):
            text = "\n".join(p for p in value if isinstance(p, str))
        elif isinstance(value, str):
            text = paragraph_lines(value)
        else:
            text = ""
        if text.strip():
            return text, key
    raise BadLine("extraction_empty", "the line has no 'text', 'description' or 'title'")


def stated_language(value: object) -> str | None:
    """An ISO 639-1 code from a record's `language` ('en', 'en-GB' -> 'en'), else None
    (and the language is detected from the body)."""
    if not isinstance(value, str):
        return None
    match = LANGUAGE_RE.match(value.strip().lower())
    return match[1] if match else None


def _open(path: Path) -> Any:
    with path.open("rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def iter_lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number from 1, line without its line break) for every non-blank line, streamed;
    None for a line over MAX_LINE_BYTES (it is skipped, not held). Gzip is recognised by its
    magic bytes. Raises OSError/EOFError when the file breaks off (lines before it are
    yielded first)."""
    with _open(path) as fh:
        number = 0
        while True:
            line = fh.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while (rest := fh.readline(READ_PIECE)) and not rest.endswith(b"\n"):
                    pass
                yield number, None
                continue
            line = line.strip()
            if line:
                yield number, line


class LineReader:
    """The lines of a source's dumps for the collector, streamed: candidates of one dump
    come in line order, so each file is read forward once, a line at a time, and only the
    line asked for is held (lines in between, already collected or bad, are passed over).
    A line asked for behind the reader's position reopens the file. Lines are checked
    against the identity discovery gave them, so a dump rewritten between discovery and
    collection cannot put one article's text under another's identity. Not thread-safe:
    the collector reads lines on its own thread, in candidate order."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self._files: dict[str, tuple[Iterator[tuple[int, bytes | None]], int]] = {}
        self._errors: dict[str, str] = {}

    def _line(self, path: str, number: int) -> bytes | None:
        lines, position = self._files.get(path, (None, 0))
        if lines is None or number <= position:
            self._close(path)
            lines, position = iter_lines(Path(path)), 0
        line: bytes | None = None
        try:
            while position < number:
                position, line = next(lines)
        except StopIteration:
            line, position = None, number
        except (OSError, EOFError) as exc:
            self._errors[path] = repr(exc)
            line, position = None, number
        self._files[path] = (lines, position)
        return line if position == number else None

    def _close(self, path: str) -> None:
        lines, _ = self._files.pop(path, (None, 0))
        close = getattr(lines, "close", None)
        if close is not None:
            close()

    def close(self) -> None:
        for path in list(self._files):
            self._close(path)

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def take(self, path: str, number: int, identity: str) -> bytes:
        """Line `number` of `path`; BadLine (`file_error`) when it is gone or changed."""
        line = self._line(path, number)
        if line is None:
            error = self._errors.get(path, "the line is gone")
            raise BadLine("file_error", f"line {number} of {path}: {error}")
        try:
            same = record_identity(parse_record(line), self.source_id) == identity
        except BadLine:
            same = False
        if not same:
            raise BadLine("file_error", f"line {number} of {path} changed since discovery")
        return line
