"""The production server: waitress, in one process or in several sharing one socket.

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


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as error:
        raise ServerError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def serve(app: Flask, listener: socket.socket, threads: int, workers: int = 1) -> int:
    """Serve ``app`` on ``listener`` (from ``listen``) until stopped; returns the exit
    status. With ``workers`` > 1, that many processes accept connections from it. Raises
    ServerError."""
    if workers == 1:
        waitress_serve(app, sockets=[listener], threads=threads, ident=IDENT)
        return 0
    # A stop signal waits until every worker exists and the handlers are in place: one
    # arriving midway would leave workers running with no one to stop them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    children: set[int] = set()
    for number in range(1, workers + 1):
        try:
            pid = os.fork()
        except OSError as error:
            for child in children:
                stop(child)
                os.waitpid(child, 0)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            raise ServerError(
                f"could not start worker {number} of {workers}: {error.strerror}"
            ) from None
        if pid == 0:
            run_worker(app, listener, threads)
        children.add(pid)
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
