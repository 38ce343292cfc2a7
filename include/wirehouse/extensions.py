"""DuckDB extensions, loaded from their Python wheels and never downloaded.

DuckDB's `INSTALL` (and the autoloader behind it) fetches extension binaries from
extensions.duckdb.org at run time: a night without internet, or a worker behind a proxy,
would fail on it, and what runs would be whatever was published that day. The registry ships
the official binaries as wheels pinned in uv.lock (`duckdb-extension-fts`,
`duckdb-extension-ducklake`, ...), each at `<package>/extensions/v<duckdb>/<name>.duckdb_extension`;
this module finds that file for the running DuckDB and `LOAD`s it by path.
"""

from __future__ import annotations

import os
import tempfile
from importlib import resources
from pathlib import Path

import duckdb

# Connection settings for every connection that may load an extension: never fetch one from
# the network, never load one implicitly (a missing extension is then a clear error naming it).
NO_DOWNLOAD_CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


# Extensions whose binary is named after the wheel but whose entry point (and DuckDB's name for
# them) is another: DuckDB derives the entry point `<name>_duckdb_cpp_init` from the file name it
# LOADs, so the wheel's `postgres.duckdb_extension` must be loaded as `postgres_scanner…`
# ("did not contain the expected entrypoint function 'postgres_duckdb_cpp_init'" otherwise,
# seen with duckdb-extension-postgres 1.5.5).
ENTRY_POINT_NAMES = {"postgres": "postgres_scanner"}


class ExtensionMissing(RuntimeError):
    """The wheel carrying an extension for this DuckDB is not installed."""


def extension_path(name: str) -> Path:
    """The `<name>.duckdb_extension` file shipped by the `duckdb-extension-<name>` wheel for the
    running DuckDB version (the wheel and duckdb are pinned to the same version in uv.lock)."""
    package = f"duckdb_extension_{name}"
    try:
        root = Path(str(resources.files(package)))
    except ModuleNotFoundError as exc:
        raise ExtensionMissing(
            f"DuckDB extension {name!r}: the package duckdb-extension-{name} is not installed"
        ) from exc
    path = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionMissing(
            f"DuckDB extension {name!r}: no binary for DuckDB {duckdb.__version__} at {path}"
        )
    return path


def _loadable_path(name: str) -> Path:
    """The wheel's file, or for an extension in ENTRY_POINT_NAMES a symbolic link to it named
    after its entry point, in a folder of this user's under the temporary directory (the
    wheel's own folder may be read-only, as in the image)."""
    path = extension_path(name)
    entry = ENTRY_POINT_NAMES.get(name)
    if entry is None:
        return path
    folder = Path(tempfile.gettempdir()) / f"wirehouse-duckdb-extensions-{os.getuid()}"
    link = folder / f"v{duckdb.__version__}" / f"{entry}.duckdb_extension"
    if link.is_symlink() and link.resolve() == path.resolve():
        return link
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid():  # another user's folder could swap the binary
        raise ExtensionMissing(f"DuckDB extension {name!r}: {folder} belongs to another user")
    link.parent.mkdir(exist_ok=True)
    tmp = link.with_name(f"{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(path)
    os.replace(tmp, link)  # atomic: tasks starting at once each see a whole link
    return link


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load extension `name` into `con` from its wheel. Call it before turning external
    access off: loading reads a file, which that setting forbids."""
    path = _loadable_path(name)
    quoted = path.as_posix().replace("'", "''")
    con.execute(f"LOAD '{quoted}'")
