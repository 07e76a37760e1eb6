"""A small OpenAI-compatible chat-completions server, so the arena runs without a GPU.

Run it with ``python -m arena.demo_endpoint --port 8001`` and point contenders at
``http://127.0.0.1:8001/v1``; tests use :func:`start` on port 0 over loopback. Answers are
deterministic (a hash of the model, the conversation and the last prompt seeds every choice),
so the same conversation always gets the same answer while different prompts get different ones.

Answers never name their model nor use the words of the model ids: the identity check that
flags self-revealing answers must not fire on the demo contenders. ``fault-leak`` is the
deliberate exception.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import random
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from arena.modalities.demo_media import AUDIO_STYLES, IMAGE_STYLES, demo_audio, demo_image

log = logging.getLogger(__name__)

CONTENDERS = ("demo-brief", "demo-verbose", "demo-markdown", "demo-scholar")
FAULTS = ("fault-500", "fault-hang", "fault-slow", "fault-cut", "fault-leak")
HANG_LIMIT_S = 60.0  # a hung request still ends, so no handler thread outlives a test run
SLOW_FIRST_CHUNK_S = 2.0
CUT_AFTER_CHUNKS = 4


class DemoServer:
    """A running demo server; ``url`` is the base URL including ``/v1``."""

    def __init__(self, httpd: _Server, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.host = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])
        self.url = f"http://{self.host}:{self.port}/v1"

    @property
    def last_headers(self) -> dict[str, str]:
        """Headers of the latest chat request (lower-case names), for tests and debugging."""
        return dict(self._httpd.last_headers)

    def stop(self) -> None:
        # Wake sleeping handlers first, so fault-hang and delays end with the server.
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


_MEDIA_ROUTES = ("/v1/images/generations", "/v1/audio/speech")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open a thousand streams at once; the default backlog of 5 drops SYNs.
    request_queue_size = 1024
    hang_limit_s = HANG_LIMIT_S

    def __init__(self, address: tuple[str, int], delay: float, faults: bool,
                 api_key: str | None) -> None:
        super().__init__(address, _Handler)
        self.delay = delay
        self.faults = faults
        self.api_key = api_key
        self.stopping = threading.Event()
        self.last_headers: dict[str, str] = {}

    def models(self) -> tuple[str, ...]:
        return CONTENDERS + FAULTS if self.faults else CONTENDERS


def start(host: str = "127.0.0.1", port: int = 0, delay: float = 0.0, faults: bool = False,
          api_key: str | None = None) -> DemoServer:
    """Start a server in a daemon thread; ``port=0`` picks a free port (see ``.port``)."""
    httpd = _Server((host, port), delay, faults, api_key)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name="demo-endpoint", daemon=True)
    thread.start()
    return DemoServer(httpd, thread)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 for chunked streaming (a cut stream is then detectable by the client);
    # every response closes its connection so no handler thread idles on keep-alive.
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/health":
            self._json(200, {"status": "ok"})
        elif path == "/v1/models":
            if self._authorised():
                data = [{"id": m, "object": "model", "created": 0, "owned_by": "local"}
                        for m in self.server.models()]
                self._json(200, {"object": "list", "data": data})
        else:
            self._error(404, "Not found.", "not_found")

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/") in _MEDIA_ROUTES:
            self._media(self.path.split("?", 1)[0].rstrip("/"))
            return
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/chat/completions":
            self._error(404, "Not found.", "not_found")
            return
        self.server.last_headers = {k.lower(): v for k, v in self.headers.items()}
        if not self._authorised():
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            messages = body["messages"]
            model = body.get("model")
            if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
                raise ValueError("messages must be a list of objects")
        except (ValueError, KeyError, TypeError) as exc:
            self._error(400, f"Invalid request: {exc}", "invalid_request")
            return
        if model not in self.server.models():
            self._error(404, f"The model `{model}` does not exist.", "model_not_found")
            return
        if model == "fault-500":
            self._error(500, "The server had an error while processing your request.",
                        "internal_error", kind="server_error")
            return
        text, citations = answer(model, messages)
        pieces = _pieces(text)
        finish = "stop"
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and 0 <= max_tokens < len(pieces):
            pieces, finish = pieces[:max_tokens], "length"
        usage = {"prompt_tokens": _count_prompt_tokens(messages),
                 "completion_tokens": len(pieces)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            options = body.get("stream_options") or {}
            self._stream(model, pieces, finish, citations,
                         usage if options.get("include_usage") else None)
        else:
            self._json(200, _completion(model, "".join(pieces), finish, usage, citations))

    def _media(self, path: str) -> None:
        """Image and audio demo contenders (arena.modalities.demo_media); no model weights."""
        if not self._authorised():
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            model = str(body.get("model"))
            prompt = str(body.get("prompt") or body.get("input") or "")
        except (ValueError, TypeError) as exc:
            self._error(400, f"Invalid request: {exc}", "invalid_request")
            return
        styles = IMAGE_STYLES if path == "/v1/images/generations" else AUDIO_STYLES
        if model not in styles:
            self._error(404, f"The model `{model}` does not exist.", "model_not_found")
            return
        if path == "/v1/images/generations":
            data = base64.b64encode(demo_image(model, prompt)).decode()
            self._json(200, {"created": 0, "data": [{"b64_json": data}]})
            return
        wav = demo_audio(model, prompt)
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(wav)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(wav)
        self.close_connection = True

    def _authorised(self) -> bool:
        expected = self.server.api_key
        if expected is None or self.headers.get("Authorization") == f"Bearer {expected}":
            return True
        self._error(401, "Invalid or missing API key.", "invalid_api_key")
        return False

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _error(self, status: int, message: str, code: str,
               kind: str = "invalid_request_error") -> None:
        self._json(status, {"error": {"message": message, "type": kind, "param": None,
                                      "code": code}})

    def _stream(self, model: str, pieces: list[str], finish: str, citations: list[str],
                usage: dict[str, int] | None) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            if model == "fault-hang":
                self._hang()
                return
            if model == "fault-slow" and self.server.stopping.wait(SLOW_FIRST_CHUNK_S):
                return
            for n, event in enumerate(_events(model, pieces, finish, citations, usage)):
                if model == "fault-cut" and n == CUT_AFTER_CHUNKS:
                    # Drop the connection without the final chunk, finish_reason or [DONE].
                    self.wfile.flush()
                    return
                if n and self.server.delay and self.server.stopping.wait(self.server.delay):
                    return
                self._chunk(f"data: {event}\n\n".encode())
            self._chunk(b"")  # the terminating zero-length chunk of chunked encoding
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client went away during a %s stream", model)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _hang(self) -> None:
        """Send nothing until the client disconnects, the server stops, or the bound passes."""
        deadline = time.monotonic() + self.server.hang_limit_s
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            # A long poll: thousands of hung requests must not keep the CPU busy waking up.
            readable, _, _ = select.select([self.connection], [], [], 0.5)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                return  # EOF: the client gave up

# --- answer text ---------------------------------------------------------------------------
# Words of the model ids never reach an answer, not even when echoed from the prompt.
_OWN_WORDS = re.compile(r"demo|brief|verbose|markdown|scholar|fault", re.IGNORECASE)
_ASPECTS = ("clear goals and steady practice", "the trade-off between cost and speed",
            "context more than fixed rules", "a few well-understood basics",
            "careful measurement before any change", "starting small and iterating",
            "knowing which constraint matters most", "consistency rather than intensity")
_OPENINGS = ("In short, the answer to \"{t}\" comes down to {a}.",
             "The short answer to \"{t}\": {a}.", "\"{T}\" mostly depends on {a}.",
             "Put simply, \"{t}\" is a matter of {a}.")
_SECONDS = ("Start with the simplest option that works.", "Check the details against your case.",
            "Test it on a small scale before committing.", "")
_LONG = (
    "When people look at this for the first time, they often focus on the most visible part of "
    "the problem, yet the quieter details usually decide whether the result holds up over time.",
    "A useful way to approach the question is to separate what you can control from what you "
    "cannot, and then spend most of your effort on the first group while watching the second.",
    "History offers plenty of examples where similar questions were handled with patience and "
    "careful observation, and those cases tend to age far better than the hurried ones.",
    "It also helps to write down your assumptions before you begin, because this kind of "
    "problem has a way of revealing which of them were never quite true in the first place.",
    "Experts who have spent years on the subject rarely agree on every point, but they do agree "
    "that small, repeated improvements beat a single dramatic change almost every time.",
    "Cost matters as well: the cheapest path is not always the one with the lowest price today, "
    "since maintenance and mistakes add up in ways that are easy to underestimate.",
    "Remember that the subject involves people as much as techniques, so communication and "
    "shared expectations deserve as much attention as the technical choices.",
    "If you are unsure where to start, pick one concrete sub-question, answer it as well as you "
    "can, and let that answer shape the next question you ask.",
)
_KEYS = ("Scope", "Trade-offs", "First step", "Common pitfall", "Measurement", "Tooling", "Risks")
_FIELDS = ("studies", "reviews", "papers", "reports", "surveys")


def answer(model: str, messages: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The deterministic answer of ``model`` to a conversation, and its citation URLs."""
    users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
    prompt = users[-1] if users else ""
    follow_up = len(users) > 1 or any(m.get("role") == "assistant" for m in messages)
    seed = hashlib.sha256(json.dumps([model, messages], sort_keys=True, default=str).encode())
    rng = random.Random(seed.hexdigest())
    words = [w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", prompt)[:10]
             if not _OWN_WORDS.search(w)]
    topic = " ".join(words) or "your question"
    slug = "-".join(words[:4]).lower() or "general"
    cap = topic[:1].upper() + topic[1:]
    citations: list[str] = []
    if model == "demo-verbose":
        paragraphs = [" ".join(rng.sample(_LONG, 4)) for _ in range(3)]
        lead = "Thanks for the follow-up question. " if follow_up else ""
        opening = rng.choice(_OPENINGS).format(t=topic, T=cap, a=rng.choice(_ASPECTS))
        text = f"{lead}{opening} " + "\n\n".join(paragraphs)
    elif model == "demo-markdown":
        keys = rng.sample(_KEYS, 3)
        bullets = "\n".join(f"- **{k}**: {a}." for k, a in zip(keys, rng.sample(_ASPECTS, 3),
                                                                   strict=True))
        text = (f"## {cap}\n\n"
                + ("This follow-up builds on the earlier answer. " if follow_up else "")
                + f"Here is a structured overview.\n\n### Key points\n\n{bullets}\n\n"
                + "### Example\n\n```python\ndef plan(goal: str) -> list[str]:\n"
                + f"    return [goal, \"{rng.choice(_KEYS).lower()}\", \"review\"]\n```\n\n"
                + f"Further reading: [a practical guide](https://example.com/guide/{slug}).")
    elif model == "demo-scholar":
        field = rng.choice(_FIELDS)
        citations = [f"https://example.org/{field}/{slug}-{rng.randrange(1000, 9999)}"
                     for _ in range(rng.randint(2, 4))]
        marks = " ".join(f"[{i}]" for i in range(1, len(citations) + 1))
        body = " ".join(rng.sample(_LONG, 3))
        lead = "As a follow-up, the literature adds some nuance. " if follow_up else ""
        # Hard line breaks (two trailing spaces) keep one source per line without a list, so
        # this style stays "citations" rather than "markdown".
        sources = "  \n".join(f"[{i}] <{url}>" for i, url in enumerate(citations, 1))
        text = (f"{lead}Published work on \"{topic}\" points to {rng.choice(_ASPECTS)} {marks}. "
                + body)
        text += f"\n\nSources:  \n{sources}"
    else:  # demo-brief and the fault models answer briefly
        text = rng.choice(_OPENINGS).format(t=topic, T=cap, a=rng.choice(_ASPECTS))
        text = ("Following up: " if follow_up else "") + text
        second = rng.choice(_SECONDS)
        text += f" {second}" if second else ""
        if model == "fault-leak":
            text += " I am fault-leak, a model made by Faultworks."
    return text, citations


