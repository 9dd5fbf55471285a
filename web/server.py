"""The production server: Granian, in one process or in several on one port.

Granian reads and writes HTTP in Rust threads that do not hold Python's interpreter lock,
so a process's lock goes to searching: on the 24k Reuters index under 20 clients, two
workers answered 0.82 of what the search function alone does in two processes, where
waitress's answered 0.70 (476 against 367 requests/s; scripts/bench_serve.py).

A process runs one search at a time (search/admission.py): only another process can
search on another core. Workers are forked from a process that has already served a
search, so each starts with the index's tables built, sharing their memory pages until it
writes to them. Each process holds its own copy of what it changes, so memory grows with
every process: at a million articles one process is the choice that stays under 1.5 GB.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from flask import Flask
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

IDENT = "newsearch"


class ServerError(Exception):
    """The server could not start; the message says why."""


def check_port(host: str, port: int) -> None:
    """Raises ServerError when ``port`` is taken. Granian's workers each bind the port
    with SO_REUSEPORT, which would let them share it with another server of this user
    instead of saying it is taken: a plain bind says so first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.create_server((host, port), family=family).close()
    except OSError as error:
        raise ServerError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def serve(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    threads: int,
    prepare: Callable[[], object] | None = None,
) -> None:
    """Serve ``app`` until stopped (TERM or INT). Workers are forked from this process and
    each calls ``prepare`` before it serves; if one dies the others are stopped and the
    process exits with status 1."""
    server = Server(
        IDENT,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backlog=1024,
        log_level=LogLevels.warning,
        respawn_failed_workers=False,
    )

    def prepared_app() -> Flask:  # called in a worker: the app built here, not an import path
        if prepare is not None:
            prepare()
        return app

    server.serve(target_loader=prepared_app, wrap_loader=False)
