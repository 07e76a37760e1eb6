"""The OpenAPI 3.1 document served at ``/api/v1/openapi.json``.

Battle and vote routes are described here; the leaderboard and releases packages export their
own ``OPENAPI_PATHS`` (and optionally ``OPENAPI_COMPONENTS`` schemas), merged in at build time.
"""

from __future__ import annotations

import copy
from typing import Any

import arena
from arena import modalities
from arena.models import WINNERS
from arena.voting import MAX_FEEDBACK_CHARS

# A prompt is text with at least one character that is not JSON Schema (ECMA-262) whitespace,
# and no NUL; arena.api checks exactly this (its BLANK is the same whitespace set).
_ECMA_SPACE = ("\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"
               "\\u205f\\u3000\\ufeff")
PROMPT_PATTERN = f"^[^\\u0000]*[^\\u0000{_ECMA_SPACE}][^\\u0000]*$"
NO_NUL_PATTERN = "^[^\\u0000]*$"
# The voter cookie: issued by the first battle (or /api/v1/me), required to read, stream,
# continue or vote on a battle.
SESSION_SCHEME = {"type": "apiKey", "in": "cookie", "name": "session",
                  "description": "Signed session cookie carrying the voter pseudonym; set by "
                                 "POST /api/v1/battles. Only the session that started a "
                                 "battle may read, stream, continue or vote on it."}
_SESSION: list[dict[str, list[str]]] = [{"session": []}]


def _error_response(description: str) -> dict[str, Any]:
    return _json("Error", description)


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _body(schema_name: str) -> dict[str, Any]:
    return {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


_ID = {"name": "id", "in": "path", "required": True,
       "description": "The battle's opaque public id.", "schema": {"type": "string"}}
_SIDE_ANSWER = {"type": ["object", "null"], "properties": {
    "text": {"type": "string"}, "html": {"type": "string"},
    # Per-side metadata would tell the models apart: present only once the battle is voted.
    "finish_reason": {"type": ["string", "null"]}, "tokens": {"type": ["integer", "null"]},
    "latency_ms": {"type": ["integer", "null"]}}}
_IDENTITY = {"type": "object", "required": ["name", "organization", "license"], "properties": {
    "name": {"type": "string"}, "organization": {"type": "string"},
    "license": {"type": "string"},
    "public": {"type": "boolean", "description": "False: an unreleased model, left unnamed."}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "details": {"type": "object"}}}}},
    "NewBattle": {"type": "object", "required": ["prompt"], "properties": {
        "prompt": {"type": "string", "minLength": 1, "pattern": PROMPT_PATTERN},
        "release_consent": {"type": "boolean", "description":
                            "May this voter's prompts and answers appear in data releases "
                            "(sticky per browser session)."},
        "arena": {"type": "string", "default": "text", "enum": modalities.names(),
                  "description":
                  "Which arena (modality): text, image, speech, music. Only contenders of "
                  "that arena are paired."}}},
    "NewTurn": {"type": "object", "required": ["prompt"], "properties": {
        "prompt": {"type": "string", "minLength": 1, "pattern": PROMPT_PATTERN}}},
    "TurnCreated": {"type": "object", "required": ["id", "state", "turn", "stream_url"],
                    "properties": {"id": {"type": "string"},
                                   "state": {"type": "string", "const": "pending"},
                                   "turn": {"type": "integer", "minimum": 0},
                                   "prompt_html": {"type": "string", "description":
                                                   "The prompt rendered like the answers."},
                                   "stream_url": {"type": "string"}}},
    "VoteRequest": {"type": "object", "required": ["winner"], "properties": {
        "winner": {"type": "string", "enum": list(WINNERS)},
        "feedback": {"type": ["string", "null"], "maxLength": MAX_FEEDBACK_CHARS,
                     "pattern": NO_NUL_PATTERN}}},
    "Reveal": {"type": "object", "required": ["winner", "a", "b"], "properties": {
        "winner": {"type": "string", "enum": list(WINNERS)}, "a": _IDENTITY, "b": _IDENTITY}},
    "Battle": {"type": "object", "required": ["id", "state", "turns", "can_continue", "voted"],
               "properties": {
                   "id": {"type": "string"},
                   "state": {"type": "string", "enum": ["pending", "generating", "ready",
                                                        "voted", "failed", "abandoned"]},
                   "turns": {"type": "array", "items": {"type": "object", "properties": {
                       "prompt": {"type": "string"}, "prompt_html": {"type": "string"},
                       "a": _SIDE_ANSWER, "b": _SIDE_ANSWER}}},
                   "can_continue": {"type": "boolean"},
                   "voted": {"type": "boolean"},
                   "flagged": {"type": "boolean"},
                   "winner": {"type": "string", "enum": list(WINNERS)},
                   "reveal": {"type": "object", "properties": {"a": _IDENTITY, "b": _IDENTITY}},
                   "facts": {"type": "object", "description":
                             "After the vote only: per side, tokens and total time (ms) summed "
                             "over the turns, and time to the first token (ms) of turn 1.",
                             "additionalProperties": {"type": "object", "properties": {
                                 "tokens": {"type": ["integer", "null"]},
                                 "first_token_ms": {"type": ["integer", "null"]},
                                 "latency_ms": {"type": ["integer", "null"]}}}},
               }},
}

