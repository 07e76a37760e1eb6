"""arena.http_body: the chunked decoder, and streams read past httpx2 over real loopback HTTP."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from arena import demo_endpoint, inference
from arena.errors import StreamBroken
from arena.http_body import MAX_LINE, BodyError, Dechunker, chunked
from arena.inference import Delta, Endpoint, Finished, Frame, stream_chat, stream_pair

PROMPT = [{"role": "user", "content": "How do bridges stay up?"}]

BODY = (b"5;name=value\r\nhello\r\n"
        b"1\r\n \r\n"
        b"0A ; ext\r\n0123456789\r\n"
        b"0\r\nTrailer-One: x\r\nTrailer-Two: y\r\n\r\n")
DECODED = b"hello 0123456789"


def decode(pieces: list[bytes]) -> tuple[bytes, bool]:
    decoder = Dechunker()
    out = b"".join(decoder.feed(p) for p in pieces)
    return out, decoder.done


# --- the decoder -----------------------------------------------------------------------------

def test_whole_body_with_extensions_and_trailers_decodes() -> None:
    assert decode([BODY]) == (DECODED, True)


@pytest.mark.parametrize("cut", range(1, len(BODY)))
def test_a_body_split_anywhere_decodes_the_same(cut: int) -> None:
    assert decode([BODY[:cut], BODY[cut:]]) == (DECODED, True)


def test_a_body_fed_byte_by_byte_decodes_the_same() -> None:
    assert decode([BODY[i:i + 1] for i in range(len(BODY))]) == (DECODED, True)


def test_many_whole_chunks_in_one_read_decode_as_fed_byte_by_byte() -> None:
    # An endpoint's stream: a chunk per token, many of them per read (the decoder's fast path,
    # which takes a whole chunk and its CRLF in one step), in upper and lower case hex.
    tokens = [f"data: {{\"n\": {i}}}\n\n".encode() * (1 + i % 40) for i in range(300)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(t), t) if i % 2 else b"%X\r\n%s\r\n" % (len(t), t)
                    for i, t in enumerate(tokens)) + b"0\r\n\r\n"
    assert decode([body]) == (b"".join(tokens), True)
    assert decode([body[i:i + 1] for i in range(len(body))]) == (b"".join(tokens), True)


def test_not_done_before_the_trailer_section_ends() -> None:
    assert decode([BODY[:-2]]) == (DECODED, False)
    assert decode([b"3\r\nabc\r\n"]) == (b"abc", False)


def test_bytes_after_the_last_chunk_are_ignored() -> None:
    assert decode([b"0\r\n\r\nHTTP/1.1 200 OK\r\n"]) == (b"", True)


@pytest.mark.parametrize("body", [
    b"zz\r\nab\r\n",              # not hex
    b"\r\n",                      # empty size
    b"0x3\r\nabc\r\n",            # int() would take it; the grammar does not
    b"1_0\r\n",                   # nor this
    b"3\r\nabcX\r\n",             # data longer than its size
    b"1000000000000000\r\n",      # a size beyond any real body
])
def test_malformed_framing_is_an_error(body: bytes) -> None:
    with pytest.raises(BodyError):
        decode([body])


def test_an_endless_size_line_is_an_error() -> None:
    decoder = Dechunker()
    decoder.feed(b"1" * 10)
    with pytest.raises(BodyError):
        decoder.feed(b";" + b"x" * MAX_LINE)


def test_bytes_already_buffered_come_first_then_one_piece_per_read() -> None:
    reads = iter([b"lo\r\n3\r\nabc", b"\r\n0\r\n\r\n"])
    pieces = list(chunked(lambda: next(reads), buffered=b"5\r\nhel"))
    assert pieces == [b"hel", b"loabc"]


def test_a_connection_closed_before_the_last_chunk_is_an_error() -> None:
    reads = iter([b"3\r\nabc\r\n", b""])
    with pytest.raises(BodyError):
        list(chunked(lambda: next(reads)))


# --- streams over real HTTP ------------------------------------------------------------------

def sse(*payloads: Any) -> bytes:
    return b"".join(b"data: " + (p if isinstance(p, bytes) else json.dumps(p).encode())
                    + b"\n\n" for p in payloads)


def token(text: str, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


STREAM = sse(token("Arches "), token("carry "), token("loads.", "stop"),
             {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}, b"[DONE]")
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"


def chunk(data: bytes, ext: bytes = b"") -> bytes:
    return b"%x%s\r\n%s\r\n" % (len(data), ext, data)


class ScriptedServer:
    """Answers every request with the same scripted writes (a pause between them), then
    closes the connection: the exact bytes and packet boundaries of a response are ours."""

    def __init__(self, writes: list[bytes], pause: float = 0.01) -> None:
        self.writes, self.pause = writes, pause
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            received = b""
            while b"\r\n\r\n" not in received:
                received += conn.recv(65536)
            head, _, body = received.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            try:
                for data in self.writes:
                    conn.sendall(data)
                    time.sleep(self.pause)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def scripted() -> Iterator[Any]:
    servers: list[ScriptedServer] = []

    def start(writes: list[bytes]) -> ScriptedServer:
        servers.append(ScriptedServer(writes))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def raw_reads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each stream's body was read past httpx2 (True) or through it (False)."""
    taken: list[bool] = []
    real = inference.raw_body

    def spy(response: Any, timeout: float | None) -> Any:
        body = real(response, timeout)
        taken.append(body is not None)
        return body

    monkeypatch.setattr(inference, "raw_body", spy)
    return taken


