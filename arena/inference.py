"""The only module that talks to model endpoints.

Endpoints speak the OpenAI-compatible chat-completions protocol with streaming (vLLM, TGI's
Messages API, SGLang, Hugging Face Inference Endpoints, Ollama) and are called through
``huggingface_hub.InferenceClient``. Every failure is raised as a typed
:class:`~arena.errors.InferenceError` whose message is safe for anonymous users; the model id
and URL only go to the log.

``Endpoint.base_url`` is the server's OpenAI base URL. ``http://host:8001/v1``,
``http://host:8001/v1/``, ``http://host:8001`` and the full
``http://host:8001/v1/chat/completions`` all mean the same server; a path that ends in another
version segment (``/openai/v4``) gets ``/chat/completions`` appended, any other path gets
``/v1/chat/completions`` appended (as huggingface_hub itself does).
"""

from __future__ import annotations

import fcntl
import json
import logging
import queue
import re
import socket
import ssl
import struct
import termios
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpcore2
import httpx2
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OfflineModeIsEnabled

from arena.errors import (
    EndpointHTTPError,
    EndpointTimeout,
    EndpointUnreachable,
    InferenceError,
    StreamBroken,
)
from arena.http_body import raw_body

log = logging.getLogger(__name__)

# Keys of the request body that this module owns; generation params cannot override them.
_RESERVED = frozenset({"model", "messages", "stream"})
_URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}]+")
_PAIR_JOIN_S = 1.0  # total wait for both workers after a pair is closed


@dataclass(frozen=True)
class Endpoint:
    """Where and how to ask one contender; see the module docstring for ``base_url``."""

    base_url: str
    model: str
    api_key: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 60.0  # max silence between chunks
    total_timeout: float = 300.0  # wall limit for the whole answer
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delta:
    """A piece of streamed answer text."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The complete answer and its metadata; always the last event of a successful stream."""

    text: str
    completion_tokens: int | None
    prompt_tokens: int | None
    finish_reason: str | None
    latency_ms: int
    first_token_ms: int | None
    citations: tuple[str, ...]


