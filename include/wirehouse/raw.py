"""The raw archive: every fetched body, gzip-compressed and content-addressed.

Keeping the bytes lets extraction be re-run over history (`wirehouse reextract`) without
fetching again, and content addressing stores a page served unchanged on many nights once.
Layout: ``$WIREHOUSE_HOME/raw/<sha256[:2]>/<sha256>.gz``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import uuid
from pathlib import Path


def body_path(raw_dir: Path, sha256: str) -> Path:
    return raw_dir / sha256[:2] / f"{sha256}.gz"


def archive(raw_dir: Path, body: bytes) -> str:
    """Store a body (once) and return its sha256; safe when threads store the same body."""
    sha = hashlib.sha256(body).hexdigest()
    path = body_path(raw_dir, sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(gzip.compress(body, compresslevel=6))
        os.replace(tmp, path)
    return sha


def read(raw_dir: Path, sha256: str) -> bytes:
    """The archived body with this sha256 (raises FileNotFoundError when absent)."""
    return gzip.decompress(body_path(raw_dir, sha256).read_bytes())
