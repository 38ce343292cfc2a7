"""The fetcher against a real HTTP server on 127.0.0.1: every outcome is a value, not a crash."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable

from pytest_httpserver import HTTPServer
from werkzeug import Response

from wirehouse.fetch import Fetcher, decode_html, is_html

PAGE = b"<html><head><title>t</title></head><body><p>Hello</p></body></html>"


def make_fetcher(**kw: object) -> Fetcher:
    kw.setdefault("allow_private_hosts", True)
    kw.setdefault("delay_seconds", 0.0)
    kw.setdefault("sleep", lambda s: None)
    kw.setdefault("respect_robots", False)
    return Fetcher("Wirehouse-test/1", **kw)  # type: ignore[arg-type]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until the condition holds (the local server finishes requests on its own thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_ok_sends_user_agent_and_returns_body(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a", headers={"User-Agent": "Wirehouse-test/1"}).respond_with_data(
        PAGE, content_type="text/html; charset=utf-8"
    )
    with make_fetcher() as f:
        r = f.fetch(httpserver.url_for("/a"))
    assert (r.outcome, r.http_status, r.body, r.attempts) == ("ok", 200, PAGE, 1)
    assert r.encoding == "utf-8"


def test_404_is_http_error_without_retry(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/missing").respond_with_data("no", status=404)
    with make_fetcher() as f:
        r = f.fetch(httpserver.url_for("/missing"))
    assert (r.outcome, r.http_status, r.attempts) == ("http_error", 404, 1)
    assert len(httpserver.log) == 1


def test_503_is_retried_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/flaky").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher() as f:
        r = f.fetch(httpserver.url_for("/flaky"))
    assert (r.outcome, r.attempts) == ("ok", 2)


def test_redirect_chain_is_followed_and_loop_detected(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/r1").respond_with_response(
        Response(status=301, headers={"Location": "/r2"})
    )
    httpserver.expect_request("/r2").respond_with_response(
        Response(status=302, headers={"Location": "/a"})
    )
    httpserver.expect_request("/a").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/loop1").respond_with_response(
        Response(status=302, headers={"Location": "/loop2"})
    )
    httpserver.expect_request("/loop2").respond_with_response(
        Response(status=302, headers={"Location": "/loop1"})
    )
    with make_fetcher() as f:
        ok = f.fetch(httpserver.url_for("/r1"))
        loop = f.fetch(httpserver.url_for("/loop1"))
    assert ok.outcome == "ok" and ok.final_url == httpserver.url_for("/a")
    assert loop.outcome == "redirect_loop"


def test_oversized_body_is_cut_off(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000, content_type="text/html")
    with make_fetcher(max_bytes=1000) as f:
        r = f.fetch(httpserver.url_for("/big"))
    assert r.outcome == "too_large" and r.body == b""


def test_gzip_bomb_is_bounded(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    with make_fetcher(max_bytes=1_000_000) as f:
        r = f.fetch(httpserver.url_for("/bomb"))
    assert r.outcome == "too_large"


def test_private_address_is_blocked_unless_allowed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(allow_private_hosts=False) as f:
        r = f.fetch(httpserver.url_for("/a"))
    assert r.outcome == "blocked_private_address"
    assert "127.0.0.1" in (r.error or "")
    assert httpserver.log == []


def test_connection_refused_and_bad_urls() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with make_fetcher(retries=1) as f:
        refused = f.fetch(f"http://127.0.0.1:{port}/x")
        bad = f.fetch("mailto:someone@example.com")
    assert (refused.outcome, refused.attempts) == ("connection_error", 2)
    assert bad.outcome == "invalid_url"


def test_timeout(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def slow(_request):  # type: ignore[no-untyped-def]
        release.wait(5)
        return Response(PAGE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with make_fetcher(timeout=0.3, retries=0) as f:
        r = f.fetch(httpserver.url_for("/slow"))
    release.set()
    wait_until(lambda: len(httpserver.log) == 1)  # the abandoned request must not leak on
    assert r.outcome == "timeout"
    assert r.error and "ReadTimeout" in r.error


def test_html_detection_and_decoding() -> None:
    assert is_html("text/html; charset=x", b"")
    assert is_html("application/xhtml+xml", b"")
    assert not is_html("application/pdf", b"<html>")
    assert is_html(None, b"  <!DOCTYPE html><html>")
    latin = "<p>Café déjà</p>".encode("latin-1")
    assert "Café" in decode_html(latin, None)
    assert "Café" in decode_html(b'<meta charset="iso-8859-1">' + latin, None)
    assert decode_html(b"\xef\xbb\xbf<p>\xc3\xa9</p>", "latin-1") == "<p>é</p>"
    assert "\u201c" in decode_html("“quoted”".encode("windows-1252"), None)


# -- robots.txt ----------------------------------------------------------------------------


def paths_hit(httpserver: HTTPServer) -> list[str]:
    return [request.path for request, _response in httpserver.log]


def test_robots_disallow_blocks_path_and_allows_others(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    httpserver.expect_request("/private/secret").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/public").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(respect_robots=True) as f:
        blocked = f.fetch(httpserver.url_for("/private/secret"))
        allowed = f.fetch(httpserver.url_for("/public"))
    assert (blocked.outcome, blocked.attempts, blocked.body) == ("robots_disallowed", 0, b"")
    assert blocked.error == "disallowed by robots.txt"
    assert (allowed.outcome, allowed.body) == ("ok", PAGE)
    assert paths_hit(httpserver) == ["/robots.txt", "/public"]


def test_robots_404_allows_everything(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("not here", status=404)
    httpserver.expect_request("/private/a").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(respect_robots=True) as f:
        r = f.fetch(httpserver.url_for("/private/a"))
    assert (r.outcome, r.body) == ("ok", PAGE)
    assert paths_hit(httpserver) == ["/robots.txt", "/private/a"]


def test_robots_unreachable_disallows_everything(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("down", status=503)
    httpserver.expect_request("/a").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(respect_robots=True, retries=2) as f:
        first = f.fetch(httpserver.url_for("/a"))
        second = f.fetch(httpserver.url_for("/b"))
    for r in (first, second):
        assert r.outcome == "robots_disallowed"
        assert "robots.txt unreachable" in (r.error or "") and "503" in (r.error or "")
    # three attempts at robots.txt (retries=2), remembered for the run; no page request
    assert paths_hit(httpserver) == ["/robots.txt"] * 3


def test_robots_fetched_once_per_host_across_threads(httpserver: HTTPServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /no/\n", content_type="text/plain"
    )
    for i in range(8):
        httpserver.expect_request(f"/p{i}").respond_with_data(PAGE, content_type="text/html")
    urls = [httpserver.url_for(f"/p{i}") for i in range(8)] + [httpserver.url_for("/no/x")]
    with make_fetcher(respect_robots=True, concurrency=8) as f, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(f.fetch, urls))
    assert [r.outcome for r in results] == ["ok"] * 8 + ["robots_disallowed"]
    hits = paths_hit(httpserver)
    assert hits.count("/robots.txt") == 1
    assert sorted(hits) == sorted(["/robots.txt", *(f"/p{i}" for i in range(8))])


def test_fractional_crawl_delay_spaces_requests(httpserver: HTTPServer) -> None:
    arrivals: list[float] = []

    def page(_request):  # type: ignore[no-untyped-def]
        arrivals.append(time.monotonic())
        return Response(PAGE, content_type="text/html")

    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: Wirehouse\nCrawl-delay: 0.3\n\nUser-agent: *\nDisallow:\n",
        content_type="text/plain",
    )
    httpserver.expect_request("/a").respond_with_handler(page)
    httpserver.expect_request("/b").respond_with_handler(page)
    with make_fetcher(respect_robots=True, delay_seconds=0) as f:
        a = f.fetch(httpserver.url_for("/a"))
        b = f.fetch(httpserver.url_for("/b"))
    assert (a.outcome, b.outcome) == ("ok", "ok")
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.3


# -- retries and Retry-After ---------------------------------------------------------------


def recording_sleep() -> tuple[list[float], Callable[[float], None]]:
    calls: list[float] = []
    return calls, calls.append


def test_429_retry_after_seconds_is_honoured(httpserver: HTTPServer) -> None:
    calls, sleep = recording_sleep()
    httpserver.expect_ordered_request("/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/busy").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(sleep=sleep, backoff=0.01) as f:
        r = f.fetch(httpserver.url_for("/busy"))
    assert (r.outcome, r.attempts, r.http_status, r.body) == ("ok", 2, 200, PAGE)
    assert len(calls) == 1 and calls[0] >= 1.0


def test_503_retry_after_http_date(httpserver: HTTPServer) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    calls, sleep = recording_sleep()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    httpserver.expect_ordered_request("/maint").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": when}
    )
    httpserver.expect_ordered_request("/maint").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(sleep=sleep, backoff=0.01) as f:
        r = f.fetch(httpserver.url_for("/maint"))
    assert (r.outcome, r.attempts) == ("ok", 2)
    assert len(calls) == 1 and 27.0 <= calls[0] <= 31.0


def test_retry_after_over_cap_is_not_waited_for(httpserver: HTTPServer) -> None:
    calls, sleep = recording_sleep()
    httpserver.expect_request("/later").respond_with_data(
        "come back tomorrow", status=429, headers={"Retry-After": "3600"}
    )
    with make_fetcher(sleep=sleep, max_retry_after=60) as f:
        r = f.fetch(httpserver.url_for("/later"))
    assert (r.outcome, r.http_status, r.attempts) == ("http_error", 429, 1)
    assert r.retry_after == 3600.0
    assert "60s cap" in (r.error or "") and "3600" in (r.error or "")
    assert calls == [] and len(httpserver.log) == 1


def test_5xx_retried_with_exponential_backoff(httpserver: HTTPServer) -> None:
    calls, sleep = recording_sleep()
    httpserver.expect_request("/down").respond_with_data("oops", status=502)
    with make_fetcher(sleep=sleep, retries=3, backoff=0.5) as f:
        r = f.fetch(httpserver.url_for("/down"))
    assert (r.outcome, r.http_status, r.attempts) == ("http_error", 502, 4)
    assert len(httpserver.log) == 4
    assert len(calls) == 3
    assert calls == sorted(calls) and calls[0] < calls[1] < calls[2]
    # base 0.5 s doubling each time, with up to 50 % jitter
    for call, base in zip(calls, (0.5, 1.0, 2.0), strict=True):
        assert base <= call <= base * 1.5


# -- conditional GET -----------------------------------------------------------------------


def test_conditional_get_with_etag(httpserver: HTTPServer) -> None:
    def handler(request):  # type: ignore[no-untyped-def]
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(PAGE, content_type="text/html", headers={"ETag": '"v1"'})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    with make_fetcher() as f:
        first = f.fetch(httpserver.url_for("/feed"))
        second = f.fetch(httpserver.url_for("/feed"), validators={"etag": first.etag or ""})
    assert (first.outcome, first.etag, first.body) == ("ok", '"v1"', PAGE)
    assert (second.outcome, second.http_status, second.body) == ("not_modified", 304, b"")
    assert second.etag == '"v1"'
    assert [req.headers.get("If-None-Match") for req, _ in httpserver.log] == [None, '"v1"']


def test_conditional_get_with_last_modified(httpserver: HTTPServer) -> None:
    stamp = "Sat, 21 Nov 2026 08:00:00 GMT"

    def handler(request):  # type: ignore[no-untyped-def]
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)
        return Response(PAGE, content_type="text/html", headers={"Last-Modified": stamp})

    httpserver.expect_request("/sitemap.xml").respond_with_handler(handler)
    with make_fetcher() as f:
        first = f.fetch(httpserver.url_for("/sitemap.xml"))
        second = f.fetch(
            httpserver.url_for("/sitemap.xml"),
            validators={"last_modified": first.last_modified or ""},
        )
    assert (first.outcome, first.last_modified, first.etag) == ("ok", stamp, None)
    assert (second.outcome, second.http_status) == ("not_modified", 304)


# -- deadlines -----------------------------------------------------------------------------


def test_total_deadline_stops_a_trickling_body(httpserver: HTTPServer) -> None:
    stop, done = threading.Event(), threading.Event()

    def trickle(_request):  # type: ignore[no-untyped-def]
        def body():  # type: ignore[no-untyped-def]
            try:
                yield b"<html><body>"
                for _ in range(20):  # 0.1 s apart: each read is quick, the whole is slow
                    if stop.wait(0.1):
                        return
                    yield b"<p>drip</p>"
            finally:
                done.set()

        return Response(body(), content_type="text/html", direct_passthrough=True)

    httpserver.expect_request("/drip").respond_with_handler(trickle)
    started = time.monotonic()
    with make_fetcher(timeout=1.0, total_timeout=0.35, retries=0) as f:
        r = f.fetch(httpserver.url_for("/drip"))
    elapsed = time.monotonic() - started
    stop.set()
    assert done.wait(5)  # the server stops dripping before the next test
    assert (r.outcome, r.body, r.attempts) == ("timeout", b"", 1)
    assert r.error == "total time over 0.35s"
    assert 0 < r.bytes_received < len(b"<html><body>") + 20 * len(b"<p>drip</p>")
    assert 0.35 <= elapsed < 1.0


def test_waiting_for_the_host_slot_does_not_count_against_the_deadline(
    httpserver: HTTPServer,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    for i in range(4):
        httpserver.expect_request(f"/q{i}").respond_with_data(PAGE, content_type="text/html")
    urls = [httpserver.url_for(f"/q{i}") for i in range(4)]
    # four threads queue for one slot 0.25 s apart: the last waits ~0.75 s before its request
    fetcher = make_fetcher(delay_seconds=0.25, concurrency=1, total_timeout=0.5)
    with fetcher as f, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(f.fetch, urls))
    assert [(r.outcome, r.attempts) for r in results] == [("ok", 1)] * 4


# -- content encodings and size caps -------------------------------------------------------


def brotli_bomb(megabytes: int) -> bytes:
    import brotli

    compressor = brotli.Compressor(quality=4)
    block = b"\0" * (1 << 20)
    parts = [compressor.process(block) for _ in range(megabytes)]
    return b"".join([*parts, compressor.finish()])


def test_brotli_and_deflate_bodies_decode(httpserver: HTTPServer) -> None:
    import zlib

    import brotli

    page = PAGE * 50
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    bodies = {
        "/br": (brotli.compress(page), "br"),
        "/deflate": (zlib.compress(page), "deflate"),
        "/raw-deflate": (raw_deflate.compress(page) + raw_deflate.flush(), "deflate"),
        "/gzip": (gzip.compress(page), "gzip"),
    }
    for path, (body, encoding) in bodies.items():
        httpserver.expect_request(path).respond_with_data(
            body, content_type="text/html", headers={"Content-Encoding": encoding}
        )
    with make_fetcher() as f:
        results = {path: f.fetch(httpserver.url_for(path)) for path in bodies}
    for path, r in results.items():
        assert (path, r.outcome, r.body) == (path, "ok", page)
        assert r.bytes_received == len(page)
    sent = [req.headers.get("Accept-Encoding") for req, _ in httpserver.log]
    assert sent == ["gzip, deflate, br"] * len(bodies)


def test_corrupt_compressed_body_is_a_value_not_a_crash(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/bad").respond_with_data(
        b"this is not brotli at all" * 10,
        content_type="text/html",
        headers={"Content-Encoding": "br"},
    )
    with make_fetcher(retries=0) as f:
        r = f.fetch(httpserver.url_for("/bad"))
    assert r.outcome == "connection_error" and r.body == b""


def test_brotli_bomb_is_cut_at_the_cap_without_inflating_it(httpserver: HTTPServer) -> None:
    import tracemalloc

    bomb = brotli_bomb(128)  # a few hundred bytes on the wire, 128 MB decoded
    assert len(bomb) < 2000
    httpserver.expect_request("/bomb.br").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "br"}
    )
    with make_fetcher(max_bytes=1_000_000) as f:
        tracemalloc.start()
        try:
            r = f.fetch(httpserver.url_for("/bomb.br"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert (r.outcome, r.body) == ("too_large", b"")
    assert r.error == "body over 1000000 bytes"
    assert 1_000_000 < r.bytes_received < 2_000_000
    assert peak < 16_000_000, f"decoding held {peak} bytes at once"


def test_binary_served_as_html_is_not_html(httpserver: HTTPServer) -> None:
    import zlib

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
        + zlib.compress(b"\x00" * 64)
    )
    nul = b"<html><body>" + b"\x00\x01\x02\x03" * 100 + b"</body></html>"
    httpserver.expect_request("/img").respond_with_data(png, content_type="text/html")
    httpserver.expect_request("/nul").respond_with_data(nul, content_type="text/html")
    with make_fetcher() as f:
        img = f.fetch(httpserver.url_for("/img"))
        zeros = f.fetch(httpserver.url_for("/nul"))
    assert (img.outcome, img.body) == ("ok", png)
    assert (zeros.outcome, zeros.body) == ("ok", nul)
    assert not is_html(img.content_type, img.body)
    assert not is_html(zeros.content_type, zeros.body)
    assert is_html("text/html", PAGE)


# -- charsets ------------------------------------------------------------------------------

WESTERN = (
    "<html><head><title>Café society</title></head><body><article>"
    + "".join(
        f"<p>Paragraph {i}: the “new” café on the quay opened at dawn; its owner, "
        "Renée Dupré, said the crème brûlée was “à la carte” — and the locals\u2019 verdict "
        "was unanimous: déjà vu, but better.</p>"
        for i in range(8)
    )
    + "</article></body></html>"
)


def test_charsets_served_over_http(httpserver: HTTPServer) -> None:
    latin = "<html><body><p>Señor Müller's café, naïve façade, déjà vu, ½ price, 20 °C.</p></body></html>"
    cp1252 = WESTERN.encode("windows-1252")
    assert len(cp1252) > 1024
    pages = {
        "/latin1": (latin.encode("iso-8859-1"), "text/html; charset=iso-8859-1"),
        "/undeclared": (cp1252, "text/html"),
        "/bom": (b"\xef\xbb\xbf" + WESTERN.encode("utf-8"), "text/html; charset=iso-8859-1"),
        "/liar": (cp1252, "text/html; charset=utf-8"),
    }
    for path, (body, ctype) in pages.items():
        httpserver.expect_request(path).respond_with_data(body, content_type=ctype)
    with make_fetcher() as f:
        got = {path: f.fetch(httpserver.url_for(path)) for path in pages}
    assert [got[p].encoding for p in pages] == ["iso-8859-1", None, "iso-8859-1", "utf-8"]
    assert decode_html(got["/latin1"].body, got["/latin1"].encoding) == latin
    assert decode_html(got["/undeclared"].body, got["/undeclared"].encoding) == WESTERN
    assert decode_html(got["/bom"].body, got["/bom"].encoding) == WESTERN
    assert decode_html(got["/liar"].body, got["/liar"].encoding) == WESTERN


# -- SSRF guard ----------------------------------------------------------------------------


def test_private_host_allowance_is_per_host_and_rechecked_after_redirect(
    httpserver: HTTPServer,
) -> None:
    port = httpserver.port
    httpserver.expect_request("/start").respond_with_response(
        Response(status=302, headers={"Location": f"http://localhost:{port}/x"})
    )
    httpserver.expect_request("/x").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/direct").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(allow_private_hosts=lambda host: host == "127.0.0.1") as f:
        direct = f.fetch(f"http://127.0.0.1:{port}/direct")
        redirected = f.fetch(f"http://127.0.0.1:{port}/start")
    assert (direct.outcome, direct.body) == ("ok", PAGE)
    assert redirected.outcome == "blocked_private_address"
    assert "localhost resolves to non-public address" in (redirected.error or "")
    assert redirected.body == b""
    assert paths_hit(httpserver) == ["/direct", "/start"]


def test_redirect_target_obeys_robots(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\n"
    )
    httpserver.expect_request("/open").respond_with_response(
        Response(status=302, headers={"Location": "/private/page"})
    )
    httpserver.expect_request("/private/page").respond_with_data(PAGE, content_type="text/html")
    with make_fetcher(respect_robots=True) as f:
        r = f.fetch(httpserver.url_for("/open"))
    assert r.outcome == "robots_disallowed"
    assert "redirect target" in (r.error or "")
    assert "/private/page" not in [req.path for req, _ in httpserver.log]


def test_unreachable_host_is_a_connection_error_not_a_robots_verdict() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with make_fetcher(respect_robots=True, retries=1) as f:
        first = f.fetch(f"http://127.0.0.1:{port}/a")
        second = f.fetch(f"http://127.0.0.1:{port}/b")
    assert (first.outcome, first.attempts) == ("connection_error", 2)
    assert "robots.txt unreachable" in (first.error or "")
    assert second.outcome == "connection_error"  # robots.txt is not asked for again