def chat_completions_url(base_url: str) -> str:
    """The full chat-completions URL for ``base_url`` (rules in the module docstring)."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        if re.search(r"/v\d+$", path):
            path += "/chat/completions"
        else:
            path += "/v1/chat/completions"
    return urlunsplit(parts._replace(path=path))


def stream_chat(endpoint: Endpoint, messages: list[dict[str, str]]) -> Iterator[Delta | Finished]:
    """Stream one answer: :class:`Delta` events, then exactly one :class:`Finished`.

    Raises :class:`EndpointTimeout` (connect, silence longer than ``read_timeout``, or the
    whole answer longer than ``total_timeout``), :class:`EndpointUnreachable`,
    :class:`EndpointHTTPError` (upstream status in ``details["status"]``) or
    :class:`StreamBroken` (connection dropped, malformed chunk, or no ``finish_reason``).
    Closing the generator early closes the connection.
    """
    return _stream(endpoint, messages, _Call())


class Tick:
    """Nothing arrived for ``tick_s`` seconds (a chance to send a keep-alive and heartbeat)."""


TICK = Tick()


@dataclass(frozen=True)
class Frame:
    """The text both sides handed over together: side (``"a"``, ``"b"``) to text."""

    texts: dict[str, str]


PairEvent = Delta | Finished | InferenceError | Tick | Frame
_Queued = tuple[str, Delta | Finished | InferenceError | Tick | None]


def stream_pair(
    a: tuple[Endpoint, list[dict[str, str]]], b: tuple[Endpoint, list[dict[str, str]]], *,
    frame_s: float = 0.0, tick_s: float | None = None,
) -> Iterator[tuple[str, PairEvent]]:
    """Stream two answers concurrently, yielding ``("a" | "b", event)`` as events arrive.

    A side that fails yields its :class:`InferenceError` as its last event while the other
    side goes on. Closing the generator early aborts both connections and ends both threads.

    With ``frame_s > 0`` text travels in frames: each side reads its connection at most once
    per frame (boundaries shared by both sides, so the tokens of a frame are read with one
    wake-up and one system call), and the text both sides handed over together is yielded as
    one ``("", Frame)``, so the consumer writes once per frame, not once per token and side.
    A side's text always precedes its final event. With ``tick_s``, ``("", TICK)`` is yielded
    whenever nothing was yielded for that long (at most half as long again).
    """
    events: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
    calls = {"a": _Call(a[0].total_timeout), "b": _Call(b[0].total_timeout)}
    threads = [
        threading.Thread(target=_pair_worker,
                         args=(side, ep, msgs, calls[side], events, frame_s),
                         name=f"arena-inference-{side}", daemon=True)
        for side, (ep, msgs) in (("a", a), ("b", b))
    ]
    return _pair_events(threads, calls, events, frame_s, tick_s)


def _pair_events(threads: list[threading.Thread], calls: dict[str, _Call],
                 events: queue.SimpleQueue[_Queued], frame_s: float, tick_s: float | None,
                 ) -> Iterator[tuple[str, PairEvent]]:
    # Threads start on the first next(), so a pair that is never iterated costs nothing.
    started = time.monotonic()
    for call in calls.values():
        call.deadline = started + call.budget
    for thread in threads:
        thread.start()
    running = len(threads)
    stop = threading.Event()
    # One clock thread for the pair: both calls' total timeouts (instead of a timer thread
    # per call) and, with tick_s, the keep-alive ticks (instead of a timeout on every wait:
    # arming and disarming a timer per frame cost ~10% of a stream's CPU). A Tick goes out
    # after tick_s to 1.5 tick_s of silence.
    clock = threading.Thread(target=_clock,
                             args=(events, stop, None if tick_s is None else tick_s / 2,
                                   list(calls.values())),
                             name="arena-inference-clock", daemon=True)
    clock.start()
    threads = [*threads, clock]
    pending: dict[str, list[str]] = {}
    streaming: set[str] = set()  # sides that have handed over text and not finished
    last_out = time.monotonic()
    try:
        while running:
            arrived = [events.get()]
            # Whatever else is already queued (the other side woke at the same boundary)
            # leaves with it.
            while not events.empty():
                arrived.append(events.get())
            delivered = {side for side, event in arrived if not isinstance(event, Tick)}
            if frame_s > 0 and any(isinstance(e, Delta) for _, e in arrived) and (
                    streaming - delivered):
                # A side that is streaming has not handed over yet: under gevent it woke in
                # the same loop iteration and is queued already; with threads it may be a
                # moment behind. Waiting a little for it saves a second write per frame.
                try:
                    arrived.append(events.get(timeout=frame_s / 5))
                except queue.Empty:
                    pass
            sent = False
            for side, event in arrived:
                if event is None:
                    running -= 1
                    streaming.discard(side)
                elif isinstance(event, Delta):
                    pending.setdefault(side, []).append(event.text)
                    streaming.add(side)
                elif not isinstance(event, Tick):
                    streaming.discard(side)
                    yield from _flush(pending, frame_s)
                    yield side, event
                    sent = True
            if pending:
                yield from _flush(pending, frame_s)
                sent = True
            now = time.monotonic()
            if sent:
                last_out = now
            elif tick_s is not None and now - last_out >= tick_s:
                yield "", TICK
                last_out = now
    finally:
        stop.set()
        for call in calls.values():
            call.cancel()
        # Aborted reads end at once; only a worker still connecting can outlive this wait,
        # and it ends by itself within its connect timeout.
        deadline = time.monotonic() + _PAIR_JOIN_S
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


def _clock(events: queue.SimpleQueue[_Queued], stop: threading.Event, every: float | None,
           calls: list[_Call]) -> None:
    """Until ``stop``: a Tick every ``every`` seconds, and each call expired at its deadline."""
    waiting = [call for call in calls if call.deadline is not None]
    next_tick = time.monotonic() + every if every is not None else float("inf")
    while waiting or every is not None:
        due = min([next_tick, *(call.deadline or 0.0 for call in waiting)])
        if stop.wait(max(0.0, due - time.monotonic())):
            return
        now = time.monotonic()
        for call in [call for call in waiting if (call.deadline or 0.0) <= now]:
            call.expire()
            waiting.remove(call)
        if every is not None and now >= next_tick:
            events.put(("", TICK))
            next_tick = now + every


def _flush(pending: dict[str, list[str]], frame_s: float,
           ) -> Iterator[tuple[str, Delta | Frame]]:
    if not pending:
        return
    texts = {side: "".join(parts) for side, parts in pending.items()}
    pending.clear()
    if frame_s > 0:
        yield "", Frame(texts)
    else:
        for side, text in texts.items():
            yield side, Delta(text)


def _pair_worker(side: str, endpoint: Endpoint, messages: list[dict[str, str]], call: _Call,
                 events: queue.SimpleQueue[_Queued],
                 pace_s: float = 0.0) -> None:
    try:
        for event in _stream(endpoint, messages, call, pace_s):
            events.put((side, event))
    except InferenceError as exc:
        events.put((side, exc))
    except Exception:  # a bug here must not leave the consumer waiting forever
        log.exception("unexpected error streaming side %s from model %s", side, endpoint.model)
        events.put((side, InferenceError()))
    finally:
        events.put((side, None))


class _Call:
    """Cancellation and deadline state of one request, shared with other threads.

    A thread blocked reading a socket cannot be interrupted, but shutting the socket down
    wakes it; the lock ensures the owner never closes the socket while another thread
    shuts it down. The socket is known from the call's first read or write on it
    (:class:`_WatchedStream`), so a call still waiting for the status line of an endpoint
    that never answers is cut as promptly as one reading the body.
    """

    def __init__(self, budget: float = 0.0) -> None:
        self.cancelled = threading.Event()
        self.expired = threading.Event()
        #: Seconds the whole call may take, and the monotonic time it is expired at when a
        #: pair's clock watches it (:func:`_clock`); a call without a deadline gets a timer
        #: of its own (:func:`_stream`).
        self.budget = budget
        self.deadline: float | None = None
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None

    def watch(self, sock: Any) -> None:
        """From now until :meth:`detach`, this call owns ``sock`` (its connection)."""
        if sock is self._sock or not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sock = sock
        if self.cancelled.is_set() or self.expired.is_set():
            self.abort()

    def attach(self, response: httpx2.Response) -> None:
        stream = response.extensions.get("network_stream")
        self.watch(stream.get_extra_info("socket") if stream is not None else None)

    def detach(self) -> None:
        with self._lock:
            self._sock = None

    def cancel(self) -> None:
        self.cancelled.set()
        self.abort()

    def expire(self) -> None:
        self.expired.set()
        self.abort()

    def abort(self) -> None:
        with self._lock:
            if self._sock is None:
                return
            try:
                # The base-class method: SSLSocket.shutdown would also drop its TLS state
                # under the reading thread's feet.
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer


# The call the current thread (greenlet, under gevent) is making, for _WatchedStream.
_current = threading.local()


class _WatchedStream(httpcore2.NetworkStream):
    """A pooled connection that tells the calling thread's :class:`_Call` its socket."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner
        self._sock = inner.get_extra_info("socket")

    def _watch(self) -> None:
        call = getattr(_current, "call", None)
        if call is not None:
            call.watch(self._sock)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._watch()
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._watch()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:
        return _WatchedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _WatchedBackend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        return _WatchedStream(self._inner.connect_tcp(host, port, timeout, local_address,
                                                      socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None,
                            ) -> httpcore2.NetworkStream:
        return _WatchedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _ResponseTrap(ExitStack):
    """InferenceClient enters the streaming response into its ``exit_stack``; catching it
    there is the only way to reach the socket, to abort a read from another thread."""

    def __init__(self, call: _Call) -> None:
        super().__init__()
        self._call = call
        self.response: httpx2.Response | None = None

    def enter_context(self, cm: Any) -> Any:
        result = super().enter_context(cm)
        if isinstance(result, httpx2.Response):
            self.response = result
            self._call.attach(result)
        return result


def _pending(sock: Any) -> bool:
    """Whether the kernel holds unread bytes for ``sock`` (never blocks; True if unknown)."""
    try:
        # FIONREAD is a plain system call: nothing (gevent included) can turn it into a wait.
        waiting = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
    except (AttributeError, OSError, ValueError):
        return True
    return bool(struct.unpack("i", waiting)[0])


# A ``data:`` line of a server-sent event (its payload is stripped of whitespace after).
_DATA_LINE = re.compile(rb"^data:(.*)", re.MULTILINE)


def _sse_data(chunks: Iterator[bytes]) -> Iterator[list[bytes]]:
    """The ``data:`` payloads of a server-sent event body, one list per network read."""
    buffer = b""
    findall = _DATA_LINE.findall
    for chunk in chunks:
        buffer = buffer + chunk if buffer else chunk
        cut = buffer.rfind(b"\n")
        if cut < 0:
            continue
        # The complete lines; the data lines among them found by the pattern, not line by line.
        batch = [payload.strip() for payload in findall(buffer, 0, cut)]
        buffer = buffer[cut + 1:]
        if batch:
            yield batch
    if buffer.startswith(b"data:"):
        yield [buffer[5:].strip()]


class _Answer:
    """What the chunks of one answer said so far (text pieces apart)."""

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.cited: list[str] = []
        self._citations: Any = None  # the last citations list seen (endpoints repeat it)
        self.ended = False  # [DONE] arrived

    def read(self, batch: list[bytes]) -> list[str]:
        """The text pieces of one read's payloads, in order; the rest is kept on ``self``.

        Raises ValueError for a payload that is not a JSON object or is an error event.
        """
        texts: list[str] = []
        if b"[DONE]" in batch:
            self.ended = True
            del batch[batch.index(b"[DONE]"):]
        if not batch:
            return texts
        get = dict.get
        append = texts.append
        # One parse per read, however many tokens it carried.
        for chunk in json.loads(b"[" + b",".join(batch) + b"]"):
            if type(chunk) is not dict:  # json.loads makes plain dicts, never subclasses
                raise ValueError("chunk is not a JSON object")
            if get(chunk, "error") is not None:
                raise ValueError("the endpoint sent an error event")
            usage = get(chunk, "usage")
            if usage:
                self.usage = usage
            if "citations" in chunk and chunk["citations"] != self._citations:
                # Endpoints repeat the same list in every chunk: parse each list once.
                self._citations = chunk["citations"]
                self.cited = _as_urls(self._citations) or self.cited
            for choice in get(chunk, "choices") or ():
                if type(choice) is not dict or get(choice, "index") not in (0, None):
                    continue
                finish_reason = get(choice, "finish_reason")
                if finish_reason:
                    self.finish_reason = finish_reason
                delta = get(choice, "delta")
                if type(delta) is dict:
                    text = get(delta, "content")
                    if text and type(text) is str:
                        append(text)
        return texts


def _stream(endpoint: Endpoint, messages: list[dict[str, str]],
            call: _Call, pace_s: float = 0.0) -> Iterator[Delta | Finished]:
    # Imported here, not at import: ~0.3 s that the app's start-up need not pay.
    from huggingface_hub import InferenceClient

    url = chat_completions_url(endpoint.base_url)
    _ensure_pool()
    # A read timeout above the total budget could only overshoot it.
    timeout = httpx2.Timeout(connect=endpoint.connect_timeout,
                             read=min(endpoint.read_timeout, endpoint.total_timeout),
                             write=endpoint.read_timeout, pool=endpoint.connect_timeout)
    client = InferenceClient(
        base_url=url,
        api_key=endpoint.api_key,
        timeout=timeout,  # type: ignore[arg-type]  # passed through to httpx, which takes this
        # Without a key, huggingface_hub would send the machine's HF token to any endpoint.
        headers=None if endpoint.api_key else {"authorization": None},  # type: ignore[dict-item]
    )
    trap = _ResponseTrap(call)
    client.exit_stack = trap
    started = time.monotonic()
    watchdog = None
    if call.deadline is None:  # a single call: no pair clock expires it
        watchdog = threading.Timer(endpoint.total_timeout, call.expire)
        watchdog.daemon = True
        watchdog.start()
    phase = "connect"
    parts: list[str] = []
    held: list[str] = []
    first_token_ms: int | None = None
    last_chunk = started
    answer = _Answer()
    try:
        # The client builds, authorises and sends the request and checks the status; its
        # per-chunk dataclass parsing is skipped (it was ~44% of a stream's CPU): the body is
        # read from the response the trap caught, past httpx2 where it can (arena.http_body),
        # parsed with one json.loads per network read, and each read becomes at most one
        # Delta however many tokens it carried.
        # Only while the request is sent and its status awaited (nothing yields meanwhile):
        # the connection's reads tell ``call`` the socket to shut down on cancel or expiry.
        _current.call = call
        try:
            client.chat_completion(
                messages, model=endpoint.model, stream=True, extra_body=_body_params(endpoint))
        finally:
            _current.call = None
        response = trap.response
        if response is None:  # pragma: no cover - huggingface_hub changed how it streams
            raise StreamBroken(details={"reason": "no_response"})
        phase = "stream"
        network = response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        body = raw_body(response, timeout.read) or response.iter_bytes()
        for batch in _sse_data(body):
            if answer.ended or call.cancelled.is_set() or call.expired.is_set():
                break
            last_chunk = time.monotonic()
            texts = answer.read(batch)
            if texts:
                if first_token_ms is None:
                    first_token_ms = _ms(last_chunk - started)
                parts += texts
                held += texts
            if held and (not pace_s or not _pending(sock)):
                # Nothing more waiting in the socket: hand over what was read, then (paced)
                # let the next tokens gather in the socket buffer for a frame, so they are
                # read with one wake-up, one system call and one hand-off instead of one of
                # each per token. Silence is still timed by the read timeout.
                yield Delta("".join(held))
                held.clear()
                if pace_s and not answer.ended:
                    # To the next frame boundary of this process's clock: both sides of a
                    # pair wake together (their text leaves in one write), and so do all
                    # other streams of the worker, which then wakes once per frame for all
                    # of them; waking the process costs more than a frame's work.
                    time.sleep(pace_s - time.monotonic() % pace_s)
        if held and not (call.cancelled.is_set() or call.expired.is_set()):
            yield Delta("".join(held))
        if call.cancelled.is_set():
            return
        if call.expired.is_set():
            raise timeout_error("total", endpoint, url)
        if answer.finish_reason is None:
            log.warning("stream from model %s at %s ended without finish_reason",
                        endpoint.model, url)
            raise StreamBroken(details={"reason": "no_finish_reason"})
        text = "".join(parts)
        yield Finished(
            text=text,
            completion_tokens=_int(answer.usage, "completion_tokens"),
            prompt_tokens=_int(answer.usage, "prompt_tokens"),
            finish_reason=answer.finish_reason,
            latency_ms=_ms(last_chunk - started),
            first_token_ms=first_token_ms,
            citations=tuple(dict.fromkeys(answer.cited or _urls_in(text))),
        )
    except InferenceError:
        raise
    except Exception as exc:
        if call.cancelled.is_set():
            return
        # The read timeout is capped at the total budget, so the two can fire together.
        if call.expired.is_set() or time.monotonic() - started >= endpoint.total_timeout:
            raise timeout_error("total", endpoint, url) from exc
        raise translate_error(exc, phase, endpoint, url) from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        call.detach()
        client.close()


_pool_lock = threading.Lock()
_pool_ready = False


def _http_client() -> httpx2.Client:
    # huggingface_hub's shared client keeps httpx's default pool of 100 connections, i.e. 50
    # battles per process; past that a stream waits for a free connection and times out.
    # Open streams are bounded by MAX_STREAMS_PER_WORKER instead (2 connections each).
    from huggingface_hub.utils._http import hf_request_event_hook
    client = httpx2.Client(event_hooks={"request": [hf_request_event_hook]},
                           follow_redirects=True, timeout=None,
                           limits=httpx2.Limits(max_connections=None,
                                                max_keepalive_connections=64))
    # Private attributes of the pinned httpx2/httpcore2 (tests/arena/test_inference.py fails
    # if they move): without the wrapper a cancelled call to an endpoint that never sends a
    # status line holds its connection until the read timeout.
    pool = getattr(client._transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = _WatchedBackend(pool._network_backend)
    return client


def _ensure_pool() -> None:
    global _pool_ready
    if not _pool_ready:
        with _pool_lock:
            if not _pool_ready:
                from huggingface_hub import set_client_factory

                set_client_factory(_http_client)
                _pool_ready = True


def _body_params(endpoint: Endpoint) -> dict[str, Any]:
    body: dict[str, Any] = {"stream_options": {"include_usage": True}}
    # A server that rejects stream_options can be served with params={"stream_options": None}.
    body.update((k, v) for k, v in endpoint.params.items() if k not in _RESERVED)
    return body


def translate_error(exc: Exception, phase: str, endpoint: Endpoint,
                    url: str) -> InferenceError:
    """Map a client exception to a typed error; the detailed cause goes to the log only.

    ``phase`` is ``"connect"`` until the response head has arrived: a transport error then
    means the endpoint is unreachable, later that its stream broke."""
    if isinstance(exc, InferenceTimeoutError):
        cause = exc.__cause__
        return timeout_error("connect" if isinstance(cause, httpx2.ConnectTimeout) else "read",
                        endpoint, url)
    if isinstance(exc, httpx2.TimeoutException | httpcore2.TimeoutException | TimeoutError):
        return timeout_error("connect" if isinstance(exc, httpx2.ConnectTimeout) else "read",
                        endpoint, url)
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code
        log.warning("model %s at %s answered HTTP %s", endpoint.model, url, status)
        return EndpointHTTPError(details={"status": status})
    if phase == "connect" and isinstance(exc, httpx2.TransportError | OfflineModeIsEnabled):
        log.warning("model %s at %s unreachable: %r", endpoint.model, url, exc)
        return EndpointUnreachable()
    if isinstance(exc, httpx2.TransportError | httpcore2.NetworkError | OSError | ValueError):
        # A body read past httpx2 (arena.http_body) fails with OSError or, for broken chunked
        # framing, ValueError; ValueError also covers malformed JSON chunks and in-stream
        # {"error": ...} events.
        log.warning("stream from model %s at %s broke: %r", endpoint.model, url, exc)
        return StreamBroken(details={"reason": type(exc).__name__})
    log.error("unexpected %r from model %s at %s", exc, endpoint.model, url)
    return InferenceError()


def timeout_error(phase: str, endpoint: Endpoint, url: str) -> EndpointTimeout:
    """The typed timeout of ``phase`` (``connect``, ``read``, ``total``), logged."""
    log.warning("model %s at %s: %s timeout", endpoint.model, url, phase)
    return EndpointTimeout(details={"phase": phase})


def _as_urls(value: Any) -> list[str]:
    """URLs from a ``citations`` field: plain strings or objects with a ``url``."""
    if not isinstance(value, list):
        return []
    urls = [v.get("url") if isinstance(v, dict) else v for v in value]
    return [u for u in urls if isinstance(u, str) and u.startswith(("http://", "https://"))]


def _urls_in(text: str) -> list[str]:
    return [u.rstrip(".,;:!?'\"") for u in _URL.findall(text)]


def _int(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, Mapping) else None
    return value if isinstance(value, int) else None


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


__all__ = ["Delta", "Endpoint", "Finished", "Frame", "chat_completions_url", "stream_chat",
           "stream_pair"]
