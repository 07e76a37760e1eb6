"""A hung model endpoint that costs (almost) nothing: one thread, one epoll, no parsing.

It accepts every connection, answers ``GET /health`` with 200 and otherwise reads and
discards what the client sends and never answers, until the client closes (``--headers``:
it sends a streaming response's status and headers first, then nothing). The demo endpoint's
``fault-hang`` does the same with a thread per connection polling every 0.5 s: with two
thousand hung upstream connections (1,000 battles) that is 4,000 wake-ups a second fighting
over one GIL, and it loaded the 2-core host as much as the server under test did. This
keeps the load generator's share small and measurable.

    python benchmarks/web/_hang.py --port 5600
"""

from __future__ import annotations

import argparse
import selectors
import socket

HEALTH = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")


def serve(port: int, headers: bool) -> None:
    selector = selectors.DefaultSelector()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ)
    heads: dict[socket.socket, bytes] = {}
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is listener:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    heads[conn] = b""
                    selector.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            head = heads.get(sock)
            if head is not None and data:
                # Only the first bytes decide; a request body is read and dropped.
                head += data
                if len(head) >= 12:
                    heads.pop(sock, None)
                    if head.startswith(b"GET /health"):
                        sock.sendall(HEALTH)
                        data = b""
                    elif headers:
                        sock.sendall(STREAM_HEAD)
                else:
                    heads[sock] = head
            if not data:
                selector.unregister(sock)
                heads.pop(sock, None)
                sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--headers", action="store_true",
                        help="send a 200 event-stream head before hanging")
    args = parser.parse_args()
    serve(args.port, args.headers)


if __name__ == "__main__":
    main()
