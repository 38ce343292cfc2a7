"""Fetch-stage benchmark: the collector's real code path against a slow local server.

A child process serves article pages from loopback addresses 127.0.0.1 ... 127.0.0.N, each
address a host of its own, answering every request after a fixed delay. This process fetches
the pages with ``wirehouse.collect.collect_source(..., extract=False)`` through a
``wirehouse.fetch.Fetcher`` (robots.txt checked per host, bodies stored in the raw archive in
a temporary directory, as the pipeline does) and reports pages/second and its own peak RSS.

    python bench/bench_fetch.py [--pages 2000] [--hosts 50] [--delay-ms 50]
                                [--workers 64] [--per-host 8] [--gzip]
                                [--memory all|jsonl|sitemap|none]

Then the memory cases of ``bench/bench_memory.py`` (a 1,000,000-line JSON Lines dump and a
400,000-URL sitemap through the real pipeline, each in a child process, under 1 GB peak).

Exit status: 0 when every page came back ``ok`` and every target is met, 1 when a page did
not come back ``ok``, 2 when a target (pages/s, peak memory) is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import multiprocessing as mp
import random
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

TARGET_PAGES_PER_SECOND = 150.0
TARGET_PEAK_MB = 500.0
MAX_HOSTS = 250  # 127.0.0.1 ... 127.0.0.250: loopback only
SERVER_LIFETIME = 900.0  # seconds: the server stops by itself if nobody stops it
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"

_WORD_TEXT = (
    "council budget minister report city county hospital school police court election vote "
    "river bridge housing market energy prices workers union strike agreement investigation "
    "officials statement residents plan project funding climate weather storm flood season "
    "team match league coach players season record museum festival theatre library airport "
    "railway station transport traffic company shares profits jobs economy inflation bank "
    "interest rates households survey study researchers university data figures government "
    "parliament committee hearing judge appeal decision ruling spokesperson according said "
    "would could after before during while since under over about against between through"
)
WORDS = _WORD_TEXT.split()


# -- the server (child process) -----------------------------------------------------------


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = rng.choices(WORDS, k=rng.randint(12, 26))
            sentences.append(" ".join(words).capitalize() + ".")
        out.append(" ".join(sentences))
    return out


def make_page(index: int, host: str, pool: list[str]) -> bytes:
    """A news article page of 30-60 KB, unique per index (so the raw archive stores each)."""
    rng = random.Random(index)
    target = rng.randint(30_000, 60_000)
    title = f"Story {index}: {' '.join(rng.choices(WORDS, k=7)).capitalize()}"
    url = f"http://{host}/news/{index:06d}.html"
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{title} | Bench Gazette</title>\n"
        f'<link rel="canonical" href="{url}">\n'
        f'<meta property="og:title" content="{title}">\n'
        '<meta property="og:site_name" content="Bench Gazette">\n'
        f'<meta property="article:published_time" content="2024-05-{1 + index % 28:02d}'
        'T08:30:00Z">\n<meta name="author" content="A. Reporter">\n'
        '<link rel="stylesheet" href="/static/site.css"></head>\n<body>\n'
        "<header><nav><ul>"
        + "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in WORDS[:24])
        + "</ul></nav></header>\n<main><article>\n"
        f'<h1>{title}</h1>\n<p class="byline">By A. Reporter, '
        f'<time datetime="2024-05-{1 + index % 28:02d}">May {1 + index % 28}</time></p>\n'
        f"<p>Story number {index} from {host}.</p>\n"
    )
    tail = (
        "</article>\n<aside><h2>Most read</h2><ol>"
        + "".join(
            f'<li><a href="/news/{(index + k) * 7:06d}.html">Related {k}</a></li>'
            for k in range(10)
        )
        + "</ol></aside></main>\n<footer><p>&copy; Bench Gazette. All rights reserved.</p>"
        "</footer>\n</body></html>\n"
    )
    parts, size = [head], len(head) + len(tail)
    while size < target:
        para = f"<p>{rng.choice(pool)}</p>\n"
        parts.append(para)
        size += len(para)
    parts.append(tail)
    return "".join(parts).encode("utf-8")


class _Server:
    def __init__(self, pages: dict[str, bytes], delay: float, gzipped: dict[str, bytes]):
        self.pages = pages
        self.gzipped = gzipped
        self.delay = delay
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:  # keep-alive: one request after another on this connection
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, _, rest = lines[0].partition(" ")
                path = rest.partition(" ")[0]
                headers = {}
                for line in lines[1:]:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                self.requests += 1
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                try:
                    await asyncio.sleep(self.delay)
                finally:
                    self.in_flight -= 1
                status, ctype, body, extra = self.route(method, path, headers)
                close = headers.get("connection", "").lower() == "close"
                out = [
                    f"HTTP/1.1 {status}",
                    f"Content-Type: {ctype}",
                    f"Content-Length: {len(body)}",
                    *extra,
                    "Connection: close" if close else "Connection: keep-alive",
                    "",
                    "",
                ]
                writer.write("\r\n".join(out).encode("latin-1") + body)
                await writer.drain()
                if close:
                    return
        except (ConnectionError, OSError):
            return
        finally:
            writer.close()

    def route(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[str, str, bytes, list[str]]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"GET only\n", []
        if path == "/robots.txt":
            return "200 OK", "text/plain; charset=utf-8", ROBOTS_TXT, []
        body = self.pages.get(path)
        if body is None:
            return "404 Not Found", "text/plain", b"not found\n", []
        if path in self.gzipped and "gzip" in headers.get("accept-encoding", ""):
            return (
                "200 OK",
                "text/html; charset=utf-8",
                self.gzipped[path],
                [
                    "Content-Encoding: gzip",
                    "Vary: Accept-Encoding",
                ],
            )
        return "200 OK", "text/html; charset=utf-8", body, []


async def _serve(
    conn: Any, stop: Any, hosts: list[str], paths: dict[str, int], delay: float, use_gzip: bool
) -> None:
    pool = _paragraphs(random.Random(0), 400)
    pages = {path: make_page(i, hosts[i % len(hosts)], pool) for path, i in paths.items()}
    gzipped = {p: gzip.compress(b, compresslevel=6) for p, b in pages.items()} if use_gzip else {}
    server = _Server(pages, delay, gzipped)
    listeners: list[asyncio.Server] = []
    port = 0
    for _try in range(20):  # one port shared by every address; retry if one is taken
        try:
            first = await asyncio.start_server(server.handle, hosts[0], 0, backlog=1024)
            port = first.sockets[0].getsockname()[1]
            listeners = [first]
            for host in hosts[1:]:
                listeners.append(
                    await asyncio.start_server(server.handle, host, port, backlog=1024)
                )
            break
        except OSError:
            for lst in listeners:
                lst.close()
            listeners = []
    if not listeners:
        conn.send(("error", "could not bind the loopback addresses"))
        return
    sizes = [len(b) for b in pages.values()]
    cpu_ready = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    conn.send(("ready", port, statistics.mean(sizes), min(sizes), max(sizes)))
    deadline = time.monotonic() + SERVER_LIFETIME
    while not stop.is_set() and time.monotonic() < deadline:  # bounded: stop event or lifetime
        await asyncio.sleep(0.05)
    for lst in listeners:
        lst.close()
    conn.send(
        (
            "stats",
            {
                "requests": server.requests,
                "connections": server.connections,
                "peak_in_flight": server.peak_in_flight,
                "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_ready,
            },
        )
    )


def serve(
    conn: Any, stop: Any, hosts: list[str], paths: dict[str, int], delay: float, use_gzip: bool
) -> None:
    """Child-process entry point; Ctrl-C goes to the parent, which stops the server."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_serve(conn, stop, hosts, paths, delay, use_gzip))
    except Exception as exc:  # tell the parent rather than leave it waiting
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


