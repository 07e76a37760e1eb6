"""A loopback stand-in for image/audio endpoints: OpenAI-compatible and Hugging Face routes.

The upstream model id (OpenAI routes) or the last path segment (``/hf/<kind>/<mode>``) picks
the behaviour: ``ok``, ``url`` (answer with a URL to fetch), ``huge`` (a URL to an over-large
file), ``500``, ``hang`` (no answer for 3 s), ``garbage`` (bytes that are no media), ``notjson``,
``tagged-<name>`` (valid media whose metadata names ``<name>``).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from arena.modalities.demo_media import demo_audio, demo_image


def _image(mode: str, prompt: str) -> bytes:
    if mode.startswith("tagged-"):
        # The same pixels from every "model": only the metadata differs.
        return demo_image("demo-mondrian", prompt, tag=mode.removeprefix("tagged-"))
    return demo_image("demo-sunset", prompt)


def _audio(mode: str, prompt: str) -> bytes:
    if mode.startswith("tagged-"):
        return demo_audio("demo-soprano", prompt, tag=mode.removeprefix("tagged-"))
    return demo_audio("demo-baritone", prompt)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append((self.path, {}, dict(self.headers)))
        if self.path == "/files/huge.png":
            return self._send(200, b"\x89PNG" + b"0" * (2 * 1024 * 1024), "image/png")
        return self._send(200, _image("ok", "fetched"), "image/png")

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.loads(raw or b"{}")
        self.server.requests.append((self.path, body, dict(self.headers)))
        if self.path.startswith("/hf/"):
            _, _, kind, mode = self.path.split("/", 3)
            prompt = body.get("inputs", "")
        else:
            kind = "image" if self.path.endswith("/images/generations") else "audio"
            mode, prompt = body.get("model", ""), body.get("prompt") or body.get("input", "")
        if mode == "500":
            return self._send(500, b'{"error": "boom"}')
        if mode == "hang":
            time.sleep(3)
            return self._send(500, b"{}")
        if mode == "notjson":
            return self._send(200, b"<html>oops</html>", "text/html")
        if kind == "audio":
            data = b"\x00garbage-not-audio" if mode == "garbage" else _audio(mode, prompt)
            return self._send(200, data, "audio/wav")
        data = b"garbage-not-an-image" if mode == "garbage" else _image(mode, prompt)
        if self.path.startswith("/hf/"):
            return self._send(200, data, "image/png")
        port = self.server.server_address[1]
        if mode in ("url", "huge"):
            name = "huge.png" if mode == "huge" else "img.png"
            item = {"url": f"http://127.0.0.1:{port}/files/{name}"}
        else:
            item = {"b64_json": base64.b64encode(data).decode()}
        return self._send(200, json.dumps({"created": 0, "data": [item]}).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[tuple[str, dict[str, object], dict[str, str]]]


@dataclass
class MediaStandIn:
    url: str
    server: _Server

    @property
    def requests(self) -> list[tuple[str, dict[str, object], dict[str, str]]]:
        return self.server.requests


@pytest.fixture(scope="session")
def media_endpoint() -> Iterator[MediaStandIn]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield MediaStandIn(f"http://127.0.0.1:{server.server_address[1]}", server)
    server.shutdown()
    server.server_close()
