"""The production server: waitress, in one process or in several on one port.

A process runs one search at a time (search/admission.py): Python's interpreter lock lets
one thread run Python code at once, so only another process can search on another core.
Processes are forked from one that has already served a search, so each starts with the
index's tables built, sharing their memory pages until it writes to them. Each process
holds its own copy of what it changes, so memory grows with every process: at a million
articles one process is the choice that stays under 1.5 GB.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import traceback
from types import FrameType
from typing import NoReturn

from flask import Flask
from waitress import serve as waitress_serve

IDENT = "newsearch"
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class ServerError(Exception):
    """The server could not start; the message says why."""


def listen(host: str, port: int, workers: int = 1) -> list[socket.socket]:
    """One listening socket per worker. Several workers get sockets of their own on the
    same port (SO_REUSEPORT), among which the kernel spreads new connections: sharing one
    socket, the first worker to wake took most of them (18 of 20 keep-alive clients) and
    kept them. Raises ServerError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listeners: list[socket.socket] = []
    try:
        if workers == 1:
            return [socket.create_server((host, port), family=family, backlog=1024)]
        if port:
            # Sockets sharing a port would also share it with another server of this
            # user: a plain bind first says whether the port is free.
            socket.create_server((host, port), family=family).close()
        for _ in range(workers):
            listeners.append(
                socket.create_server((host, port), family=family, backlog=1024, reuse_port=True)
            )
            port = listeners[0].getsockname()[1]  # port 0: the one the first was given
        return listeners
    except OSError as error:
        for listener in listeners:
            listener.close()
        raise ServerError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def serve(app: Flask, listeners: list[socket.socket], threads: int) -> int:
    """Serve ``app`` until stopped, one process per socket of ``listeners`` (from
    ``listen``); returns the exit status. Raises ServerError."""
    if len(listeners) == 1:
        waitress_serve(app, sockets=listeners, threads=threads, ident=IDENT)
        return 0
    # A stop signal waits until every worker exists and the handlers are in place: one
    # arriving midway would leave workers running with no one to stop them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    children: set[int] = set()
    for number, listener in enumerate(listeners, start=1):
        try:
            pid = os.fork()
        except OSError as error:
            for child in children:
                stop(child)
                os.waitpid(child, 0)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            raise ServerError(
                f"could not start worker {number} of {len(listeners)}: {error.strerror}"
            ) from None
        if pid == 0:
            for other in listeners:
                if other is not listener:
                    other.close()
            run_worker(app, listener, threads)
        children.add(pid)
    # Only the workers may hold the sockets: the kernel would queue connections on one
    # no process accepts from.
    for listener in listeners:
        listener.close()
    return supervise(children)


def run_worker(app: Flask, listener: socket.socket, threads: int) -> NoReturn:
    """A forked worker: serves until TERM ends it. Ctrl-C reaches it from the terminal
    and again from the parent as TERM, so INT is ignored here."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    status = 0
    try:
        waitress_serve(app, sockets=[listener], threads=threads, ident=IDENT)
    except BaseException:
        status = 1
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(status)  # never the parent's clean-up: it is the parent's


def supervise(children: set[int]) -> int:
    """Wait for the first worker to end, stop the others, and return its exit status; a
    TERM or INT sent to this process stops every worker."""

    def stop_all(_signum: int, _frame: FrameType | None) -> None:
        for pid in list(children):
            stop(pid)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop_all)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    first: int | None = None
    while children:
        pid, status = os.wait()
        if pid not in children:
            continue  # not a worker
        children.discard(pid)  # reaped: its number may be reused, never signal it again
        if first is None:
            first = status
            stop_all(signal.SIGTERM, None)
    assert first is not None
    code = os.waitstatus_to_exitcode(first)
    # Stopped by our own signal is a clean stop, as for one process.
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code


def stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signal.SIGTERM)
