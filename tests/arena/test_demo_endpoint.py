"""The demo endpoint over real loopback HTTP, with the standard library as the client."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from arena import demo_endpoint
from arena.demo_endpoint import CONTENDERS, DemoServer, answer
from arena.identity import identity_leak


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with demo_endpoint.start(faults=True) as srv:
        yield srv


@pytest.fixture(scope="module")
def keyed_server() -> Iterator[DemoServer]:
    with demo_endpoint.start(api_key="sesame") as srv:
        yield srv


def request(srv: DemoServer, method: str, path: str, body: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload,
                     headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        try:
            return response.status, response.getheader("Content-Type", ""), response.read()
        finally:
            response.close()
    finally:
        conn.close()


def chat(srv: DemoServer, model: str, prompt: str = "How do bridges stay up?",
         **extra: Any) -> tuple[int, str, bytes]:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}
    return request(srv, "POST", "/v1/chat/completions", body)


def sse_events(raw: bytes) -> list[str]:
    return [line[len("data: "):] for line in raw.decode().splitlines() if line.startswith("data: ")]


def test_health_answers_ok(server: DemoServer) -> None:
    status, _, body = request(server, "GET", "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}


def test_models_lists_contenders_and_faults(server: DemoServer) -> None:
    status, _, body = request(server, "GET", "/v1/models")
    ids = [m["id"] for m in json.loads(body)["data"]]
    assert status == 200 and set(CONTENDERS) <= set(ids) and "fault-hang" in ids


def test_url_includes_v1_and_port(server: DemoServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}/v1" and server.port > 0


def test_non_streaming_returns_one_completion_json(server: DemoServer) -> None:
    status, ctype, body = chat(server, "demo-brief")
    data = json.loads(body)
    assert status == 200 and ctype == "application/json"
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["choices"][0]["message"]["content"]
    assert data["usage"]["completion_tokens"] > 0


def test_streaming_sends_openai_chunks_usage_and_done(server: DemoServer) -> None:
    status, ctype, body = chat(server, "demo-brief", stream=True,
                               stream_options={"include_usage": True})
    events = sse_events(body)
    chunks = [json.loads(e) for e in events[:-1]]
    assert status == 200 and ctype == "text/event-stream"
    assert events[-1] == "[DONE]"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert text == answer("demo-brief", [{"role": "user",
                                          "content": "How do bridges stay up?"}])[0]


def test_streaming_without_include_usage_sends_no_usage_chunk(server: DemoServer) -> None:
    _, _, body = chat(server, "demo-brief", stream=True)
    assert all("usage" not in json.loads(e) for e in sse_events(body)[:-1])


def test_max_tokens_cuts_with_finish_reason_length(server: DemoServer) -> None:
    _, _, body = chat(server, "demo-verbose", max_tokens=5)
    data = json.loads(body)
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 5
    assert len(data["choices"][0]["message"]["content"].split()) == 5


def test_unknown_model_is_openai_style_404(server: DemoServer) -> None:
    status, _, body = chat(server, "no-such-model")
    assert status == 404 and json.loads(body)["error"]["code"] == "model_not_found"


def test_fault_models_are_hidden_without_faults_flag(keyed_server: DemoServer) -> None:
    status, _, _ = request(keyed_server, "POST", "/v1/chat/completions",
                           {"model": "fault-500", "messages": []},
                           {"Authorization": "Bearer sesame"})
    assert status == 404


def test_fault_500_returns_json_error(server: DemoServer) -> None:
    status, _, body = chat(server, "fault-500", stream=True)
    assert status == 500 and json.loads(body)["error"]["type"] == "server_error"


def test_missing_api_key_is_401(keyed_server: DemoServer) -> None:
    status, _, body = chat(keyed_server, "demo-brief")
    assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key"


def test_right_api_key_is_accepted(keyed_server: DemoServer) -> None:
    status, _, _ = request(keyed_server, "POST", "/v1/chat/completions",
                           {"model": "demo-brief", "messages": [{"role": "user", "content": "x"}]},
                           {"Authorization": "Bearer sesame"})
    assert status == 200


def test_malformed_body_is_400(server: DemoServer) -> None:
    status, _, _ = request(server, "POST", "/v1/chat/completions", {"model": "demo-brief"})
    assert status == 400


def ask(model: str, *prompts: str) -> str:
    """The answer to the last prompt, with the earlier ones as history."""
    messages: list[dict[str, Any]] = []
    for prompt in prompts[:-1]:
        messages += [{"role": "user", "content": prompt},
                     {"role": "assistant", "content": answer(model, messages + [
                         {"role": "user", "content": prompt}])[0]}]
    return answer(model, messages + [{"role": "user", "content": prompts[-1]}])[0]


def test_answers_are_deterministic() -> None:
    prompt = "Why is the sky blue?"
    assert ask("demo-verbose", prompt) == ask("demo-verbose", prompt)


def test_answers_vary_with_the_prompt() -> None:
    assert ask("demo-brief", "Why is the sky blue?") != ask("demo-brief", "How do tides work?")


def test_follow_up_mentions_it_and_differs() -> None:
    single = ask("demo-brief", "And what about oceans?")
    follow = ask("demo-brief", "Why is the sky blue?", "And what about oceans?")
    assert follow != single and "follow" in follow.lower()


def test_styles_differ_in_shape() -> None:
    brief, verbose, markdown = (ask(m, "How do tides work?")
                                for m in ("demo-brief", "demo-verbose", "demo-markdown"))
    assert len(re.findall(r"[.!?](\s|$)", brief)) <= 2 and "\n" not in brief
    assert len(verbose) > 4 * len(brief) and verbose.count("\n\n") >= 2
    assert re.search(r"^## ", markdown, re.M) and re.search(r"^- \*\*", markdown, re.M)
    assert "```" in markdown


def test_scholar_cites_two_to_four_urls_in_text() -> None:
    text, citations = answer("demo-scholar", [{"role": "user", "content": "Is coffee healthy?"}])
    assert 2 <= len(citations) <= 4 and all(url in text for url in citations)


@pytest.mark.parametrize("model", CONTENDERS)
@pytest.mark.parametrize("prompt", ["Tell me about demo scholars", "Write a verbose brief",
                                    "Explain markdown", "hi"])
def test_answers_never_name_their_model(model: str, prompt: str) -> None:
    text = ask(model, prompt)
    assert not re.search(r"demo|brief|verbose|markdown|scholar", text, re.I)


# How the demo contenders are presented (names and labs as in the demo contenders file).
IDENTITIES = ("Brief", "Verbose", "Markdown", "Scholar", "Demo Lab North", "Demo Lab South",
              "Demo Lab East", "Demo Lab West", *CONTENDERS)


@pytest.mark.parametrize("model", CONTENDERS)
def test_identity_check_does_not_flag_demo_answers(model: str) -> None:
    for prompt in ("Who made you?", "Which model are you?", "Tell me about the Demo Lab"):
        assert identity_leak(ask(model, "Hello", prompt), IDENTITIES) is None


def test_fault_leak_names_itself_and_is_flagged() -> None:
    text = ask("fault-leak", "Who are you?")
    assert "I am fault-leak, a model made by Faultworks." in text
    assert identity_leak(text, ("Leaky", "Faultworks", "fault-leak")) == "Faultworks"
