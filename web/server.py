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
from types import FrameType

from flask import Flask
from waitress import serve as waitress_serve

IDENT = "newsearch"


def serve(app: Flask, host: str, port: int, threads: int, workers: int = 1) -> int:
    """Serve ``app`` until stopped; returns the exit status. With ``workers`` > 1, that
    many processes accept connections from one listening socket."""
    if workers == 1:
        waitress_serve(app, host=host, port=port, threads=threads, ident=IDENT)
        return 0
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the child serves until it is stopped, and never returns here
            status = 0
            try:
                waitress_serve(app, sockets=[listener], threads=threads, ident=IDENT)
            except BaseException:  # reported by waitress's logger or the traceback below
                status = 1
                raise
            finally:
                os._exit(status)
        children.append(pid)
    listener.close()
    return supervise(children)


def supervise(children: list[int]) -> int:
    """Wait for the first child to end, stop the others, and return its exit status; a
    TERM or INT sent to this process is passed on to every child."""

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        for pid in children:
            stop(pid, signum)

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    first, status = os.wait()
    for pid in children:
        if pid != first:
            stop(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    # Stopped by our own signal is a clean stop, as for one process.
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code


def stop(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signum)
