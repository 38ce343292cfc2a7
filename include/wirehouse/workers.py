"""Worker processes for the CPU-heavy stages (extraction, story features and derivations).

Workers come from a fork server, not from a fresh interpreter each ("spawn"). A spawned
worker imports the parent's main module again: under Airflow that is the ``airflow``
script, so every worker paid for importing Airflow plus the extraction libraries (about
5 s of CPU each, measured on 2 shared cores), and every collect task and the story stage
started two of them per pool. The fork server is started once per process, imports the
main module and the stages' modules once, and forks each worker from that ready state.

It is as safe as "spawn" for our threaded parents (the fetch threads of a collect task):
the server is a fresh interpreter started by exec, single-threaded, so no worker inherits a
lock held by a parent's thread. Workers only compute on what they are sent, so a server
started by an earlier task of the same process (``airflow dags test`` runs every task in
one process) gives the same results.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

# imported once by the fork server: "__main__" spares each worker the main module's
# imports (Airflow's, under Airflow), the others the stages' libraries
PRELOAD = ["__main__", "wirehouse.collect", "wirehouse.stories"]


def process_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of `processes` workers forked from the (shared, preloaded) fork server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # no effect once the server has started
    return ProcessPoolExecutor(processes, mp_context=context)


def stop_server() -> None:
    """Stop the fork server, if one runs, once its workers are done (a later pool starts a
    new one). Its workers are its children, not ours: stopping it (it waits for them, and
    we wait for it) puts their peak memory among this process's children's
    (``RUSAGE_CHILDREN``), as bench/bench_memory.py reports it."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # the standard library's own (unit tests') way