_STREAM_DESCRIPTION = """Server-sent events generating the latest turn (or replaying it).

Events: `delta` {"side", "text"} (text in frames of ~50 ms); `done` {"side", "html"}, sent for
both sides together once both answers are complete (nothing per contender but the text before
the vote); `error` {"side" (or null), "code", "message"}; a final `end` {"state", "flagged"};
comment lines (keep-alive) every few seconds of silence. A battle already generating elsewhere
gets `error` with code `already_streaming`; one whose generator died is generated again."""

# What a client can do next with a new battle's id (also lets API fuzzers walk real rounds).
_BATTLE_LINKS = {op: {"operationId": op, "parameters": {"id": "$response.body#/id"}}
                 for op in ("getBattle", "streamBattle", "addTurn", "vote")}

PATHS: dict[str, Any] = {
    "/api/v1/battles": {"post": {
        "summary": "Start a battle: two anonymous models will answer the prompt.",
        "operationId": "createBattle",
        "requestBody": _body("NewBattle"),
        "responses": {
            "201": {**_json("TurnCreated", "Battle created; open stream_url for the answers."),
                    "links": _BATTLE_LINKS},
            "400": _error_response("Not a JSON object (invalid_json)."),
            "404": _error_response("No contender competes in the asked arena "
                                   "(arena_not_offered)."),
            "422": _error_response("empty_prompt, prompt_too_long or invalid_field."),
            "429": _error_response("Rate limited."),
            "503": _error_response("Fewer than two models available (no_contenders)."),
        }}},
    "/api/v1/battles/{id}": {"get": {
        "summary": "The battle so far (identities only after the vote).",
        "operationId": "getBattle", "parameters": [_ID], "security": _SESSION,
        "responses": {"200": _json("Battle", "The battle."),
                      "403": _error_response("Another session's battle (not_your_battle)."),
                      "404": _error_response("No such battle (battle_not_found).")}}},
    "/api/v1/battles/{id}/stream": {"get": {
        "summary": "Stream both answers of the latest turn.",
        "description": _STREAM_DESCRIPTION,
        "operationId": "streamBattle", "parameters": [_ID], "security": _SESSION,
        "responses": {"200": {"description": "An event stream.",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      "403": _error_response("Another session's battle (not_your_battle)."),
                      "404": _error_response("No such battle (battle_not_found)."),
                      "503": _error_response("This worker holds its maximum of open streams "
                                             "(streams_full); retry after Retry-After.")}}},
    "/api/v1/battles/{id}/turns": {"post": {
        "summary": "Continue the conversation with the same anonymous pair.",
        "operationId": "addTurn", "parameters": [_ID], "requestBody": _body("NewTurn"),
        "security": _SESSION,
        "responses": {
            "201": _json("TurnCreated", "Turn created; open stream_url for the answers."),
            "400": _error_response("Not a JSON object (invalid_json)."),
            "403": _error_response("Another session's battle (not_your_battle)."),
            "404": _error_response("No such battle (battle_not_found)."),
            "409": _error_response("battle_not_ready, battle_failed, already_voted or "
                                   "too_many_turns."),
            "422": _error_response("empty_prompt, prompt_too_long or invalid_field."),
            "429": _error_response("Rate limited."),
        }}},
    "/api/v1/battles/{id}/vote": {"post": {
        "summary": "Vote once; the response reveals both models.",
        "operationId": "vote", "parameters": [_ID], "requestBody": _body("VoteRequest"),
        "security": _SESSION,
        "responses": {
            "200": _json("Reveal", "Vote stored."),
            "400": _error_response("Not a JSON object (invalid_json)."),
            "403": _error_response("Another session's battle (not_your_battle)."),
            "404": _error_response("No such battle (battle_not_found)."),
            "409": _error_response("already_voted, battle_not_ready or battle_failed."),
            "422": _error_response("invalid_winner, feedback_too_long or invalid_field."),
            "429": _error_response("Rate limited."),
        }}},
    "/api/v1/battles/{id}/media/{side}/{n}": {"get": {
        "summary": "A media answer (image/audio arenas), sanitised; owner-only before the vote.",
        "operationId": "getMedia",
        "parameters": [_ID,
                       {"name": "side", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["a", "b"]}},
                       {"name": "n", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                        "description": "Turn position (0 for the prompt)."}],
        "responses": {"200": {"description": "A fresh PNG or 16-bit PCM WAV with no metadata.",
                              "content": {"image/png": {}, "audio/wav": {}}},
                      "403": _error_response("Another session's battle (not_your_battle)."),
                      "404": _error_response("battle_not_found or media_not_found.")}}},
    "/api/v1/openapi.json": {"get": {
        "summary": "This document.", "operationId": "openapi",
        "responses": {"200": {"description": "OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
}


def _common_responses(paths: dict[str, Any]) -> None:
    """Answers every operation can give, whoever wrote its description.

    A NUL in a query parameter is a 400 (arena.security.inputs), a request body over
    MAX_CONTENT_LENGTH a 413; string query parameters say they take no NUL.
    """
    for item in paths.values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            queries = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            for param in queries:
                schema = param.setdefault("schema", {})
                if schema.get("type") == "string" and "enum" not in schema:
                    schema.setdefault("pattern", NO_NUL_PATTERN)
                if "enum" in schema:
                    responses.setdefault("422", _error_response(
                        f"{param['name']} is not one of {', '.join(schema['enum'])} (invalid)."))
            if queries:
                responses.setdefault("400", _error_response(
                    "A query parameter contains a NUL character (invalid_parameter)."))
            if "requestBody" in operation:
                responses.setdefault("413", _error_response(
                    "The request body is larger than the server accepts (too_large)."))


def build_spec(max_prompt_chars: int | None = None) -> dict[str, Any]:
    """The full document: these routes plus the other packages' exported paths.

    ``max_prompt_chars`` (the app's MAX_PROMPT_CHARS) becomes the prompts' ``maxLength``.
    """
    from arena.leaderboard import web as leaderboard_web
    from arena.ledger import web as ledger_web
    from arena.releases import web as releases_web

    paths = copy.deepcopy(PATHS)
    schemas = copy.deepcopy(SCHEMAS)
    for module in (leaderboard_web, releases_web, ledger_web):
        for path, item in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(copy.deepcopy(item))
        schemas.update(copy.deepcopy(getattr(module, "OPENAPI_COMPONENTS", {})))
    _common_responses(paths)
    if max_prompt_chars is not None:
        for name in ("NewBattle", "NewTurn"):
            schemas[name]["properties"]["prompt"]["maxLength"] = max_prompt_chars
    return {
        "openapi": "3.1.0",
        "info": {"title": "Open Arena API", "version": arena.__version__,
                 "description": "Anonymous pairwise model battles, votes and published "
                                "leaderboards. Errors are {\"error\": {\"code\", \"message\"}}."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"session": SESSION_SCHEME}},
    }