def answer(server: Any, model: str = "m") -> tuple[str, Finished]:
    events = list(stream_chat(Endpoint(server.url, model, read_timeout=5.0), PROMPT))
    assert isinstance(events[-1], Finished)
    return "".join(e.text for e in events if isinstance(e, Delta)), events[-1]


def test_the_pinned_client_reads_demo_streams_past_httpx2(raw_reads: list[bool]) -> None:
    # Fails if httpx2/httpcore2 move the private attributes that lead to the h11 state.
    with demo_endpoint.start() as server:
        text, done = answer(server, "demo-brief")
    assert raw_reads == [True] and done.finish_reason == "stop" and text == done.text


def test_head_and_body_in_one_packet_lose_no_bytes(scripted: Any, raw_reads: list[bool]) -> None:
    # h11 receives the first chunks together with the head; they must not be skipped.
    body = b"".join(chunk(STREAM[i:i + 7]) for i in range(0, len(STREAM), 7)) + b"0\r\n\r\n"
    server = scripted([HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body[:40], body[40:]])
    text, done = answer(server)
    assert raw_reads == [True]
    assert text == "Arches carry loads." and done.completion_tokens == 3


def test_chunks_split_across_packets_with_extensions_and_trailers(
        scripted: Any, raw_reads: list[bool]) -> None:
    body = b"".join(chunk(STREAM[i:i + 11], b";n=1") for i in range(0, len(STREAM), 11))
    body += b"0\r\nX-Checksum: 1\r\n\r\n"
    writes = [HEAD + b"Transfer-Encoding: chunked\r\n\r\n"]
    writes += [body[i:i + 5] for i in range(0, len(body), 5)]
    text, done = answer(scripted(writes))
    assert raw_reads == [True] and text == "Arches carry loads." and done.prompt_tokens == 5


def test_a_body_with_content_length_goes_through_httpx2(
        scripted: Any, raw_reads: list[bool]) -> None:
    server = scripted([HEAD + b"Content-Length: %d\r\n\r\n" % len(STREAM) + STREAM])
    text, _ = answer(server)
    assert raw_reads == [False] and text == "Arches carry loads."


def test_a_gzip_body_goes_through_httpx2_which_decodes_it(
        scripted: Any, raw_reads: list[bool]) -> None:
    packed = gzip.compress(STREAM)
    body = chunk(packed[:30]) + chunk(packed[30:]) + b"0\r\n\r\n"
    server = scripted([HEAD + b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                       body])
    text, _ = answer(server)
    assert raw_reads == [False] and text == "Arches carry loads."


@pytest.mark.parametrize("tail", [b"", b"zz\r\n"], ids=["closed", "malformed"])
def test_a_body_cut_or_malformed_mid_stream_is_a_broken_stream(scripted: Any,
                                                               tail: bytes) -> None:
    # Tokens without finish_reason or [DONE], then the connection closes or the framing breaks.
    body = chunk(sse(token("Arches "))) + tail
    server = scripted([HEAD + b"Transfer-Encoding: chunked\r\n\r\n", body])
    with pytest.raises(StreamBroken):
        list(stream_chat(Endpoint(server.url, "m", read_timeout=5.0), PROMPT))


def test_frames_carry_both_sides_at_most_once_per_frame() -> None:
    with demo_endpoint.start(delay=0.005) as server:
        a = Endpoint(server.url, "demo-verbose", params={"max_tokens": 60})
        b = Endpoint(server.url, "demo-scholar", params={"max_tokens": 60})
        started = time.monotonic()
        events = list(stream_pair((a, PROMPT), (b, PROMPT), frame_s=0.05))
        took = time.monotonic() - started
    frames = [e for side, e in events if isinstance(e, Frame)]
    assert not any(isinstance(e, Delta) for _, e in events)
    # 60 tokens per side 5 ms apart: one frame per boundary (plus each side's first and last
    # text, which need not fall on one), not ~120 deltas; both sides share frames.
    assert len(frames) <= took / 0.05 + 6
    assert any(len(f.texts) == 2 for f in frames)
    finals = {side: e for side, e in events if isinstance(e, Finished)}
    for side in ("a", "b"):
        assert "".join(f.texts.get(side, "") for f in frames) == finals[side].text
