"""Clients for image and audio endpoints, with the same typed errors as the text client.

Two protocols, chosen per contender with ``params: {api: openai | hf}`` (default ``openai``):

- **OpenAI-compatible**: ``POST <base>/v1/images/generations`` (``b64_json`` asked for; a
  ``url`` answer is fetched server-side, with the same size limit and timeouts, and never
  shown to the browser) and ``POST <base>/v1/audio/speech`` (audio bytes as the body).
- **Hugging Face** ``InferenceClient(base_url=...)``: ``text_to_image`` and
  ``text_to_speech``. (huggingface_hub 2.4 has no ``text_to_audio`` method; the text-to-audio
  task speaks the same wire format — ``{"inputs": prompt}`` in, audio bytes out — so music
  endpoints are called through ``text_to_speech`` too.)

Every failure raises :class:`~arena.errors.EndpointTimeout`, :class:`EndpointUnreachable`,
:class:`EndpointHTTPError` or :class:`~arena.modalities.base.MediaRejected`; the URL and the
model id go to the log only. Clients return raw bytes: sanitising is the caller's next step.
"""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError
from PIL import UnidentifiedImageError

from arena.errors import EndpointHTTPError, EndpointUnreachable, InferenceError
from arena.inference import Endpoint, timeout_error, translate_error
from arena.modalities.base import MediaRejected, Modality, Sanitised

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
_CLIENT_KEYS = ("api",)  # contender params read here, never sent to the endpoint


def openai_url(base_url: str, route: str) -> str:
    """``<base>/v1/<route>`` for a base URL with or without its ``/v1``."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    if path.endswith("/" + route):
        return base_url
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit(parts._replace(path=f"{path}/{route}"))


def generate(endpoint: Endpoint, modality: Modality, prompt: str, *,
             max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """One media answer's raw bytes for ``prompt`` (see the module docstring)."""
    if modality.kind == "text":
        raise ValueError("text answers are streamed by arena.inference")
    api = str(endpoint.params.get("api", "openai"))
    params = {k: v for k, v in endpoint.params.items() if k not in _CLIENT_KEYS}
    deadline = time.monotonic() + endpoint.total_timeout
    if api == "hf":
        return _hf(endpoint, modality, prompt, params, max_bytes)
    body = modality.build_request(prompt, endpoint.model, params)
    route = "images/generations" if modality.kind == "image" else "audio/speech"
    url = openai_url(endpoint.base_url, route)
    with _client(endpoint) as client:
        payload = _post(client, url, body, endpoint, deadline, max_bytes)
        if modality.kind == "audio":
            return bytes(modality.parse_response(payload))
        try:
            answer = json.loads(payload)
        except ValueError:
            log.warning("model %s at %s answered non-JSON", endpoint.model, url)
            raise MediaRejected(details={"reason": "not_json"}) from None
        result = modality.parse_response(answer)
        if isinstance(result, str):
            return _fetch(client, result, endpoint, deadline, max_bytes)
        return bytes(result)


def generate_sanitised(endpoint: Endpoint, modality: Modality, prompt: str, *,
                       max_bytes: int = DEFAULT_MAX_BYTES) -> Sanitised:
    """:func:`generate`, then the modality's sanitiser: what the arena stores and serves."""
    assert modality.sanitise is not None  # media modalities always have one
    return modality.sanitise(generate(endpoint, modality, prompt, max_bytes=max_bytes))


