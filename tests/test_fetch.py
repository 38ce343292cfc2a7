"""The fetcher against a real HTTP server on 127.0.0.1: every outcome is a value, not a crash."""

from __future__ import annotations

import gzip

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
    import time

    def slow(_request):  # type: ignore[no-untyped-def]
        time.sleep(1.5)
        return Response(PAGE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with make_fetcher(timeout=0.3, retries=0) as f:
        r = f.fetch(httpserver.url_for("/slow"))
    assert r.outcome == "timeout"


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
