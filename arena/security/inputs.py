"""Hostile input that used to end in a 500: it now gets a 4xx, or is ignored where HTTP says so.

- JSON bodies: a lone surrogate (``"\\ud800"``) parses in Python but cannot be stored or
  encoded as UTF-8, and very deep nesting overflows the parser's recursion; both are invalid
  JSON here (the views answer 400 ``invalid_json``).
- A NUL byte in a path (PostgreSQL refuses it in text) is a 404, in a query string a 400.
- Integer path segments beyond a 32-bit column (``/snapshots/2147483648``) match no row: 404.
- An unparsable ``Range`` header (or one in a unit other than bytes) is ignored
  (RFC 9110 §14.2), not answered 416.
- Request bodies are capped by ``MAX_CONTENT_LENGTH`` (Flask's own setting; 413 as JSON).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.http import parse_range_header
from werkzeug.routing import IntegerConverter

from arena.errors import BadRequest, NotFound

# Largest value of the integer primary keys on PostgreSQL (``integer`` is 32-bit signed).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:...>`` limited to what an integer column can hold: larger ids are simply absent."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def _has_lone_surrogate(value: Any) -> bool:
    # Iterative, so a wide or deep (but parsable) document cannot exhaust the stack here either.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents that parse in Python but cannot be handled safely."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply.") from None
        if _has_lone_surrogate(value):
            raise ValueError("JSON string with an unpaired surrogate.")
        return value


class NulInPath(NotFound):
    code = "not_found"


class NulInQuery(BadRequest):
    code = "invalid_parameter"
    message = "Query parameters must not contain NUL characters."


def _check_request() -> None:
    if "\x00" in request.path:
        raise NulInPath()
    if any("\x00" in key or any("\x00" in v for v in values)
           for key, values in request.args.lists()):
        raise NulInQuery()
    raw_range = request.environ.get("HTTP_RANGE")
    if raw_range is not None:
        parsed = parse_range_header(raw_range)
        # Unparsable, or a unit other than bytes: RFC 9110 says ignore the header.
        if parsed is None or parsed.units != "bytes":
            del request.environ["HTTP_RANGE"]


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = RowIdConverter
    app.before_request(_check_request)
