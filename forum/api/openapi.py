"""The OpenAPI 3 document for /api/v1, written by hand; tests keep it in step with the routes."""
from __future__ import annotations

from flask import jsonify

from . import bp

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}, "field": {"type": "string"},
                   "reason": {"type": "string", "enum": ["too_large", "too_many", "type_not_allowed", "empty"],
                              "description": "Why a file was refused (field: files)"}}}}}
_PERSON = {"type": "object", "properties": {"username": {"type": "string"}, "display_name": {"type": "string"}}}
_ATTACHMENT = {"type": "object", "required": ["id", "filename", "kind", "size", "download_url"], "properties": {
    "id": {"type": "integer"}, "filename": {"type": "string"}, "kind": {"type": "string", "enum": ["image", "text"]},
    "content_type": {"type": "string"}, "size": {"type": "integer"}, "width": {"type": ["integer", "null"]},
    "height": {"type": ["integer", "null"]}, "signatures": {"type": "array", "items": {"type": "string"}},
    "uploader": _PERSON, "created_at": {"type": ["string", "null"]}, "download_url": {"type": "string"}}}
_FILES = {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}}
_THREAD = {"type": "object", "required": ["id", "title", "visibility"], "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "body": {"type": "string"},
    "body_html": {"type": "string"}, "kind": {"type": "string"}, "visibility": {"type": "string"},
    "status": {"type": "string"}, "space": {"type": "object"}, "author": _PERSON,
    "tags": {"type": "array", "items": {"type": "string"}}, "reply_count": {"type": "integer"},
    "created_at": {"type": ["string", "null"]}, "last_activity_at": {"type": ["string", "null"]},
    "attachments": _FILES}}
_REPLY = {"type": "object", "required": ["id", "thread_id"], "properties": {
    "id": {"type": "integer"}, "thread_id": {"type": "integer"}, "is_staff_note": {"type": "boolean"},
    "author": _PERSON, "body": {"type": "string"}, "body_html": {"type": "string"}, "score": {"type": "integer"},
    "deleted": {"type": "boolean"}, "created_at": {"type": ["string", "null"]}, "attachments": _FILES}}
_NOTIFICATION = {"type": "object", "required": ["id", "kind", "read", "visible"], "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "read": {"type": "boolean"},
    "visible": {"type": "boolean"}, "created_at": {"type": ["string", "null"]}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _page(item: str) -> dict:
    return {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": _ref(item)}, "next_cursor": {"type": ["string", "null"]}}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {str(code): _json(_ref("Error"), text) for code, text in (
    (400, "Bad request"), (401, "Not signed in, or the token is unknown or revoked"),
    (403, "Not allowed (e.g. a read token posting)"), (404, "Missing, or not visible to the caller"),
    (429, "Too many requests"))}
# Uploads may also be refused as too large (a file, or the whole request) or of a type not allowed.
_FILE_ERRORS = {str(code): _json(_ref("Error"), text) for code, text in (
    (413, "A file, or the request, is too large"), (415, "A file's type is not allowed (checked by its content)"))}
_UPLOADS = {"type": "array", "items": {"type": "string", "format": "binary"},
            "description": "Files (logs, configuration, screenshots): repeat the field once per file"}
_LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
_CURSOR = {"name": "cursor", "in": "query", "schema": {"type": "string"},
           "description": "The next_cursor of the previous page (opaque)."}
_THREAD_ID = {"name": "thread_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def _op(summary: str, ok: dict, params: list | None = None, body: dict | None = None, status: str = "200",
        scope: str = "read", multipart: dict | None = None) -> dict:
    op = {"summary": summary, "parameters": params or [], "responses": {status: ok, **_ERRORS},
          "x-scope": scope}
    content = {}
    if body is not None:
        content["application/json"] = {"schema": body}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": multipart}
        op["responses"].update(_FILE_ERRORS)
    if content:
        op["requestBody"] = {"required": True, "content": content}
    return op


def _with_files(body: dict, **as_text: dict) -> dict:
    """The JSON body as a multipart form that also carries ``files`` (fields given in ``as_text`` are sent as text)."""
    return body | {"properties": body["properties"] | as_text | {"files": _UPLOADS}}


_NEW_THREAD = {"type": "object", "required": ["space_id", "title", "body"], "properties": {
    "space_id": {"type": "integer"}, "title": {"type": "string"}, "body": {"type": "string"},
    "kind": {"type": "string", "enum": ["question", "discussion", "announcement"]},
    "visibility": {"type": "string", "enum": ["public", "org_private", "internal"]},
    "tags": {"type": "array", "items": {"type": "string"}}}}
