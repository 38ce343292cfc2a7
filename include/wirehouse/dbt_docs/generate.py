"""Generate the dbt docs into a scratch folder and publish them file by file.

dbt runs in this process, through dbt's programmatic runner, as cosmos runs the dbt
models (`InvocationMode.DBT_RUNNER`): the process may already hold the warehouse open
(`airflow dags test` runs every task in one process, and dbt-duckdb keeps its connection),
and DuckDB lets one process at a time open the file, so a dbt subprocess would fail on the
file lock (seen in the end-to-end test). Its target and log folders are in the scratch
folder so the project's own target/manifest.json, which cosmos renders the DAG from, is
never touched. It reads the warehouse's catalog, so the caller holds the writer slot.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from wirehouse.config import DBT_TARGET_DIR, dbt_paths

# what `dbt docs generate --static` writes that is published: the self-contained page
# (served as index.html) and the two artifacts it was made from
DOCS_FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json",
              "catalog.json": "catalog.json"}  # fmt: skip


def docs_command(project_dir: Path, scratch: Path) -> list[str]:
    """dbt's arguments: static docs of `project_dir`, all output under `scratch`."""
    return ["docs", "generate", "--static", *dbt_paths(project_dir, scratch)]


def _invoke_dbt(args: list[str], home: Path) -> str | None:
    """Run dbt in this process against the warehouse in `home`; None, or why it failed."""
    from dbt.cli.main import dbtRunner

    saved = {k: os.environ.get(k) for k in ("WIREHOUSE_HOME", "DBT_SEND_ANONYMOUS_USAGE_STATS")}
    os.environ["WIREHOUSE_HOME"] = str(home)  # the profile's path reads it
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    try:
        result = dbtRunner().invoke(args)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if result.success:
        return None
    return str(result.exception or "a node failed (see the dbt log in the task log)")


def _replace_file(source: Path, target: Path) -> None:
    """Write `target` whole or not at all (a reader never sees half a file)."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(source.read_bytes())
    os.replace(tmp, target)


def generate_docs(home: Path, project_dir: Path, out_dir: Path) -> dict[str, object]:
    """Generate the docs of `project_dir` against the warehouse in `home` into `out_dir`.

    Raises RuntimeError with dbt's output when dbt fails; `out_dir` then keeps the last
    night's docs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wirehouse-docs-") as tmp:
        scratch = Path(tmp)
        failure = _invoke_dbt(docs_command(project_dir, scratch), home)
        if failure is not None:
            raise RuntimeError(f"dbt docs generate failed: {failure}")
        target = scratch / DBT_TARGET_DIR
        for name, published in DOCS_FILES.items():
            _replace_file(target / name, out_dir / published)
    files = {published: (out_dir / published).stat().st_size for published in DOCS_FILES.values()}
    return {"docs_dir": str(out_dir), "bytes": files}
