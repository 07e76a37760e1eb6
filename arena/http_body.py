"""A streamed HTTP/1.1 response body read straight from its connection, for arena.inference.

An endpoint streams one HTTP chunk per token, and httpx2 (through httpcore2 and h11) turns each
chunk into several events and generator steps that cost more than relaying the token itself.
Once huggingface_hub has sent the request and checked the status, a ``chunked`` body without a
content coding is read here instead: one large read per wake-up, chunk framing parsed with
``bytes.find``. Every other body (compressed, ``Content-Length`` or close-delimited, HTTP/2, or
an httpx2/httpcore2 whose private layout moved) is left to ``response.iter_bytes()``.

The bytes h11 has already received past the response head are taken over first (its public
``trailing_data``). The connection is not reused afterwards: h11 never sees the body end, so
httpcore2 closes the connection when the response closes.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import h11
import httpx2

READ_BYTES = 65536
# A chunk-size line (with extensions) or trailer line longer than this is malformed.
MAX_LINE = 8192
_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\r\n]*)?")
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_SIZE_LINE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class BodyError(ValueError):
    """The body broke its transfer coding or ended before its last chunk."""


class Dechunker:
    """Incremental decoder of the chunked transfer coding (RFC 9112, section 7.1).

    :meth:`feed` takes bytes as they arrive, split anywhere, and returns the chunk data they
    complete; :attr:`done` turns true after the last chunk and the trailer section (whose
    fields are read past, not kept). Bytes after the end are ignored.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._state = _SIZE_LINE
        self._left = 0  # data bytes left in the current chunk

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> bytes:
        buffer = self._buffer + data if self._buffer else data
        out: list[bytes] = []
        pos, end = 0, len(buffer)
        state = self._state
        find, startswith = buffer.find, buffer.startswith
        while state != _DONE:
            if state == _SIZE_LINE:
                eol = find(b"\r\n", pos)
                if eol < 0:
                    if end - pos > MAX_LINE:
                        raise BodyError("chunk-size or trailer line too long")
                    break
                line = buffer[pos:eol]
                # Hex digits only (the common line): read without the pattern.
                size = (int(line, 16) if 0 < len(line) <= 15 and not line.strip(_HEX_DIGITS)
                        else _chunk_size(line))
                pos = eol + 2
                if not size:
                    state = _TRAILER
                    continue
                stop = pos + size
                if stop + 2 <= end:
                    # The whole chunk and its CRLF are here (an endpoint's chunk is a token
                    # or two, so nearly always): taken in one step.
                    if not startswith(b"\r\n", stop):
                        raise BodyError("chunk data not followed by CRLF")
                    out.append(buffer[pos:stop])
                    pos = stop + 2
                    continue
                self._left = size
                state = _DATA
            elif state == _DATA:
                take = min(self._left, end - pos)
                if take:
                    out.append(buffer[pos:pos + take])
                    pos += take
                    self._left -= take
                if self._left:
                    break
                state = _DATA_END
            elif state == _DATA_END:
                if end - pos < 2:
                    break
                if not startswith(b"\r\n", pos):
                    raise BodyError("chunk data not followed by CRLF")
                pos += 2
                state = _SIZE_LINE
            else:  # a trailer line (its fields are read past); an empty one ends the body
                eol = find(b"\r\n", pos)
                if eol < 0:
                    if end - pos > MAX_LINE:
                        raise BodyError("chunk-size or trailer line too long")
                    break
                if eol == pos:
                    state = _DONE
                pos = eol + 2
        self._state = state
        self._buffer = b"" if state == _DONE else buffer[pos:]
        return b"".join(out)


def _chunk_size(line: bytes) -> int:
    match = _SIZE.fullmatch(line)
    if match is None:
        raise BodyError("malformed chunk-size line")
    return int(match[1], 16)


def chunked(read: Callable[[], bytes], buffered: bytes = b"") -> Iterator[bytes]:
    """The decoded body, at most one piece per ``read()`` (``buffered`` goes first).

    Raises :class:`BodyError` if the connection ends before the last chunk."""
    decoder = Dechunker()
    data = decoder.feed(buffered)
    if data:
        yield data
    while not decoder.done:
        received = read()
        if not received:
            raise BodyError("connection closed before the last chunk")
        data = decoder.feed(received)
        if data:
            yield data


def raw_body(response: httpx2.Response, timeout: float | None) -> Iterator[bytes] | None:
    """``response``'s body read past httpx2, or None when it must go through httpx2."""
    headers = response.headers
    if (response.http_version != "HTTP/1.1"
            or headers.get("transfer-encoding", "").strip().lower() != "chunked"
            or headers.get("content-encoding", "identity").strip().lower() != "identity"):
        return None
    network = response.extensions.get("network_stream")
    state = _h11_state(response)
    if network is None or state is None or state.their_state is not h11.SEND_BODY:
        return None
    buffered, _ = state.trailing_data
    sock = network.get_extra_info("socket")
    read: Callable[[], bytes]
    if isinstance(sock, ssl.SSLSocket) or (isinstance(sock, socket.socket)
                                           and network.get_extra_info("ssl_object") is None):
        # The connection's own socket (plain, or TLS terminated by this very socket): one
        # system call per read. Timeouts raise socket.timeout, other failures OSError.
        sock.settimeout(timeout)
        read = partial(sock.recv, READ_BYTES)
    else:  # TLS inside TLS (through a proxy): the stream object decrypts
        read = partial(network.read, READ_BYTES, timeout)
    return chunked(read, buffered)


def _h11_state(response: httpx2.Response) -> h11.Connection | None:
    # Private attributes of the pinned httpx2/httpcore2 (tests/arena/test_http_body.py fails if
    # they move): httpx2's timing wrapper, its transport stream, httpcore2's pool stream, its
    # HTTP/1.1 stream, and that stream's connection, which holds the h11 state.
    node: Any = response.stream
    for name in ("_stream", "_httpcore_stream", "_stream", "_connection", "_h11_state"):
        node = getattr(node, name, None)
        if node is None:
            return None
    return node if isinstance(node, h11.Connection) else None
