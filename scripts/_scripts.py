"""What the scripts share: loading a sibling script by name (scripts/ is not a package),
and starting the production server on a free port.

Used as ``from scripts._scripts import load_script`` once the repository root is on
``sys.path`` (each script puts it there; pytest runs from the root).
"""

from __future__ import annotations

import http.client
import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import IO

SCRIPTS = Path(__file__).resolve().parent


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as a module, registered in ``sys.modules`` under ``name``."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up in sys.modules
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    index_dir: Path,
    port: int,
    log: IO[bytes],
    threads: int = 4,
    workers: int = 1,
    timeout: float = 120.0,
) -> subprocess.Popen[bytes]:
    """``newsearch serve`` on 127.0.0.1:``port``, returned once /healthz answers. Its
    output goes to the file ``log``: a pipe nobody reads fills, and a server blocked on
    writing a log line answers no one. Raises SystemExit, with the server's output, if it
    exits or does not answer within ``timeout`` seconds."""
    # The console script's own code, run by this interpreter (the venv's `newsearch`).
    command = [sys.executable, "-c", "from search.cli import main; main()", "serve"]
    command += ["--index", str(index_dir), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--threads", str(threads), "--workers", str(workers)]
    server = subprocess.Popen(command, cwd=SCRIPTS.parent, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"newsearch serve exited with {server.returncode}:\n{output}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    server.kill()
    raise SystemExit(f"newsearch serve did not answer /healthz within {timeout:g} s")
