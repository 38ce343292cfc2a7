"""Which DuckDB versions open a published copy and run the analysts' guide's queries.

BI drivers embed their own, often older, DuckDB (docs/analysts.md, "Which DuckDB opens the
copy"). This re-checks that table after a change to publishing: for each version it makes a
throwaway venv with uv (the `duckdb` wheel, plus `pytz`, which the Python client needs to
return timestamps with a time zone), opens the copy read-only there and runs every ```sql
block of docs/analysts.md, then prints one line per version.

    python bi/duckdb_versions.py data/published/wirehouse.duckdb
    python bi/duckdb_versions.py COPY --versions 1.1.3 1.4.4 --venvs /tmp/duckdb-venvs

It downloads wheels from the package registry, so it is a manual check, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "analysts.md"
# the versions docs/analysts.md reports: DuckDB 1.0 (Evidence's duckdb-async 1.0.0), the
# last of each later minor line, 1.4.4 (Metabase driver 1.4.4.0) and the pinned 1.5.5
VERSIONS = ["1.0.0", "1.1.3", "1.2.2", "1.3.2", "1.4.2", "1.4.4", "1.5.5"]

# run inside each venv: open read-only, run each named block, report row counts or errors
PROBE = r"""
import json, re, sys
import duckdb
doc = open(sys.argv[2], encoding="utf-8").read()
out = {"version": duckdb.__version__, "queries": {}}
try:
    con = duckdb.connect(sys.argv[1], read_only=True)
except Exception as exc:
    out["open_error"] = str(exc).splitlines()[0]
    print(json.dumps(out)); sys.exit()
for block in re.findall(r"^```sql\n(.*?)^```", doc, re.S | re.M):
    name = re.match(r"-- name: (\w+)", block).group(1)
    try:
        out["queries"][name] = len(con.execute(block).fetchall())
    except Exception as exc:
        out["queries"][name] = "error: " + str(exc).splitlines()[0]
print(json.dumps(out))
"""


def uv() -> str:
    """uv from PATH, else the one `make` bootstraps into .tools/."""
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        sys.exit("uv not found: run `make setup` first")
    return found


def venv_python(venvs: Path, version: str) -> Path:
    """A venv with duckdb==`version` (made once, reused on later runs)."""
    venv = venvs / f"duckdb-{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([uv(), "venv", "-q", str(venv)], check=True)
        env = {**os.environ, "VIRTUAL_ENV": str(venv)}
        subprocess.run(
            [uv(), "pip", "install", "-q", f"duckdb=={version}", "pytz"], check=True, env=env
        )
    return python


def probe(python: Path, copy: Path) -> dict:
    out = subprocess.run(
        [str(python), "-c", PROBE, str(copy), str(GUIDE)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def summary(result: dict, reference: dict[str, int] | None) -> str:
    """`fails to open: …`, `all queries`, or which queries erred or counted differently."""
    if "open_error" in result:
        return f"fails to open: {result['open_error']}"
    bad = [
        f"{name}: {count}"
        for name, count in result["queries"].items()
        if not isinstance(count, int) or (reference and reference.get(name) != count)
    ]
    return "all queries" if not bad else "; ".join(bad)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("copy", type=Path, help="a published wirehouse.duckdb")
    parser.add_argument("--versions", nargs="+", default=VERSIONS)
    parser.add_argument("--venvs", type=Path, default=Path("/tmp/wirehouse-duckdb-venvs"))
    args = parser.parse_args(argv)
    copy = args.copy.resolve()
    args.venvs.mkdir(parents=True, exist_ok=True)
    results = {v: probe(venv_python(args.venvs, v), copy) for v in args.versions}
    # row counts of the newest version that opened the copy are the reference
    opened = [r for r in results.values() if "open_error" not in r]
    reference = opened[-1]["queries"] if opened else None
    for version, result in results.items():
        print(f"{version}: {summary(result, reference)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