_NEW_REPLY = {"type": "object", "required": ["body"], "properties": {
    "body": {"type": "string"}, "staff_note": {"type": "boolean"}}}
_ATTACHMENT_ID = {"name": "attachment_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 1}}
_ADD_FILES = {"type": "object", "required": ["files"], "properties": {"files": _UPLOADS}}
_ADDED = _json({"type": "object", "required": ["items"], "properties": {"items": _FILES}}, "Added")


DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Groundwork API", "version": "1",
             "description": "Personal access tokens: `Authorization: Bearer <token>` (read or write scope). "
                            "Requests without a token use the browser session and POSTs then need a CSRF token."},
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR, "Thread": _THREAD, "Reply": _REPLY, "Notification": _NOTIFICATION,
                    "Attachment": _ATTACHMENT,
                    "Playbook": {"type": "object", "required": ["id", "title"]},
                    "Pattern": {"type": "object", "required": ["id", "name"]}},
    },
    "security": [{"token": []}, {}],
    "paths": {
        "/api/v1/me": {"get": _op("The caller's account", _json({"type": "object", "required": ["id", "username"]}))},
        "/api/v1/threads": {
            "get": _op("Visible threads, newest first", _json(_page("Thread")), [_LIMIT, _CURSOR]),
            "post": _op("Start a thread (JSON, or multipart/form-data with files)", _json(_ref("Thread"), "Created"),
                        body=_NEW_THREAD, multipart=_with_files(_NEW_THREAD, tags={
                            "type": "string", "description": "Comma-separated"}),
                        status="201", scope="write"),
        },
        "/api/v1/threads/{thread_id}": {"get": _op(
            "One thread with the replies the caller may see, and the files on each",
            _json({"allOf": [_ref("Thread"), {"type": "object", "required": ["replies", "attachments"], "properties": {
                "replies": {"type": "array", "items": _ref("Reply")}}}]}), [_THREAD_ID])},
        "/api/v1/threads/{thread_id}/replies": {"post": _op(
            "Reply to a thread (JSON, or multipart/form-data with files)", _json(_ref("Reply"), "Created"),
            [_THREAD_ID], body=_NEW_REPLY, multipart=_with_files(_NEW_REPLY), status="201", scope="write")},
        "/api/v1/threads/{thread_id}/attachments": {"post": _op(
            "Add files to a question the caller may edit (recorded in its revision history)", _ADDED,
            [_THREAD_ID], multipart=_ADD_FILES, status="201", scope="write")},
        "/api/v1/replies/{reply_id}/attachments": {"post": _op(
            "Add files to a reply the caller may edit (recorded in its revision history)", _ADDED,
            [{"name": "reply_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
            multipart=_ADD_FILES, status="201", scope="write")},
        "/api/v1/attachments/{attachment_id}": {
            "get": _op("A file on a post the caller sees: images inline, anything else as a download "
                       "(?view=text: text inline as text/plain)",
                       {"description": "The file, as the type its content was checked to be", "content": {
                           kind: {"schema": {"type": "string", "format": "binary"}} for kind in (
                               "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain")}},
                       [_ATTACHMENT_ID, {"name": "view", "in": "query", "schema": {"type": "string",
                                                                                   "enum": ["text"]}}]),
            "delete": _op("Take a file off its post (its uploader, the post's editors, a space moderator)",
                          {"description": "Removed"}, [_ATTACHMENT_ID], status="204", scope="write"),
        },
        "/api/v1/search": {"get": _op(
            "Search visible threads", _json({"type": "object", "required": ["items", "page", "has_next"],
                                             "properties": {"items": {"type": "array", "items": _ref("Thread")},
                                                            "page": {"type": "integer"},
                                                            "has_next": {"type": "boolean"}}}),
            [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500}},
             {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
             _LIMIT])},
        "/api/v1/playbooks": {"get": _op("Visible playbooks", _json(_page("Playbook")), [_LIMIT, _CURSOR])},
        "/api/v1/patterns": {"get": _op("Mined patterns (employees only)", _json(_page("Pattern")),
                                        [_LIMIT, _CURSOR])},
        "/api/v1/notifications": {"get": _op("The caller's inbox", _json(_page("Notification")),
                                             [_LIMIT, _CURSOR])},
        "/api/v1/notifications/{notification_id}/read": {"post": _op(
            "Mark a notification read", _json(_ref("Notification")),
            [{"name": "notification_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1}}], scope="write")},
        "/api/v1/openapi.json": {"get": _op("This document", _json({"type": "object"}))},
    },
}


@bp.get("/openapi.json")
def openapi_document():
    """The API's OpenAPI 3 document."""
    return jsonify(DOCUMENT)
