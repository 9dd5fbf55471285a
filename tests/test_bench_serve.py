"""scripts/bench_serve.py's load client: responses read to their end, every one counted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from scripts._scripts import load_script

bench_serve = load_script("bench_serve")


def test_a_response_ends_at_its_content_length() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n"
    assert bench_serve.response_end(head[:20]) is None
    assert bench_serve.response_end(head + b"abc") is None
    assert bench_serve.response_end(head + b"abcde") == (200, len(head) + 5, False)
    closing = b"HTTP/1.1 503 Busy\r\nConnection: close\r\ncontent-length: 0\r\n\r\n"
    assert bench_serve.response_end(closing) == (503, len(closing), True)
    with pytest.raises(ValueError, match="Content-Length"):
        bench_serve.response_end(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")


@dataclass
class Query:
    q: str

    def url_params(self) -> dict[str, str]:
        return {"q": self.q}


class Counting(BaseHTTPRequestHandler):
    """200 with a body, but 500 for q=bad; every third answer closes its connection."""

    protocol_version = "HTTP/1.1"
    answered: ClassVar[list[str]] = []
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.answered.append(self.path)
            closing = len(self.answered) % 3 == 0
        body = b'{"results": []}'
        self.send_response(500 if "q=bad" in self.path else 200)
        self.send_header("Content-Length", str(len(body)))
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    Counting.answered = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_the_load_counts_every_answer_and_every_failure(server: ThreadingHTTPServer) -> None:
    port = server.server_address[1]
    queries = [Query("harbour"), Query("bad"), Query("strike"), Query("dock workers")]
    result = bench_serve.bench_http(port, queries, 3, 0.5, load_script("bench_search"))
    answered = Counting.answered
    assert result["n"] == len(answered) > 10
    assert result["errors"] == sum("q=bad" in path for path in answered) > 0
    assert {path.split("q=")[1] for path in answered} == {
        "harbour",
        "bad",
        "strike",
        "dock+workers",
    }
    assert len(result["failures"]) == min(20, result["errors"])
