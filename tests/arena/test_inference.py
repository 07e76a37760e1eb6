"""arena.inference against the demo endpoint over real loopback HTTP (no mocked transport)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from arena import demo_endpoint
from arena.demo_endpoint import DemoServer, _pieces
from arena.errors import (
    EndpointHTTPError,
    EndpointTimeout,
    EndpointUnreachable,
    InferenceError,
    StreamBroken,
)
from arena.inference import (
    Delta,
    Endpoint,
    Finished,
    _Answer,
    _sse_data,
    chat_completions_url,
    stream_chat,
    stream_pair,
)

PROMPT = [{"role": "user", "content": "How do bridges stay up?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with demo_endpoint.start(faults=True) as srv:
        yield srv


@pytest.fixture(scope="module")
def slow_server() -> Iterator[DemoServer]:
    """Chunks 10 ms apart, for timing and concurrency tests."""
    with demo_endpoint.start(delay=0.01, faults=True) as srv:
        yield srv


def endpoint(srv: DemoServer, model: str, **fields: Any) -> Endpoint:
    return Endpoint(srv.url, model, **{"read_timeout": 5.0, "total_timeout": 10.0, **fields})


def run(ep: Endpoint, messages: list[dict[str, str]] = PROMPT) -> tuple[list[Delta], Finished]:
    events = list(stream_chat(ep, messages))
    assert all(isinstance(e, Delta) for e in events[:-1])
    assert isinstance(events[-1], Finished)
    return events[:-1], events[-1]  # type: ignore[return-value]


def settle_threads(baseline: int, within: float = 3.0) -> int:
    deadline = time.monotonic() + within
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.02)
    return threading.active_count()


# --- reading a body: its data lines, then its chunks ------------------------------------------

def test_data_lines_are_found_however_the_reads_split_them() -> None:
    body = (b": a comment\r\nevent: x\r\ndata:  {\"a\": 1} \r\n\r\nid: 7\n"
            b"data:{\"b\": 2}\n\ndata: [DONE]\r\n\r\ndata: tail")
    expected = [b'{"a": 1}', b'{"b": 2}', b"[DONE]", b"tail"]
    for cut in range(1, len(body)):
        batches = list(_sse_data(iter([body[:cut], body[cut:]])))
        assert [p for batch in batches for p in batch] == expected, cut
    assert list(_sse_data(iter([body]))) == [expected[:3], expected[3:]]


def test_an_answer_keeps_its_metadata_and_gives_the_text_of_choice_zero() -> None:
    answer = _Answer()
    chunk = (b'{"citations": ["https://a.example", "x"], "choices": [{"index": 0, '
             b'"delta": {"content": "Hel"}}, {"index": 1, "delta": {"content": "no"}}]}')
    again = (b'{"citations": ["https://a.example", "x"], "choices": [{"delta": {"content": '
             b'"lo"}, "finish_reason": "stop"}, "junk", {"index": 0, "delta": null}]}')
    usage = b'{"choices": [], "usage": {"completion_tokens": 2}}'
    assert answer.read([chunk, again]) == ["Hel", "lo"]
    assert answer.read([usage, b"[DONE]", b'{"ignored": true}']) == []
    assert answer.ended and answer.finish_reason == "stop"
    assert answer.usage == {"completion_tokens": 2} and answer.cited == ["https://a.example"]


@pytest.mark.parametrize("payload", [b"[1]", b'"text"', b'{"error": {"message": "x"}}',
                                     b"{not json", b""])
def test_a_payload_that_is_not_a_chunk_is_an_error(payload: bytes) -> None:
    with pytest.raises(ValueError):
        _Answer().read([b'{"choices": []}', payload])


# --- URLs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("base", ["http://h:1/v1", "http://h:1/v1/", "http://h:1",
                                  "http://h:1/", "http://h:1/v1/chat/completions"])
def test_base_url_forms_reach_the_same_route(base: str) -> None:
    assert chat_completions_url(base) == "http://h:1/v1/chat/completions"


def test_other_version_segments_and_prefixes_are_kept() -> None:
    assert chat_completions_url("https://x/openai/v4") == "https://x/openai/v4/chat/completions"
    assert chat_completions_url("https://x/api") == "https://x/api/v1/chat/completions"


def test_base_url_without_v1_streams(server: DemoServer) -> None:
    _, done = run(Endpoint(f"http://127.0.0.1:{server.port}", "demo-brief"))
    assert done.finish_reason == "stop"


# --- answers ---------------------------------------------------------------------------------

def test_deltas_join_to_the_finished_text_with_metadata(slow_server: DemoServer) -> None:
    # Chunks 10 ms apart: text is handed over as it arrives, not held to the end.
    deltas, done = run(endpoint(slow_server, "demo-brief"))
    assert "".join(d.text for d in deltas) == done.text and len(deltas) > 3
    assert done.finish_reason == "stop" and done.completion_tokens == len(_pieces(done.text))
    assert done.prompt_tokens and done.prompt_tokens > 0
    assert done.first_token_ms is not None and 0 <= done.first_token_ms <= done.latency_ms


def test_brief_is_shorter_than_verbose(server: DemoServer) -> None:
    assert len(run(endpoint(server, "demo-brief"))[1].text) * 4 < len(
        run(endpoint(server, "demo-verbose"))[1].text)


def test_markdown_has_headers_and_lists(server: DemoServer) -> None:
    text = run(endpoint(server, "demo-markdown"))[1].text
    assert "\n## " in "\n" + text and "\n- " in text and "```" in text


def test_scholar_citations_come_from_the_field(server: DemoServer) -> None:
    done = run(endpoint(server, "demo-scholar"))[1]
    assert 2 <= len(done.citations) <= 4
    assert all(url.startswith("https://example.org/") and url in done.text
               for url in done.citations)


def test_citations_fall_back_to_urls_in_the_text(server: DemoServer) -> None:
    done = run(endpoint(server, "demo-markdown"))[1]
    assert len(done.citations) == 1 and done.citations[0].startswith("https://example.com/guide/")


def test_same_conversation_gives_same_answer(server: DemoServer) -> None:
    assert run(endpoint(server, "demo-verbose"))[1].text == run(
        endpoint(server, "demo-verbose"))[1].text


def test_multi_turn_answer_depends_on_history(server: DemoServer) -> None:
    follow = [{"role": "user", "content": "Why is the sky blue?"},
              {"role": "assistant", "content": "Rayleigh scattering."},
              {"role": "user", "content": "And sunsets?"}]
    alone = run(endpoint(server, "demo-brief"), [follow[-1]])[1].text
    after = run(endpoint(server, "demo-brief"), follow)[1].text
    assert after != alone and "follow" in after.lower()


def test_max_tokens_param_gives_finish_reason_length(server: DemoServer) -> None:
    deltas, done = run(endpoint(server, "demo-verbose", params={"max_tokens": 7}))
    assert done.finish_reason == "length" and done.completion_tokens == 7
    assert len(_pieces(done.text)) == 7


def test_server_without_usage_gives_none_tokens(server: DemoServer) -> None:
    done = run(endpoint(server, "demo-brief", params={"stream_options": None}))[1]
    assert done.completion_tokens is None and done.prompt_tokens is None and done.text


def test_api_key_is_sent_as_bearer() -> None:
    with demo_endpoint.start(api_key="sesame") as srv:
        assert run(Endpoint(srv.url, "demo-brief", api_key="sesame"))[1].text


def test_no_api_key_never_sends_the_local_hf_token(server: DemoServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_local_secret")
    run(endpoint(server, "demo-brief"))
    assert "authorization" not in server.last_headers


# --- failures ----------------------------------------------------------------------------------

def fail(ep: Endpoint) -> InferenceError:
    with pytest.raises(InferenceError) as info:
        list(stream_chat(ep, PROMPT))
    return info.value


def test_http_500_is_endpoint_http_error_with_status(server: DemoServer) -> None:
    err = fail(endpoint(server, "fault-500"))
    assert type(err) is EndpointHTTPError and err.details["status"] == 500


def test_unknown_model_is_endpoint_http_error_404(server: DemoServer) -> None:
    err = fail(endpoint(server, "no-such-model"))
    assert type(err) is EndpointHTTPError and err.details["status"] == 404


def test_wrong_api_key_is_endpoint_http_error_401() -> None:
    with demo_endpoint.start(api_key="sesame") as srv:
        err = fail(Endpoint(srv.url, "demo-brief", api_key="wrong"))
    assert type(err) is EndpointHTTPError and err.details["status"] == 401


def test_silence_past_read_timeout_is_endpoint_timeout(server: DemoServer) -> None:
    started = time.monotonic()
    err = fail(endpoint(server, "fault-hang", read_timeout=0.5))
    assert type(err) is EndpointTimeout and err.details["phase"] == "read"
    assert time.monotonic() - started < 2.0


def test_total_timeout_is_enforced_while_silent(server: DemoServer) -> None:
    started = time.monotonic()
    err = fail(endpoint(server, "fault-hang", read_timeout=5.0, total_timeout=0.6))
    assert type(err) is EndpointTimeout and err.details["phase"] == "total"
    assert time.monotonic() - started < 1.5


def test_total_timeout_is_enforced_while_streaming(slow_server: DemoServer) -> None:
    started = time.monotonic()
    err = fail(endpoint(slow_server, "demo-verbose", total_timeout=0.4))
    assert type(err) is EndpointTimeout and err.details["phase"] == "total"
    assert time.monotonic() - started < 1.5


def test_slow_first_chunk_within_read_timeout_succeeds(server: DemoServer) -> None:
    done = run(endpoint(server, "fault-slow", read_timeout=3.0))[1]
    assert done.first_token_ms is not None and done.first_token_ms >= 1900


def test_connect_timeout_is_endpoint_timeout() -> None:
    # A listening socket with a full backlog never completes the handshake.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                fillers.append(filler)
                filler.connect_ex(("127.0.0.1", port))
            started = time.monotonic()
            err = fail(Endpoint(f"http://127.0.0.1:{port}/v1", "m", connect_timeout=0.3))
        finally:
            for filler in fillers:
                filler.close()
    assert type(err) is EndpointTimeout and err.details["phase"] == "connect"
    assert time.monotonic() - started < 2.0


def test_refused_connection_is_endpoint_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        err = fail(Endpoint(f"http://127.0.0.1:{port}/v1", "m", connect_timeout=1.0))
    assert type(err) is EndpointUnreachable


def test_cut_stream_is_stream_broken(server: DemoServer) -> None:
    assert type(fail(endpoint(server, "fault-cut"))) is StreamBroken


def test_error_messages_never_name_model_or_url(server: DemoServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="arena.inference")
    for model in ("fault-500", "fault-cut", "no-such-model"):
        err = fail(endpoint(server, model))
        shown = str(err.to_dict()) + str(err)
        assert model not in shown and server.url not in shown and "127.0.0.1" not in shown
        assert model in caplog.text  # the operator still learns which contender failed


# --- pairs -----------------------------------------------------------------------------------

def test_pair_streams_both_sides_concurrently(slow_server: DemoServer) -> None:
    # 30 chunks 10 ms apart: each side alone takes at least 0.3 s. The pair is compared with
    # the two sides streamed one after the other in the same test, so a loaded machine slows
    # both (a fixed bound of 0.48 s failed once at 0.483 s under two test workers).
    a = endpoint(slow_server, "demo-scholar", params={"max_tokens": 30})
    b = endpoint(slow_server, "demo-verbose", params={"max_tokens": 30})
    started = time.monotonic()
    run(a)
    run(b)
    one_after_the_other = time.monotonic() - started
    started = time.monotonic()
    events = list(stream_pair((a, PROMPT), (b, PROMPT)))
    together = time.monotonic() - started
    sides = [side for side, _ in events]
    assert "a" in sides[sides.index("b"):] and "b" in sides[sides.index("a"):]  # interleaved
    assert one_after_the_other >= 0.6
    assert together < 0.8 * one_after_the_other  # overlapped, not one after the other
    finals = {side: e for side, e in events if isinstance(e, Finished)}
    assert set(finals) == {"a", "b"} and finals["a"].citations


def test_pair_reports_one_failing_side_and_finishes_the_other(server: DemoServer) -> None:
    events = list(stream_pair((endpoint(server, "fault-500"), PROMPT),
                              (endpoint(server, "demo-brief"), PROMPT)))
    a_events = [e for side, e in events if side == "a"]
    b_events = [e for side, e in events if side == "b"]
    assert len(a_events) == 1 and isinstance(a_events[0], EndpointHTTPError)
    assert isinstance(b_events[-1], Finished)


def test_pair_timeout_on_one_side_is_its_last_event(server: DemoServer) -> None:
    events = list(stream_pair((endpoint(server, "demo-brief"), PROMPT),
                              (endpoint(server, "fault-hang", read_timeout=0.3), PROMPT)))
    assert isinstance([e for s, e in events if s == "b"][-1], EndpointTimeout)
    assert isinstance([e for s, e in events if s == "a"][-1], Finished)


@pytest.mark.parametrize("tick_s", [None, 0.2])
def test_one_clock_expires_each_side_of_a_pair_at_its_own_total_timeout(
        slow_server: DemoServer, tick_s: float | None) -> None:
    # Both sides stream (a chunk every 10 ms, seconds in all), so no read timeout fires: only
    # the pair's clock ends them, each at its own budget.
    started = time.monotonic()
    pair = stream_pair((endpoint(slow_server, "demo-verbose", total_timeout=0.4), PROMPT),
                       (endpoint(slow_server, "demo-verbose", total_timeout=1.2), PROMPT),
                       tick_s=tick_s)
    expired: dict[str, float] = {}
    for side, event in pair:
        if isinstance(event, EndpointTimeout):
            assert event.details == {"phase": "total"}
            expired[side] = time.monotonic() - started
    assert set(expired) == {"a", "b"}
    assert 0.4 <= expired["a"] < 1.0 and 1.2 <= expired["b"] < 1.8


def test_a_pair_runs_two_readers_and_one_clock_and_no_timer(slow_server: DemoServer) -> None:
    pair = stream_pair((endpoint(slow_server, "demo-verbose"), PROMPT),
                       (endpoint(slow_server, "demo-scholar"), PROMPT), tick_s=2.0)
    next(pair)
    names = [t.name for t in threading.enumerate() if t.name.startswith("arena-inference")]
    assert sorted(names) == ["arena-inference-a", "arena-inference-b", "arena-inference-clock"]
    assert not any(isinstance(t, threading.Timer) for t in threading.enumerate())
    pair.close()  # type: ignore[attr-defined]


def test_closing_a_pair_early_stops_its_threads(slow_server: DemoServer) -> None:
    baseline = threading.active_count()
    pair = stream_pair((endpoint(slow_server, "demo-verbose"), PROMPT),
                       (endpoint(slow_server, "fault-hang", read_timeout=30.0), PROMPT))
    for n, _ in enumerate(pair):
        if n == 5:
            break
    started = time.monotonic()
    pair.close()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 1.0
    assert settle_threads(baseline) <= baseline


def test_closing_a_single_stream_early_releases_it(slow_server: DemoServer) -> None:
    baseline = threading.active_count()
    stream = stream_chat(endpoint(slow_server, "demo-verbose"), PROMPT)
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert settle_threads(baseline) <= baseline


class SilentServer:
    """Accepts connections and reads requests but never answers, not even a status line (an
    endpoint whose queue is full). Counts connections the client has closed."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        self.accepted = 0
        self.closed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass
        self.closed += 1

    def close(self) -> None:
        self.listener.close()


def test_closing_a_pair_whose_endpoint_never_answered_closes_both_connections() -> None:
    silent = SilentServer()
    try:
        baseline = threading.active_count()
        hung = Endpoint(silent.url, "any", read_timeout=60.0, total_timeout=120.0)
        pair = stream_pair((hung, PROMPT), (hung, PROMPT), tick_s=0.05)
        for _ in pair:
            if silent.accepted == 2:
                break
        time.sleep(0.2)  # both requests sent, both waiting for a status line
        pair.close()  # type: ignore[attr-defined]
        deadline = time.monotonic() + 3.0
        while silent.closed < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        # Not at the read timeout (60 s): the endpoint gets its connections back at once.
        assert silent.closed == 2
        assert settle_threads(baseline) <= baseline
    finally:
        silent.close()
