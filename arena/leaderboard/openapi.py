"""OpenAPI description of the leaderboard's JSON routes (served by :mod:`arena.openapi`)."""

from __future__ import annotations

from typing import Any

from arena.leaderboard import serving

CACHE_CONTROL = "public, max-age=60"


def _params(*names: str) -> list[dict[str, Any]]:
    known = {
        "view": {"name": "view", "in": "query", "required": False,
                 "description": "overall, style, citation, multi_turn, long_prompt or "
                                "lang-<code>; the response's `views` lists those published.",
                 "schema": {"type": "string", "default": "overall"}},
        "format": {"name": "format", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}},
        "snapshot_id": {"name": "snapshot_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}},
    }
    return [known[n] for n in names]


_CONTENDER = {
    "type": "object",
    "required": list(serving.CONTENDER_FIELDS),
    "properties": {
        "rank": {"type": "integer"}, "rank_ub": {"type": "integer",
                                                 "description": "1 + contenders whose interval "
                                                 "lies entirely above this one's"},
        "name": {"type": "string"}, "organization": {"type": "string"},
        "license": {"type": "string"}, "rating": {"type": "number"},
        "ci_low": {"type": "number"}, "ci_high": {"type": "number"},
        "votes": {"type": "integer"}, "provisional": {"type": "boolean"},
        "rank_low": {"type": ["integer", "null"]}, "rank_high": {"type": ["integer", "null"]},
        "status": {"type": "string", "enum": ["ranked", "provisional", "not_comparable"],
                   "description": "ranked: established; provisional: too few votes or an "
                   "interval wider than the median gap; not_comparable: never met the "
                   "ranked group (its ranks count only within its own group)"},
        "deprecated": {"type": "boolean", "description": "retired from battles"},
        "link": {"type": "string"},
    },
}
_BOARD = {
    "type": "object",
    "properties": {
        "snapshot": {"type": "object"}, "views": {"type": "array"}, "method": {"type": "object"},
        "converged": {"type": "boolean"}, "gradient_norm": {"type": "number"},
        "style": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"coef": {"type": "number"},
                                             "ci_low": {"type": "number"},
                                             "ci_high": {"type": "number"}}}},
        "contenders": {"type": "array", "items": _CONTENDER},
        "components": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
        "ranking": {"type": ["object", "null"],
                    "description": "the rule, its median gap and the contender ids of the "
                    "ranked group and of those not yet comparable"},
        "win_matrix": {"type": "object"}, "battle_counts": {"type": "object"},
    },
}
_CACHED = {"ETag": {"schema": {"type": "string"}},
           "Cache-Control": {"schema": {"type": "string", "example": CACHE_CONTROL}},
           "Access-Control-Allow-Origin": {"schema": {"type": "string", "example": "*"}}}
_ERROR = {"description": "No leaderboard yet, unknown view or snapshot",
          "content": {"application/json": {"schema": {"type": "object", "properties": {
              "error": {"type": "object", "properties": {"code": {"type": "string"},
                                                         "message": {"type": "string"}}}}}}}}


def _get(summary: str, params: list[dict[str, Any]], schema: dict[str, Any],
         csv_too: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if csv_too:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"get": {
        "tags": ["leaderboard"], "summary": summary, "parameters": params,
        "responses": {"200": {"description": "OK", "headers": _CACHED, "content": content},
                      "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                      "404": _ERROR}}}


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/leaderboard": _get(
        "Latest leaderboard of a view", _params("view", "format"), _BOARD, csv_too=True),
    "/api/v1/leaderboard.csv": {"get": {
        "tags": ["leaderboard"], "summary": "Latest leaderboard of a view as a CSV download",
        "parameters": _params("view"),
        "responses": {"200": {"description": "CSV with a Content-Disposition attachment",
                              "headers": _CACHED,
                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "304": {"description": "Not modified"}, "404": _ERROR}}},
    "/api/v1/leaderboard/snapshots": _get(
        "Every publication with its views' snapshot ids", [],
        {"type": "object", "properties": {"publications": {"type": "array"}}}),
    "/api/v1/leaderboard/snapshots/{snapshot_id}": _get(
        "One stored snapshot", _params("snapshot_id", "format"), _BOARD, csv_too=True),
}
