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
