"""trafilatura's metadata of a page, each field worked out only when it is read.

``trafilatura.bare_extraction(..., with_metadata=True)`` runs all of
``trafilatura.metadata.extract_metadata`` before the main text: title, author, site name,
description and htmldate's date search, and also categories, tags, licence and host name,
which wirehouse never reads. :func:`wirehouse.extract.extract_article` reads trafilatura's
title on every page, but its author, site name and description only when the page's own
metadata lacks them, and its date only when the page's own dates agree on none. So the
extractor asks trafilatura for the text alone and reads the metadata from this class, which
runs the same trafilatura functions in the same order, field by field: the values are the
ones ``extract_metadata`` gives (``bench/extract_identity.py`` checks every field of every
development page), and what is never read is never computed (bench/README.md, "Body
quality": CPU per page on articles_dev).

This follows trafilatura 2.3's ``extract_metadata`` (pinned ``>=2.3,<2.4`` in
pyproject.toml) without an author blacklist; re-check it when trafilatura is upgraded.
One difference, on errors only: where ``bare_extraction`` turns a TypeError or ValueError
in the metadata into no result at all (text included), here that field alone is None.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import cached_property, wraps
from html import unescape
from typing import Any

import lxml.html
from htmldate import find_date
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document
from trafilatura.utils import line_processing

# Document.clean_and_trim's length limit on a metadata string
MAX_FIELD_CHARS = 10000


def _guarded(compute: Callable[[TrafilaturaMetadata], str | None]) -> Callable[..., str | None]:
    """A field that is None when trafilatura or htmldate fails on the page with the errors
    ``bare_extraction`` catches, as a bad page must not crash the extraction."""

    @wraps(compute)
    def field(self: TrafilaturaMetadata) -> str | None:
        try:
            return compute(self)
        except (TypeError, ValueError):
            return None

    return field


def _trimmed(value: str | None) -> str | None:
    """A field as ``Document.clean_and_trim`` leaves it: cut at MAX_FIELD_CHARS, entities
    decoded, spaces and control characters cleaned (None when nothing is left)."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_FIELD_CHARS:
        value = value[: MAX_FIELD_CHARS - 1] + "…"
    return line_processing(unescape(value))


class TrafilaturaMetadata:
    """The fields of ``extract_metadata(tree, url, date_params)`` that wirehouse reads,
    as lazily computed attributes. `tree` is never modified (trafilatura's metadata
    functions only read it, or copy it first)."""

    def __init__(
        self, tree: lxml.html.HtmlElement, url: str | None, date_params: dict[str, Any]
    ) -> None:
        self._tree = tree
        self._default_url = url
        self._date_params = date_params

    @cached_property
    def _stated(self) -> Document:
        """Meta tags, then JSON-LD over them, as extract_metadata reads them first."""
        metadata = examine_meta(self._tree)
        if metadata.author and " " not in metadata.author:
            metadata.author = None
        # a bug in trafilatura's JSON-LD reading: it goes on with what it has, as we do
        with contextlib.suppress(Exception):
            metadata = extract_meta_json(self._tree, metadata)
        return metadata

    @cached_property
    def _url(self) -> str | None:
        return self._stated.url or extract_url(self._tree, self._default_url)

    @cached_property
    @_guarded
    def title(self) -> str | None:
        return _trimmed(self._stated.title or extract_title(self._tree))

    @cached_property
    @_guarded
    def author(self) -> str | None:
        return _trimmed(self._stated.author or extract_author(self._tree))

    @cached_property
    @_guarded
    def description(self) -> str | None:
        return _trimmed(self._stated.description)

    @cached_property
    @_guarded
    def sitename(self) -> str | None:
        sitename = self._stated.sitename or extract_sitename(self._tree)
        if sitename:
            sitename = sitename.lstrip("@")
            if sitename and "." not in sitename and not sitename[0].isupper():
                sitename = sitename.title()
        elif self._url and (match := META_URL.match(self._url)):
            sitename = match[1]
        return _trimmed(sitename)

    @cached_property
    @_guarded
    def date(self) -> str | None:
        """htmldate's date: the costly field (its extensive search), read only when the
        page's own dates do not settle the publication date."""
        return _trimmed(find_date(self._tree, **{**self._date_params, "url": self._url}))
