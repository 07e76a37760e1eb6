"""OpenAPI paths and schemas of the releases and voter-privacy endpoints."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _error(description: str) -> dict[str, Any]:
    return _json("Error", description)


OPENAPI_COMPONENTS: dict[str, Any] = {
    "ReleaseFile": {"type": "object", "required": ["name", "bytes", "sha256", "url"],
                    "properties": {"name": {"type": "string"}, "bytes": {"type": "integer"},
                                   "sha256": {"type": "string"},
                                   "rows": {"type": ["integer", "null"]},
                                   "url": {"type": "string"}}},
    "Release": {"type": "object",
                "required": ["name", "window_start", "window_end", "n_battles", "bytes",
                             "manifest_sha256", "files", "commands", "hub"],
                "properties": {
                    "name": {"type": "string"},
                    "window_start": {"type": "string", "format": "date-time"},
                    "window_end": {"type": "string", "format": "date-time",
                                   "description": "Exclusive end of the vote window."},
                    "created_at": {"type": "string", "format": "date-time"},
                    "n_battles": {"type": "integer"}, "bytes": {"type": "integer"},
                    "manifest_sha256": {"type": "string"},
                    "files": {"type": "array", "items": _ref("ReleaseFile")},
                    "commands": {"type": "array", "items": {"type": "string"},
                                 "description": "`python -m ratings` commands that recompute "
                                                "leaderboard.json inside the release folder."},
                    "views": {"type": "array", "items": {"type": "object", "properties": {
                        "key": {"type": "string"}, "title": {"type": "string"},
                        "command": {"type": "string"},
                        "error": {"type": ["string", "null"]}}}},
                    "hub": {"type": ["object", "null"], "properties": {
                        "repo": {"type": "string"}, "revision": {"type": ["string", "null"]},
                        "url": {"type": "string"}, "pushed_at": {"type": "string"}}}}},
    "ReleaseList": {"type": "object", "required": ["releases"], "properties": {
        "releases": {"type": "array", "items": _ref("Release")}}},
    "Me": {"type": "object",
           "required": ["release_consent", "release_opt_out", "battles", "votes"],
           "properties": {
               "release_consent": {"type": "boolean", "description":
                                   "Prompts and answers may appear (scrubbed) in releases."},
               "release_opt_out": {"type": "boolean", "description":
                                   "Left out of every release cut from now on."},
               "opted_out_at": {"type": ["string", "null"]},
               "deletion_requested_at": {"type": ["string", "null"]},
               "battles": {"type": "integer"}, "votes": {"type": "integer"}}},
    "MeUpdate": {"type": "object", "minProperties": 1, "additionalProperties": False,
                 "properties": {"release_consent": {"type": "boolean"},
                                "release_opt_out": {"type": "boolean"}}},
    "DeletionRequest": {"type": "object", "required": ["confirm"],
                        "properties": {"confirm": {"type": "boolean", "const": True}}},
    "DeletionDone": {"type": "object",
                     "required": ["deleted", "battles", "texts_erased", "feedback_erased"],
                     "properties": {"deleted": {"type": "boolean"},
                                    "battles": {"type": "integer"},
                                    "texts_erased": {"type": "integer"},
                                    "feedback_erased": {"type": "integer"}}},
}

_BODY_ERRORS = {
    "400": _error("Not a JSON object (invalid_json)."),
    "415": _error("Content-Type is not application/json (unsupported_media_type)."),
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/releases": {"get": {
        "summary": "Published data releases with their files, checksums and Hub links.",
        "operationId": "listReleases",
        "responses": {"200": _json("ReleaseList", "Releases, newest first.")}}},
    "/api/v1/me": {
        "get": {"summary": "This browser's data-release choices and what is stored.",
                "operationId": "getMe", "responses": {"200": _json("Me", "Status.")}},
        "post": {"summary": "Consent to releasing texts, or opt out of releases.",
                 "operationId": "updateMe",
                 "requestBody": {"required": True, "content": {
                     "application/json": {"schema": _ref("MeUpdate")}}},
                 "responses": {"200": _json("Me", "Saved."), **_BODY_ERRORS,
                               "422": _error("Unknown or non-boolean field (invalid_field).")}}},
    "/api/v1/me/deletion": {"post": {
        "summary": "Erase this browser's prompts, answers and feedback; exclude it from every "
                   "later release. The browser gets a fresh pseudonym.",
        "operationId": "requestDeletion",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("DeletionRequest")}}},
        "responses": {"200": _json("DeletionDone", "Erased."), **_BODY_ERRORS,
                      "422": _error("confirm is not true (confirmation_required).")}}},
}
