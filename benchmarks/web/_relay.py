"""The floor for streaming: a bare WSGI relay of the same two upstream streams.

``GET /relay?url=<chat-completions URL>&a=<model>&b=<model>`` opens both upstream streams with
plain httpx2 (no parsing, no database, no rendering) and forwards their bytes unchanged as
they arrive. Served by gunicorn with the shipped worker class, it measures what relaying the
tokens costs before any arena work.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx2

_client = httpx2.Client(timeout=httpx2.Timeout(60.0),
                        limits=httpx2.Limits(max_connections=None))


def _pump(url: str, model: str, out: queue.SimpleQueue[bytes | None]) -> None:
    body = {"model": model, "stream": True,
            "messages": [{"role": "user", "content": "Plan a week of dinners."}]}
    try:
        with _client.stream("POST", url, content=json.dumps(body),
                            headers={"Content-Type": "application/json"}) as response:
            for chunk in response.iter_raw():
                out.put(chunk)
    finally:
        out.put(None)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    if environ.get("PATH_INFO") != "/relay":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"ok"])
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    out: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    for side in ("a", "b"):
        threading.Thread(target=_pump, args=(query["url"], query[side], out),
                         daemon=True).start()
    start_response("200 OK", [("Content-Type", "text/event-stream")])
    return _relay(out)


def _relay(out: queue.SimpleQueue[bytes | None]) -> Iterator[bytes]:
    running = 2
    while running:
        chunk = out.get()
        if chunk is None:
            running -= 1
        else:
            yield chunk


# gunicorn.conf.py's post_worker_init reads the app's config (rate-limit storage); the relay
# has no limits.
app.config = {}  # type: ignore[attr-defined]
