"""Generate the dbt docs into a scratch folder and publish them file by file.

dbt runs in a subprocess (its own logging and global state stay out of the caller, an
Airflow worker), with its target and log folders in the scratch folder so the project's
own target/manifest.json, which cosmos renders the DAG from, is never touched. It reads
the warehouse's catalog, so the caller holds the writer slot (DuckDB has one writer
process, and a reader process would conflict with it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

# what `dbt docs generate --static` writes that is published: the self-contained page
# (served as index.html) and the two artifacts it was made from
DOCS_FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json",
              "catalog.json": "catalog.json"}  # fmt: skip
# a full parse and catalog of ~25 models takes ~10 s on our 2 cores; 10 minutes means hung
TIMEOUT_SECONDS = 600


def _dbt_executable() -> list[str]:
    """The dbt of the running interpreter's environment (a venv's bin/dbt), else its module."""
    dbt = Path(sys.executable).with_name("dbt")
    return [str(dbt)] if dbt.exists() else [sys.executable, "-m", "dbt.cli.main"]


def docs_command(project_dir: Path, scratch: Path) -> list[str]:
    """The dbt command line: static docs of `project_dir`, all output under `scratch`."""
    return [
        *_dbt_executable(),
        "docs",
        "generate",
        "--static",
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(scratch / "target"),
        "--log-path", str(scratch / "logs"),
    ]  # fmt: skip


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
        env = {**os.environ, "WIREHOUSE_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
        result = subprocess.run(
            docs_command(project_dir, scratch),
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"dbt docs generate failed ({result.returncode}):\n{result.stdout[-4000:]}"
                f"\n{result.stderr[-4000:]}"
            )
        target = scratch / "target"
        for name, published in DOCS_FILES.items():
            _replace_file(target / name, out_dir / published)
    files = {published: (out_dir / published).stat().st_size for published in DOCS_FILES.values()}
    return {"docs_dir": str(out_dir), "bytes": files}
