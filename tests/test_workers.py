"""Worker pools fork from one preloaded server: workers compute what the parent would,
a stopped server is started again by the next pool, and the workers' peak memory is
counted among the parent's children once the server is stopped (bench_memory reads it)."""

from __future__ import annotations

import resource

from wirehouse import workers
from wirehouse.boilerplate import paragraph_key


def test_workers_give_the_parents_answers_and_the_server_restarts() -> None:
    paragraphs = ["Sign up for our newsletter.", "© 2026 Outlet Media", "Ünïcode façade 42"]
    with workers.process_pool(2) as pool:
        assert list(pool.map(paragraph_key, paragraphs)) == [paragraph_key(p) for p in paragraphs]
    workers.stop_server()
    workers.stop_server()  # no server: nothing to do
    with workers.process_pool(2) as pool:
        assert list(pool.map(paragraph_key, paragraphs)) == [paragraph_key(p) for p in paragraphs]


def _hold(megabytes: int) -> int:
    return len(bytearray(megabytes * 2**20))


def test_a_stopped_servers_workers_count_among_the_children() -> None:
    with workers.process_pool(1) as pool:
        assert pool.submit(_hold, 300).result() == 300 * 2**20
    workers.stop_server()
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss >= 300 * 1024  # KB