def _client(endpoint: Endpoint) -> httpx2.Client:
    timeout = httpx2.Timeout(connect=endpoint.connect_timeout,
                             read=min(endpoint.read_timeout, endpoint.total_timeout),
                             write=endpoint.read_timeout, pool=endpoint.connect_timeout)
    headers = {"authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    return httpx2.Client(timeout=timeout, headers=headers, follow_redirects=False)


def _post(client: httpx2.Client, url: str, body: dict[str, Any], endpoint: Endpoint,
          deadline: float, max_bytes: int) -> bytes:
    return _read(client, client.build_request("POST", url, json=body), endpoint, deadline,
                 max_bytes, url)


def _fetch(client: httpx2.Client, url: str, endpoint: Endpoint, deadline: float,
           max_bytes: int) -> bytes:
    # The endpoint's own URL is fetched here, once, and never reaches the browser.
    if urlsplit(url).scheme not in ("http", "https"):
        raise MediaRejected(details={"reason": "bad_url"})
    return _read(client, client.build_request("GET", url), endpoint, deadline, max_bytes, url)


def _read(client: httpx2.Client, request: httpx2.Request, endpoint: Endpoint, deadline: float,
          max_bytes: int, url: str) -> bytes:
    phase = "connect"
    try:
        response = client.send(request, stream=True)
        phase = "read"
        try:
            if response.status_code >= 400:
                log.warning("model %s at %s answered HTTP %s", endpoint.model, url,
                            response.status_code)
                raise EndpointHTTPError(details={"status": response.status_code})
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    log.warning("model %s at %s sent more than %s bytes", endpoint.model, url,
                                max_bytes)
                    raise MediaRejected(details={"reason": "too_large"})
                if time.monotonic() > deadline:
                    raise timeout_error("total", endpoint, url)
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            response.close()
    except InferenceError:
        raise
    except httpx2.TimeoutException as exc:
        raise timeout_error("connect" if isinstance(exc, httpx2.ConnectTimeout) else "read",
                       endpoint, url) from exc
    except httpx2.TransportError as exc:
        log.warning("model %s at %s unreachable: %r", endpoint.model, url, exc)
        if phase == "connect":
            raise EndpointUnreachable() from exc
        raise MediaRejected(details={"reason": "connection_broken"}) from exc


def _hf(endpoint: Endpoint, modality: Modality, prompt: str, params: dict[str, Any],
        max_bytes: int) -> bytes:
    # Imported here, not at import: ~0.3 s that the app's start-up need not pay.
    from huggingface_hub import InferenceClient

    timeout = min(endpoint.read_timeout, endpoint.total_timeout)
    client = InferenceClient(
        base_url=endpoint.base_url, api_key=endpoint.api_key, timeout=timeout,
        # Without a key, huggingface_hub would send the machine's HF token to any endpoint.
        headers=None if endpoint.api_key else {"authorization": None},  # type: ignore[dict-item]
    )
    try:
        if modality.kind == "image":
            picture = client.text_to_image(prompt, extra_body=params or None)
            out = io.BytesIO()
            picture.save(out, format="PNG")
            data = out.getvalue()
        else:
            data = client.text_to_speech(prompt, extra_body=params or None)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        if isinstance(exc, InferenceTimeoutError | HfHubHTTPError | httpx2.TransportError):
            raise _translate_hf(exc, endpoint) from exc
        log.warning("model %s at %s sent undecodable media: %r", endpoint.model,
                    endpoint.base_url, exc)
        raise MediaRejected(details={"reason": "not_media"}) from exc
    except Exception as exc:
        raise _translate_hf(exc, endpoint) from exc
    finally:
        client.close()
    if len(data) > max_bytes:
        raise MediaRejected(details={"reason": "too_large"})
    return bytes(data)


def _translate_hf(exc: Exception, endpoint: Endpoint) -> InferenceError:
    """A media call has no stream: its timeouts, HTTP errors and failed connections map as a
    text call's do before the response head; anything else is unexpected."""
    if isinstance(exc, InferenceTimeoutError | httpx2.TimeoutException | HfHubHTTPError
                  | httpx2.ConnectError):
        return translate_error(exc, "connect", endpoint, endpoint.base_url)
    log.error("unexpected %r from model %s at %s", exc, endpoint.model, endpoint.base_url)
    return InferenceError()


__all__ = ["generate", "generate_sanitised", "openai_url"]