def _pieces(text: str) -> list[str]:
    """Word-ish tokens, each with its leading whitespace, so joining them restores the text."""
    return re.findall(r"\s*\S+|\s+$", text)


def _count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content") or "").split()) + 4 for m in messages)


def _events(model: str, pieces: list[str], finish: str, citations: list[str],
            usage: dict[str, int] | None) -> Iterator[str]:
    base: dict[str, Any] = {"id": _completion_id("".join(pieces)),
                            "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": model, "system_fingerprint": "fp_local"}
    if citations:
        base["citations"] = citations  # top-level, as search-backed APIs send it

    def chunk(delta: dict[str, str], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return json.dumps({**base, "choices": [choice]})

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces:
        yield chunk({"content": piece})
    yield chunk({}, finish)
    if usage is not None:
        yield json.dumps({**base, "choices": [], "usage": usage})
    yield "[DONE]"


def _completion_id(text: str) -> str:
    return "chatcmpl-" + hashlib.sha1(text.encode()).hexdigest()[:24]


def _completion(model: str, text: str, finish: str, usage: dict[str, int],
                citations: list[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": _completion_id(text),
        "object": "chat.completion", "created": int(time.time()), "model": model,
        "system_fingerprint": "fp_local",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": None, "finish_reason": finish}],
        "usage": usage,
    }
    if citations:
        payload["citations"] = citations
    return payload


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port`` (a bind attempt, as a server would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As http.server and gunicorn do: a port only in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _busy_message(host: str, port: int, setting: str) -> str:
    return (f"Port {port} on {host} is already in use, so the {setting} cannot start there. "
            f"Stop the program using it (e.g. an earlier `make run`: `ss -ltnp "
            f"'sport = :{port}'` shows it) or choose another port: "
            f"make run {setting}=<free port>")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible demo model server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between chunks")
    parser.add_argument("--faults", action="store_true", help="also serve the fault-* models")
    parser.add_argument("--api-key", default=None, help="require this bearer token")
    parser.add_argument("--check-free", nargs="+", metavar="SETTING=PORT", default=None,
                        help="only check that these ports are free on --host (exit 1 if not)")
    parser.add_argument("--hang-s", type=float, default=HANG_LIMIT_S,
                        help="how long fault-hang keeps a request open")
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    args = parser.parse_args(argv)
    if args.check_free is not None:
        # `make run` calls this before anything starts: a busy port stops it with one clear
        # line instead of a traceback after the banner and a site whose every round fails.
        busy = []
        for item in args.check_free:
            setting, _, port = item.rpartition("=")
            if port.isdigit() and port_in_use(args.host, int(port)):
                busy.append(_busy_message(args.host, int(port), setting or "server"))
        for line in busy:
            print(f"error: {line}", file=sys.stderr, flush=True)
        raise SystemExit(1 if busy else 0)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO)
    try:
        server = start(args.host, args.port, args.delay, args.faults, args.api_key)
    except OSError as exc:
        print(f"error: the demo endpoint cannot listen on {args.host}:{args.port}: "
              f"{exc.strerror or exc}. " + _busy_message(args.host, args.port, "DEMO_PORT"),
              file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    server._httpd.hang_limit_s = args.hang_s
    print(f"Demo endpoint on {server.url} serving: {', '.join(server._httpd.models())}",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()

