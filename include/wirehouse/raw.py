"""The raw archive: every fetched body, gzip-compressed and content-addressed.

Keeping the bytes lets extraction be re-run over history (`wirehouse reextract`) without
fetching again, and content addressing stores a page served unchanged on many nights once.
Layout: ``$WIREHOUSE_HOME/raw/<sha256[:2]>/<sha256>.gz``.

An entry is never trusted blindly: a crash can leave a truncated or empty file under its
final name (the bytes were not on disk when the rename was). Reading checks the gzip stream
and the sha256 and raises :class:`CorruptBody` (a recorded reason for the caller, never an
abort); archiving a body whose entry exists but is corrupt writes it again.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import uuid
import zlib
from pathlib import Path

from wirehouse import durable


class CorruptBody(ValueError):
    """An archived entry that does not decompress to the body its name hashes."""


def body_path(raw_dir: Path, sha256: str) -> Path:
    return raw_dir / sha256[:2] / f"{sha256}.gz"


def _verified(path: Path, sha256: str) -> bytes:
    try:
        body = gzip.decompress(path.read_bytes())
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptBody(f"raw archive entry {path.name} is corrupt: {exc}") from exc
    if hashlib.sha256(body).hexdigest() != sha256:
        raise CorruptBody(f"raw archive entry {path.name} does not hash to its name")
    return body


def is_valid(raw_dir: Path, sha256: str) -> bool:
    """True when the entry exists and decompresses to the body its name hashes."""
    try:
        _verified(body_path(raw_dir, sha256), sha256)
    except (OSError, CorruptBody):
        return False
    return True


def archive(raw_dir: Path, body: bytes) -> str:
    """Store a body (once) and return its sha256; safe when threads store the same body.

    An existing entry is checked first and rewritten when corrupt. The file is not fsynced
    one by one (see :func:`flush`): the task that archives calls `flush` once before it
    writes the rows that name the bodies."""
    sha = hashlib.sha256(body).hexdigest()
    path = body_path(raw_dir, sha)
    if not path.exists() or not is_valid(raw_dir, sha):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(gzip.compress(body, compresslevel=6))
        os.replace(tmp, path)
    return sha


def flush(raw_dir: Path) -> None:
    """Make every body archived so far durable (one syncfs for the whole archive)."""
    if raw_dir.exists():
        durable.sync_filesystem(raw_dir)


def read(raw_dir: Path, sha256: str) -> bytes:
    """The archived body with this sha256. Raises FileNotFoundError when absent and
    :class:`CorruptBody` when the entry is truncated or does not match its hash."""
    return _verified(body_path(raw_dir, sha256), sha256)