# -- the fetcher (this process) -----------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def run_fetch(urls: list[str], workers: int, per_host: int) -> dict[str, Any]:
    from wirehouse import raw
    from wirehouse.collect import collect_source
    from wirehouse.config import DEFAULT_USER_AGENT
    from wirehouse.discover import Candidate
    from wirehouse.fetch import Fetcher
    from wirehouse.sources import Source

    source = Source(
        id="bench",
        name="Fetch benchmark",
        home_url=urls[0],
        urls=tuple(urls),
        allow_private_hosts=True,
        delay_seconds=0.0,
        concurrency=per_host,
        max_urls=len(urls) + 1,
    )
    candidates = [Candidate(url=u, via="url") for u in urls]
    baseline = rss_mb()
    with tempfile.TemporaryDirectory(prefix="wirehouse-bench-raw-") as tmp:
        raw_dir = Path(tmp)

        def archive(result: Any) -> None:  # as pipeline._archiver does
            result.body_sha256 = raw.archive(raw_dir, result.body)

        # as pipeline._fetcher builds it, with the source's per-host limits
        fetcher = Fetcher(
            DEFAULT_USER_AGENT,
            allow_private_hosts=source.may_reach_private,
            delay_seconds=source.delay_seconds,
            concurrency=source.concurrency,
            timeout=source.timeout_seconds,
            total_timeout=3 * source.timeout_seconds,
        )
        cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        started = time.perf_counter()
        with fetcher:
            collected = collect_source(
                source,
                "2024-05-01",
                candidates,
                [],
                fetcher,
                archive=archive,
                extract=False,
                workers=workers,
            )
        wall = time.perf_counter() - started
        cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0
        archived = sum(1 for _ in raw_dir.rglob("*.gz"))
    rows = collected.fetches
    elapsed = sorted(r["elapsed_ms"] for r in rows if r["outcome"] == "ok")
    return {
        "wall": wall,
        "cpu": cpu,
        "outcomes": Counter(r["outcome"] for r in rows),
        "errors": Counter(r["error"] for r in rows if r["outcome"] != "ok"),
        "archived": archived,
        "bytes": sum(r["bytes"] or 0 for r in rows),
        "p50_ms": elapsed[len(elapsed) // 2] if elapsed else 0,
        "p95_ms": elapsed[int(len(elapsed) * 0.95)] if elapsed else 0,
        "baseline_mb": baseline,
    }


def _server_stats(conn: Any) -> dict[str, Any]:
    try:
        msg = conn.recv() if conn.poll(10) else None
    except (EOFError, OSError):
        return {}
    return msg[1] if isinstance(msg, tuple) and msg[0] == "stats" else {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000, help="pages to fetch (default 2000)")
    ap.add_argument("--hosts", type=int, default=50, help="loopback hosts (default 50)")
    ap.add_argument("--delay-ms", type=float, default=50.0, help="server delay per response")
    ap.add_argument("--workers", type=int, default=32, help="collector threads (default 32)")
    ap.add_argument("--per-host", type=int, default=8, help="per-host concurrency (default 8)")
    ap.add_argument("--gzip", action="store_true", help="serve pages gzip-compressed")
    ap.add_argument(
        "--memory",
        choices=("all", "jsonl", "sitemap", "none"),
        default="all",
        help="memory cases to run after the fetch benchmark (bench/bench_memory.py)",
    )
    args = ap.parse_args(argv)
    if not 1 <= args.hosts <= MAX_HOSTS:
        ap.error(f"--hosts must be between 1 and {MAX_HOSTS}")
    if args.pages < 1 or args.workers < 1 or args.per_host < 1 or args.delay_ms < 0:
        ap.error("--pages, --workers and --per-host must be positive, --delay-ms not negative")

    hosts = [f"127.0.0.{i}" for i in range(1, args.hosts + 1)]
    paths = {f"/news/{i:06d}.html": i for i in range(args.pages)}
    ctx = mp.get_context("spawn")  # a clean child: none of this process's memory or threads
    parent_conn, child_conn = ctx.Pipe()
    stop = ctx.Event()
    server = ctx.Process(
        target=serve,
        args=(child_conn, stop, hosts, paths, args.delay_ms / 1000, args.gzip),
        daemon=True,
    )
    server.start()
    try:
        if not parent_conn.poll(120):
            print("server did not start within 120 s", file=sys.stderr)
            return 1
        msg = parent_conn.recv()
        if msg[0] != "ready":
            print(f"server failed: {msg[1]}", file=sys.stderr)
            return 1
        _, port, mean_size, min_size, max_size = msg
        # interleaved: page i lives on host i % hosts
        urls = [f"http://{hosts[i % len(hosts)]}:{port}{p}" for p, i in paths.items()]
        res = run_fetch(urls, args.workers, args.per_host)
    finally:
        stop.set()
        stats = _server_stats(parent_conn)
        server.join(10)
        if server.is_alive():
            server.terminate()
            server.join(5)

    ok = res["outcomes"].get("ok", 0)
    pps = args.pages / res["wall"]
    peak = peak_rss_mb()
    speed_ok = pps >= TARGET_PAGES_PER_SECOND
    mem_ok = peak < TARGET_PEAK_MB
    table = [
        ("pages", f"{args.pages}"),
        ("hosts", f"{args.hosts} (127.0.0.1-127.0.0.{args.hosts})"),
        ("server delay", f"{args.delay_ms:g} ms"),
        (
            "page size",
            f"{mean_size / 1024:.1f} KB mean ({min_size / 1024:.0f}-{max_size / 1024:.0f} KB)"
            + (", served gzip" if args.gzip else ", served identity"),
        ),
        ("workers / per-host", f"{args.workers} / {args.per_host} (delay_seconds=0)"),
        ("wall seconds", f"{res['wall']:.2f}"),
        ("pages/second", f"{pps:.1f}  [{'PASS' if speed_ok else 'FAIL'}: >= 150]"),
        ("ok", f"{ok} of {args.pages}" + ("" if ok == args.pages else "  [MISSING PAGES]")),
        ("archived bodies", f"{res['archived']}"),
        ("fetch latency", f"p50 {res['p50_ms']} ms, p95 {res['p95_ms']} ms"),
        ("fetcher CPU", f"{res['cpu']:.2f} s ({100 * res['cpu'] / res['wall']:.0f}% of one core)"),
        (
            "server",
            f"{stats.get('requests', '?')} requests, {stats.get('connections', '?')} "
            f"connections, peak {stats.get('peak_in_flight', '?')} in flight, "
            f"{stats.get('cpu_s', 0):.2f} s CPU",
        ),
        ("RSS before fetch", f"{res['baseline_mb']:.0f} MB"),
        ("peak RSS (fetcher)", f"{peak:.0f} MB  [{'PASS' if mem_ok else 'FAIL'}: < 500]"),
    ]
    width = max(len(k) for k, _ in table)
    print("Wirehouse fetch benchmark (collect_source, extract=False, raw archive on)")
    for key, value in table:
        print(f"  {key:<{width}}  {value}")
    if ok != args.pages:
        others = {k: v for k, v in res["outcomes"].items() if k != "ok"}
        print(f"FAIL: only {ok} of {args.pages} pages ok; other outcomes: {others}")
        for error, n in res["errors"].most_common(5):
            print(f"  {n} x {error}")
        return 1
    verdict = speed_ok and mem_ok
    print("PASS" if verdict else "FAIL: target missed")
    if args.memory != "none":
        import bench_memory  # beside this file

        print()
        memory = bench_memory.main(["--case", args.memory])
        verdict = verdict and memory == 0
    return 0 if verdict else 2


if __name__ == "__main__":
    sys.exit(main())
