"""Memory cases of ``make bench-fetch``: a big source must not need a big machine.

Each case runs in a child process of its own through the real pipeline functions
(``wirehouse.pipeline.discover`` then ``collect``, into a temporary ``WIREHOUSE_HOME``), and
reports that child's peak RSS (``ru_maxrss``) and the peak of its extraction workers:

- ``jsonl``: a 1,000,000-line JSON Lines dump imported as a ``files`` source. Short records
  with a stated language, so the case measures holding, not language detection.
- ``sitemap``: a 400,000-URL sitemap, gzipped (about 1 MB), served by a local HTTP server.
  The pages are never fetched: the sitemap's answer is the case (every URL beyond the
  source's cap must cost one aggregated row, not one row or one fetch each).

    python bench/bench_memory.py [--case jsonl|sitemap|all] [--lines N] [--urls N]

Exit status 0 when every case stays under 1 GB peak RSS, 2 when one does not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TARGET_PEAK_MB = 1024.0  # issue 14: each case under 1 GB peak memory
JSONL_LINES = 1_000_000
SITEMAP_URLS = 400_000
RUN_DATE = "2026-11-21"


def _peaks() -> dict[str, float]:
    from wirehouse import workers

    # the extraction workers are the fork server's children: their peak counts among ours
    # once the server is stopped (wirehouse.workers.stop_server)
    workers.stop_server()
    to_mb = 1 / 1024  # ru_maxrss is in KB on Linux
    return {
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * to_mb,
        "workers_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * to_mb,
    }


def write_dump(path: Path, lines: int) -> None:
    """A dump of short distinct records, written in pieces (the writer holds none of it).

    Each text is one paragraph of 40 words drawn for its line, so no two lines share a
    paragraph, even with digits folded away: the worst case for the source's boilerplate
    statistics, which count every distinct short paragraph of the night."""
    words = ["council", "budget", "river", "bridge", "housing", "market", "energy", "union"]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(lines):
            rng = random.Random(i)
            text = " ".join(rng.choices(words, k=40))
            fh.write(
                json.dumps(
                    {
                        "url": f"https://dump.example/news/{i}",
                        "title": f"Story {i}",
                        "text": f"Story number {i}. {text.capitalize()}.",
                        "published_at": "2026-11-20",
                        "language": "en",
                    }
                )
                + "\n"
            )


def write_sitemap(urls: int) -> bytes:
    body = "".join(
        f"<url><loc>https://sitemap.example/news/{i}</loc><lastmod>2026-11-21</lastmod></url>"
        for i in range(urls)
    )
    xml = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
    return gzip.compress(xml.encode(), compresslevel=9)


def _run_pipeline(home: Path, sources: Path) -> dict[str, Any]:
    from wirehouse import pipeline
    from wirehouse.config import Settings

    settings = Settings(home=home, sources_file=sources)
    (source,) = pipeline.list_sources(settings)
    started = time.perf_counter()
    discovered = pipeline.discover(source, RUN_DATE, settings)
    discover_s = time.perf_counter() - started
    collected = pipeline.collect(discovered, settings)
    return {
        "candidates": discovered["candidates"],
        "fetches": collected["fetches"],
        "articles": collected["articles"],
        "discover_s": discover_s,
        "collect_s": time.perf_counter() - started - discover_s,
    }


def case_jsonl(lines: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wirehouse-bench-mem-") as tmp:
        root = Path(tmp)
        write_dump(root / "dump.jsonl", lines)
        sources = root / "sources.yml"
        sources.write_text(
            "sources:\n  - id: dump\n    name: Dump\n    home_url: https://dump.example/\n"
            '    files: ["dump.jsonl"]\n'
        )
        return _run_pipeline(root / "home", sources)


def case_sitemap(urls: int) -> dict[str, Any]:
    body = write_sitemap(urls)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/sitemap.xml.gz":
                data, ctype = body, "application/gzip"
            elif self.path == "/robots.txt":
                data, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="wirehouse-bench-mem-") as tmp:
            root = Path(tmp)
            base = f"http://127.0.0.1:{server.server_port}"
            sources = root / "sources.yml"
            # the pages (on a reserved name that never resolves) are capped, not fetched
            sources.write_text(
                "sources:\n  - id: sitemap\n    name: Sitemap\n"
                "    home_url: https://sitemap.example/\n"
                f"    sitemaps: [{base}/sitemap.xml.gz]\n"
                "    allow_private_hosts: [127.0.0.1]\n    max_urls: 1\n"
                "    delay_seconds: 0\n    timeout_seconds: 5\n"
            )
            result = _run_pipeline(root / "home", sources)
            result["sitemap_gz_bytes"] = len(body)
            return result
    finally:
        server.shutdown()


def child(case: str, size: int) -> int:
    """Run one case in this process and print its figures as JSON on the last line."""
    result = case_jsonl(size) if case == "jsonl" else case_sitemap(size)
    print(json.dumps({**result, **_peaks()}))
    return 0


def run_case(case: str, size: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, "--size", str(size)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if out.returncode != 0:
        return {"error": (out.stdout + out.stderr)[-3000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(cases: list[tuple[str, str, int]]) -> int:
    """Run each (name, case, size) in a fresh child and print peak RSS with PASS/FAIL."""
    verdict = True
    print(f"Memory cases (discover + collect via wirehouse.pipeline, < {TARGET_PEAK_MB:.0f} MB)")
    for name, case, size in cases:
        res = run_case(case, size)
        if "error" in res:
            print(f"  {name}: FAIL (crashed)\n{res['error']}")
            verdict = False
            continue
        peak = max(res["peak_mb"], res["workers_peak_mb"])
        ok = peak < TARGET_PEAK_MB
        verdict &= ok
        print(
            f"  {name}: peak RSS {res['peak_mb']:.0f} MB (extraction workers "
            f"{res['workers_peak_mb']:.0f} MB)  [{'PASS' if ok else 'FAIL'}: < 1 GB]; "
            f"{res['candidates']} candidates, {res['fetches']} fetch rows, "
            f"{res['articles']} articles; discover {res['discover_s']:.1f} s, "
            f"collect {res['collect_s']:.1f} s"
            + (f"; sitemap {res['sitemap_gz_bytes']:,} bytes gzipped" if case == "sitemap" else "")
        )
    return 0 if verdict else 2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=("jsonl", "sitemap", "all"), default="all")
    ap.add_argument("--lines", type=int, default=JSONL_LINES, help="JSON Lines dump lines")
    ap.add_argument("--urls", type=int, default=SITEMAP_URLS, help="sitemap URLs")
    ap.add_argument("--child", choices=("jsonl", "sitemap"), help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.size)
    cases = []
    if args.case in ("jsonl", "all"):
        cases.append((f"{args.lines:,}-line JSON Lines dump", "jsonl", args.lines))
    if args.case in ("sitemap", "all"):
        cases.append((f"{args.urls:,}-URL gzipped sitemap", "sitemap", args.urls))
    return report(cases)


if __name__ == "__main__":
    sys.exit(main())
