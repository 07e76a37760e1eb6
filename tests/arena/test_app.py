import json

from flask.testing import FlaskClient


def test_index_page_renders(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"Open Arena" in response.data


def test_unknown_api_path_is_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_page_is_readable_404(client: FlaskClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert b"Page not found" in response.data


def test_sse_events_carry_text_unescaped_and_both_sides_of_a_frame_in_one_write() -> None:
    from arena.api import _sse

    text = 'Zürich "quoted" \u2028 😀'
    writes = list(_sse([("open", {}), ("deltas", {"deltas": [{"side": "a", "text": text},
                                                              {"side": "b", "text": "x"}]}),
                        ("keepalive", {}), ("end", {"state": "ready", "flagged": False})]))
    assert writes == [
        ": stream open\n\n",
        f"event: delta\ndata: {json.dumps({'side': 'a', 'text': text}, ensure_ascii=False)}"
        '\n\nevent: delta\ndata: {"side": "b", "text": "x"}\n\n',
        ": keep-alive\n\n",
        'event: end\ndata: {"state": "ready", "flagged": false}\n\n']
    assert "Zürich" in writes[1] and "😀" in writes[1]
