"""The OpenAPI 3 document of the API: paths, parameters and bodies written here; each operation's error
statuses taken from the error codes its handler's docstring lists (the one place they are written), so
the document says what a route really answers. Checked against the routes by a test and by Schemathesis."""

from __future__ import annotations

import inspect
import re
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .. import __version__
from ..errors import CATALOGUE
from .common import JSON


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: str, status: str = "200", description: str = "OK") -> dict[str, Any]:
    return {status: {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "Refused", "content": {"application/json": {"schema": _ref("Error")}}}
            for c in codes}


def _q(name: str, schema: dict[str, Any], required: bool = False, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _p(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


TID = _p("tid", {"type": "string", "pattern": "^[0-9a-f]{24}$"})
CID = _p("cid", {"type": "integer", "minimum": 1})
SITE = _p("site", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"})
PAGING = [_q("cursor", {"type": "string"}), _q("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
          _q("order", {"type": "string", "enum": ["oldest", "newest", "best"]})]
_HTML = {"200": {"description": "A page for the reader", "content": {"text/html": {}}}}
JSON_BODY = lambda schema: {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}  # noqa: E731

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "enum": sorted(CATALOGUE)},
            "message": {"type": "string"}, "field": {"type": "string"}}}}},
    "Author": {"type": "object", "nullable": True, "properties": {
        "name": {"type": "string"}, "website": {"type": "string", "nullable": True},
        "avatar": {"type": "string", "nullable": True}, "provider": {"type": "string", "nullable": True},
        "profile": {"type": "string", "nullable": True}}},
    "Comment": {"type": "object", "required": ["id", "status", "html", "likes"], "properties": {
        "id": {"type": "integer"}, "parent": {"type": "integer", "nullable": True},
        "reply_to": {"type": "integer", "nullable": True}, "depth": {"type": "integer"},
        "status": {"type": "string", "enum": ["approved", "pending", "deleted"]},
        "created": {"type": "string", "format": "date-time"},
        "edited": {"type": "string", "format": "date-time", "nullable": True},
        "author": _ref("Author"), "html": {"type": "string", "description": "Sanitised HTML"},
        "likes": {"type": "integer"}, "liked": {"type": "boolean"},
        "mine": {"type": "boolean", "description": "Only in the author's own view"},
        "text": {"type": "string", "description": "Markdown source; only in the author's own view"},
        "email": {"type": "string", "nullable": True, "description": "Only in the author's own view"},
        "editable_until": {"type": "string", "nullable": True},
        "remote": {"type": "object", "nullable": True, "description": "A reply brought in from Mastodon or Bluesky",
                   "properties": {"via": {"type": "string", "enum": ["mastodon", "bluesky"]},
                                  "url": {"type": "string", "nullable": True}}}}},
    "Thread": {"type": "object", "properties": {
        "id": {"type": "string"}, "site": {"type": "string"}, "page": {"type": "string"},
        "url": {"type": "string", "nullable": True}, "title": {"type": "string"},
        "count": {"type": "integer"}, "likes": {"type": "integer"}, "locked": {"type": "boolean"},
        "head": {"type": "integer", "description": "Sequence number of the thread's last event"},
        "epoch": {"type": "string"},
        "liked": {"type": "boolean", "description": "Whether this reader liked the post"},
        "remote": {"type": "object", "nullable": True, "description": "The post's counts on Mastodon (likes, boosts, "
                   "replies, url) and Bluesky (likes, reposts, quotes, replies, url)"}}},
    "ThreadPage": {"type": "object", "properties": {
        "thread": _ref("Thread"), "comments": {"type": "array", "items": _ref("Comment")},
        "replies": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "left": {"type": "integer"}, "cursor": {"type": "string"}}}},
        "next": {"type": "string", "nullable": True}, "me": {"type": "object"},
        "site": {"type": "object", "description": "The site's public settings (GET /api/threads only)"}}},
    "CommentPage": {"type": "object", "properties": {
        "comments": {"type": "array", "items": _ref("Comment")}, "next": {"type": "string", "nullable": True}}},
    "NewComment": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string", "maxLength": 10000}, "parent": {"type": "integer"},
        "name": {"type": "string", "maxLength": 80}, "email": {"type": "string", "format": "email"},
        "website": {"type": "string", "format": "uri"},
        "notify": {"type": "boolean", "description": "Mail me the thread's new comments (after I confirm by mail)"},
        "pow": {"type": "string", "description": "Guests, where the site asks: a solved challenge (ALTCHA payload)"}}},
    "EditComment": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
    "Created": {"type": "object", "properties": {
        "comment": _ref("Comment"), "thread": {"type": "object"},
        "edit_token": {"type": "string", "description": "Guests only: lets them edit or delete for a while"}}},
    "OneComment": {"type": "object", "properties": {"comment": _ref("Comment")}},
    "Like": {"type": "object", "properties": {
        "target": {"type": "string"}, "likes": {"type": "integer"}, "liked": {"type": "boolean"}}},
    "Counts": {"type": "object", "properties": {"counts": {"type": "object", "additionalProperties": {"type": "integer"}}}},
    "CountsRequest": {"type": "object", "required": ["site", "pages"], "properties": {
        "site": {"type": "string"}, "pages": {"type": "array", "maxItems": 100, "items": {"type": "string"}}}},
    "Site": {"type": "object", "properties": {"site": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "moderation": {"type": "string"},
        "providers": {"type": "array", "items": _ref("ProviderInfo")},
        "akismet": {"type": "boolean", "description": "Show 'This site uses Akismet to reduce spam'"},
        "notifications": {"type": "boolean", "description": "Offer 'Notify me of new comments via email'"},
        "pow": {"type": "boolean", "description": "Guests' comments need a proof of work"}}}}},
    "Challenge": {"type": "object", "properties": {"challenge": {"type": "object", "properties": {
        "algorithm": {"type": "string"}, "challenge": {"type": "string"}, "maxnumber": {"type": "integer"},
        "salt": {"type": "string"}, "signature": {"type": "string"}}}}},
    "ProviderInfo": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
    "Providers": {"type": "object", "properties": {"providers": {"type": "array", "items": _ref("ProviderInfo")}}},
    "Me": {"type": "object", "properties": {"me": {"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["user", "guest"]}, "name": {"type": "string"},
        "avatar": {"type": "string", "nullable": True}, "provider": {"type": "string"},
        "profile": {"type": "string", "nullable": True}, "email": {"type": "string", "nullable": True}}}}},
    "Handover": {"type": "object", "required": ["secret"], "properties": {
        "secret": {"type": "string", "minLength": 32, "maxLength": 128,
                   "description": "The secret whose SHA-256 (base64url) started the login as ?h="},
        "code": {"type": "string", "description": "The code the popup posted, if it could"}}},
    "Session": {"type": "object", "properties": {"token": {"type": "string"}, "me": {"type": "object"}}},
    "AdminLink": {"type": "object", "required": ["token"], "properties": {
        "token": {"type": "string", "description": "The token from the fragment of a `rejoinder admin token` link"}}},
    "AdminMe": {"type": "object", "properties": {
        "token": {"type": "string", "description": "Only when exchanging a one-time link"},
        "me": {"type": "object", "properties": {"name": {"type": "string"}, "provider": {"type": "string"},
                                                "identity": {"type": "string"}}},
        "sites": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}}}}}},
    "AdminSite": {"type": "object", "properties": {"site": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "origins": {"type": "array", "items": {"type": "string"}},
        "moderation": {"type": "string", "enum": ["publish", "hold_first_guests", "hold_all", "hold_links"]},
        "blocklist": {"type": "array", "items": {"type": "string"}},
        "policies": {"type": "array", "items": {"type": "string"}}}},
        "counts": {"type": "object", "properties": {"pending": {"type": "integer"}, "spam": {"type": "integer"},
                                                    "reported": {"type": "integer"}}}}},
    "AdminSiteUpdate": {"type": "object", "properties": {
        "moderation": {"type": "string", "enum": ["publish", "hold_first_guests", "hold_all", "hold_links"]},
        "blocklist": {"type": "array", "maxItems": 200, "items": {"type": "string", "maxLength": 100}},
        "pow": {"type": "boolean", "description": "Guests' comments need a proof of work"},
        "hold_reports": {"type": "integer", "minimum": 0, "maximum": 1000,
                         "description": "Readers' reports that hold a comment for an admin (0: never)"},
        "reactions": {"type": "array", "maxItems": 10, "items": {"type": "string"},
                      "description": "The emoji readers may react with ([] for none)"},
        "typing": {"type": "boolean", "description": "Readers see \"someone is replying\""},
        "stylesheet": {"type": "string", "description": "A stylesheet on one of the site's origins, applied inside "
                                                        "the comments (\"\" for none)"},
        "remote_authors": {"type": "array", "maxItems": 10, "items": {"type": "string"},
                           "description": "The site's own Mastodon profile URLs, Bluesky handles or DIDs: a page may "
                                          "name their posts (data-mastodon, data-bluesky)"}}},
    "AdminComment": {"type": "object", "properties": {
        "tid": {"type": "string"}, "id": {"type": "integer"}, "parent": {"type": "integer", "nullable": True},
        "status": {"type": "string", "enum": ["approved", "pending", "spam", "rejected", "deleted"]},
        "created": {"type": "string", "format": "date-time"}, "author": _ref("Author"),
        "html": {"type": "string", "description": "Sanitised HTML"},
        "identity": {"type": "string", "nullable": True, "description": "The commenter's identity key"},
        "email_hash": {"type": "string", "nullable": True,
                       "description": "A keyed hash of the email address (never the address)"},
        "ip_hash": {"type": "string", "nullable": True}, "reasons": {"type": "array", "items": {"type": "string"}},
        "restorable": {"type": "boolean"}, "pinned": {"type": "boolean"},
        "thread": {"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string", "nullable": True},
            "locked": {"type": "boolean"}, "pinned": {"type": "integer", "nullable": True}}}}},
    "AdminComments": {"type": "object", "properties": {
        "comments": {"type": "array", "items": _ref("AdminComment")}, "next": {"type": "string", "nullable": True},
        "scanned": {"type": "integer"}}},
    "AdminAction": {"type": "object", "properties": {
        "comment": _ref("AdminComment"), "changed": {"type": "boolean"},
        "akismet": {"type": "string", "nullable": True, "enum": ["sent", "failed", "off", None]}}},
    "Bulk": {"type": "object", "required": ["action", "items"], "properties": {
        "action": {"type": "string", "enum": ["approve", "reject", "spam", "ham", "delete", "restore"]},
        "items": {"type": "array", "maxItems": 100, "items": {"type": "object", "properties": {
            "tid": {"type": "string"}, "cid": {"type": "integer"}}}}}},
    "BulkResults": {"type": "object", "properties": {"results": {"type": "array", "items": {"type": "object"}}}},
    "ThreadFlags": {"type": "object", "properties": {
        "locked": {"type": "boolean"}, "pinned": {"type": "integer", "nullable": True},
        "mastodon": {"type": "string", "nullable": True, "description": "Follow this Mastodon status's replies"},
        "bluesky": {"type": "string", "nullable": True, "description": "Follow this Bluesky post's replies"}}},
    "AdminThread": {"type": "object", "properties": {"thread": {"type": "object"}}},
    "Ban": {"type": "object", "required": ["kind"], "properties": {
        "kind": {"type": "string", "enum": ["identity", "email", "ip"]},
        "value": {"type": "string", "description": "An identity key, email hash or IP hash from a comment"},
        "email": {"type": "string", "description": "kind email only: an address, stored as its keyed hash"},
        "note": {"type": "string", "maxLength": 200}}},
    "Bans": {"type": "object", "properties": {"bans": {"type": "array", "items": {"type": "object"}}}},
    "WebhookUrl": {"type": "object", "required": ["url"], "properties": {
        "url": {"type": "string", "format": "uri", "maxLength": 2000, "description": "http:// or https://"}}},
    "Webhook": {"type": "object", "properties": {"webhook": {"type": "object", "properties": {
        "url": {"type": "string", "nullable": True}, "enabled": {"type": "boolean"},
        "since": {"type": "string", "format": "date-time", "nullable": True},
        "secret": {"type": "string", "description": "PUT only: the new signing secret, shown this once"},
        "log": {"type": "array", "description": "Delivery attempts, newest first", "items": {
            "type": "object", "properties": {
                "time": {"type": "string", "format": "date-time"}, "event": {"type": "string"},
                "id": {"type": "string"}, "attempt": {"type": "integer"},
                "status": {"type": "integer", "nullable": True}, "error": {"type": "string", "nullable": True},
                "duration_ms": {"type": "number"}}}}}}}},
    "Reaction": {"type": "object", "properties": {
        "target": {"type": "integer"}, "emoji": {"type": "string"}, "count": {"type": "integer"},
        "reacted": {"type": "boolean"}}},
    "Reactions": {"type": "object", "properties": {
        "reactions": {"type": "object", "description": "comment id -> {emoji: count}"},
        "mine": {"type": "array", "items": {"type": "string"}, "description": "\"<comment id>|<emoji>\""}}},
    "Sso": {"type": "object", "properties": {"sso": {"type": "object", "properties": {
        "enabled": {"type": "boolean"}, "secret": {"type": "string", "description": "PUT only, shown this once"}}}}},
    "Overview": {"type": "object", "properties": {
        "days": {"type": "array", "description": "New comments per UTC day, oldest first, by the status they "
                 "arrived with", "items": {"type": "object", "properties": {
                     "day": {"type": "string", "format": "date"}, "approved": {"type": "integer"},
                     "pending": {"type": "integer"}, "spam": {"type": "integer"}}}},
        "totals": {"type": "object"},
        "caught": {"type": "array", "description": "Each rule or service that held or caught new comments",
                   "items": {"type": "object", "properties": {"reason": {"type": "string"},
                                                              "comments": {"type": "integer"}}}},
        "busiest": {"type": "array", "description": "The threads with most new comments in the last 7 days",
                    "items": {"type": "object"}},
        "readers_now": {"type": "integer"},
        "deliveries": {"type": "object", "description": "Mail and webhook attempts and their success rates"}}},
    "Remap": {"type": "object", "required": ["rules"], "properties": {
        "rules": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"oneOf": [
            {"type": "object", "required": ["from", "to"], "additionalProperties": False, "description": "A prefix",
             "properties": {"from": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "to": {"type": "string", "maxLength": 1024}}},
            {"type": "object", "required": ["page", "to"], "additionalProperties": False, "description": "One page",
             "properties": {"page": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "to": {"type": "string", "minLength": 1, "maxLength": 1024}}},
            {"type": "object", "required": ["pattern", "replace"], "additionalProperties": False,
             "description": "A regular expression and its replacement (\\1 for a group)",
             "properties": {"pattern": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "replace": {"type": "string", "maxLength": 1024}}}]}},
        "dry_run": {"type": "boolean", "default": True},
        "merge": {"type": "boolean", "default": False, "description": "Merge into new pages that have comments"}}},
    "RemapResult": {"type": "object", "properties": {
        "dry_run": {"type": "boolean"}, "summary": {"type": "object"},
        "threads": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "page": {"type": "string"}, "to_page": {"type": "string"},
            "to_id": {"type": "string"},
            "action": {"type": "string", "enum": ["move", "merge", "url", "collision", "refused"]},
            "reason": {"type": "string"}, "result": {"type": "string"}}}}}},
    "Merge": {"type": "object", "required": ["from", "into"], "properties": {
        "from": {"type": "string", "description": "The page (URL or id) whose thread moves"},
        "into": {"type": "string", "description": "The page (URL or id) whose thread takes its comments"},
        "dry_run": {"type": "boolean", "default": False}}},
    "MergeResult": {"type": "object", "properties": {
        "dry_run": {"type": "boolean"}, "from": _ref("Thread"), "into": _ref("Thread"),
        "moved_comments": {"type": "integer"}}},
    "ImportReport": {"type": "object", "properties": {
        "report": {"type": "object", "description": "What `rejoinder import` prints: counts, threads written, "
                                                    "every comment skipped or changed and why"},
        "summary": {"type": "string"}, "seconds": {"type": "number"}}},
    "ImportStatus": {"type": "object", "required": ["running", "progress"], "properties": {
        "running": {"type": "boolean", "description": "An import into the site holds its lock (dashboard or CLI)"},
        "progress": {"type": "object", "nullable": True, "required": ["phase"], "properties": {
            "phase": {"type": "string", "enum": ["receiving", "checking", "writing"]},
            "bytes": {"type": "integer"}, "threads_done": {"type": "integer"}, "threads_total": {"type": "integer"},
            "comments_done": {"type": "integer"}, "comments_total": {"type": "integer"},
            "writing_ms": {"type": "integer"}}}}},
}

PATHS: dict[str, Any] = {
    "/api/threads": {"get": {
        "summary": "The thread of a page with its first page of comments (creates the thread record on first sight)",
        "parameters": [_q("site", {"type": "string"}, True), _q("page", {"type": "string"}, True,
                       "Page id or URL"), _q("title", {"type": "string"}), _q("url", {"type": "string"}),
                       _q("mastodon", {"type": "string"}, False, "The post's Mastodon status URL: its replies come "
                          "into the thread (a post of one of the site's own accounts)"),
                       _q("bluesky", {"type": "string"}, False, "The post on Bluesky (at:// URI or its page)"),
                       *PAGING],
        "responses": {**_ok("ThreadPage"), **_errors(401, 403, 404, 422)}}},
    "/api/threads/{tid}": {"get": {
        "summary": "A thread and a page of its comments", "parameters": [TID, *PAGING],
        "responses": {**_ok("ThreadPage"), **_errors(400, 403, 404, 422)}}},
    "/api/threads/{tid}/stream": {"get": {
        "summary": "The thread's live events as Server-Sent Events (where websockets are blocked)",
        "parameters": [TID, _q("since", {"type": "integer", "minimum": 0}, False, "Last event seen"),
                       _q("epoch", {"type": "string"}, False, "The thread's epoch, from its first page")],
        "responses": {"200": {"description": "The websocket's messages, one per event",
                              "content": {"text/event-stream": {}}}, **_errors(401, 403, 404, 429)}}},
    "/api/threads/{tid}/comments": {"post": {
        "summary": "Post a comment or reply", "parameters": [TID, {"name": "Idempotency-Key", "in": "header",
                                                                   "schema": {"type": "string", "maxLength": 200}}],
        "requestBody": JSON_BODY("NewComment"),
        "responses": {**_ok("Created", "201", "Created"), **_ok("Created", "200", "A retry with the same Idempotency-Key"),
                      **_errors(400, 401, 403, 404, 409, 413, 415, 422, 429)}}},
    "/api/threads/{tid}/comments/{cid}": {
        "get": {"summary": "One comment", "parameters": [TID, CID],
                "responses": {**_ok("OneComment"), **_errors(403, 404)}},
        "patch": {"summary": "Edit your comment", "parameters": [TID, CID], "requestBody": JSON_BODY("EditComment"),
                  "responses": {**_ok("OneComment"), **_errors(400, 403, 404, 409, 413, 415, 422, 429)}},
        "delete": {"summary": "Delete your comment", "parameters": [TID, CID],
                   "responses": {**_ok("OneComment"), **_errors(403, 404, 409, 429)}}},
    "/api/threads/{tid}/comments/{cid}/replies": {"get": {
        "summary": "More replies under a top-level comment", "parameters": [TID, CID, PAGING[0], PAGING[1]],
        "responses": {**_ok("CommentPage"), **_errors(400, 403, 404)}}},
    "/api/threads/{tid}/comments/{cid}/like": {
        "put": {"summary": "Like a comment", "parameters": [TID, CID], "responses": {**_ok("Like"), **_errors(403, 404, 409, 422, 429)}},
        "delete": {"summary": "Unlike a comment", "parameters": [TID, CID], "responses": {**_ok("Like"), **_errors(403, 404, 409, 422, 429)}}},
    "/api/threads/{tid}/comments/{cid}/reactions": {
        "put": {"summary": "React to a comment with one of the site's emoji (once per reader)",
                "parameters": [TID, CID, _q("emoji", {"type": "string"}, True)],
                "responses": {**_ok("Reaction"), **_errors(403, 404, 409, 422, 429)}},
        "delete": {"summary": "Take a reaction back", "parameters": [TID, CID, _q("emoji", {"type": "string"}, True)],
                   "responses": {**_ok("Reaction"), **_errors(403, 404, 409, 422, 429)}}},
    "/api/threads/{tid}/typing": {"post": {
        "summary": "The caller is typing in the thread (sites that show \"someone is replying\")",
        "parameters": [TID], "responses": {"200": {"description": "Noted", "content": {"application/json": {}}},
                                           **_errors(403, 404, 422)}}},
    "/api/threads/{tid}/reactions": {"get": {
        "summary": "Every comment's reaction counts, and the caller's own", "parameters": [TID],
        "responses": {**_ok("Reactions"), **_errors(401, 403, 404)}}},
    "/api/threads/{tid}/comments/{cid}/report": {"post": {
        "summary": "Report a published comment to the site's admins (one report per reader; held at the site's "
                   "hold_reports)",
        "parameters": [TID, CID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {
                "reason": {"type": "string", "enum": ["spam", "abuse", "off_topic", "other"]}}}}}},
        "responses": {"200": {"description": "Reported", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"reported": {"type": "boolean"}}}}}},
            **_errors(400, 401, 403, 404, 409, 415, 422, 429)}}},
    "/api/threads/{tid}/like": {
        "put": {"summary": "Like the post", "parameters": [TID], "responses": {**_ok("Like"), **_errors(403, 404, 422, 429)}},
        "delete": {"summary": "Unlike the post", "parameters": [TID], "responses": {**_ok("Like"), **_errors(403, 404, 422, 429)}}},
    "/api/counts": {
        "get": {"summary": "Comment counts of up to 100 pages", "parameters": [
            _q("site", {"type": "string"}, True), _q("page", {"type": "array", "items": {"type": "string"}}, True)],
            "responses": {**_ok("Counts"), **_errors(403, 404, 422)}},
        "post": {"summary": "Comment counts of up to 100 pages", "requestBody": JSON_BODY("CountsRequest"),
                 "responses": {**_ok("Counts"), **_errors(400, 403, 404, 413, 415, 422)}}},
    "/api/sites/{site}": {"get": {"summary": "Public settings of a site", "parameters": [_p("site", {"type": "string"})],
                                  "responses": {**_ok("Site"), **_errors(403, 404)}}},
    "/api/sites/{site}/challenge": {"get": {
        "summary": "A proof-of-work challenge for a guest's next comment (sites that ask for one)",
        "parameters": [_p("site", {"type": "string"})], "responses": _ok("Challenge")}},
    "/api/avatars/{name}": {"get": {"summary": "A generated guest avatar (SVG)", "parameters": [_p("name", {"type": "string"})],
                                    "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {}}}, **_errors(404)}}},
    "/api/auth/handover": {"post": {
        "summary": "Collect the session of a login this iframe started (once; 60 s)",
        "requestBody": JSON_BODY("Handover"),
        "responses": {**_ok("Session"), **_errors(400, 403, 404, 415, 422)}}},
    "/api/auth/me": {"get": {"summary": "The signed-in reader", "security": [{"session": []}],
                             "responses": {**_ok("Me"), **_errors(401)}},
                     "delete": {"summary": "Delete the reader's account and their comments on the site ({\"confirm\": true})",
                                "security": [{"session": []}], "parameters": [_q("site", {"type": "string"}, True)],
                                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                                    "type": "object", "required": ["confirm"],
                                    "properties": {"confirm": {"type": "boolean", "enum": [True]}}}}}},
                                "responses": {"200": {"description": "What went", "content": {"application/json": {}}},
                                              **_errors(400, 401, 403, 404, 415, 422)}}},
    "/api/auth/logout": {"post": {"summary": "Revoke this session", "security": [{"session": []}],
                                  "responses": {**_ok("Me"), **_errors(401)}}},
    "/api/auth/providers": {"get": {"summary": "Enabled sign-in providers",
                                    "parameters": [_q("site", {"type": "string"}, True)],
                                    "responses": {**_ok("Providers"), **_errors(403, 404)}}},
    "/api/avatars/u/{digest}": {"get": {"summary": "A signed-in reader's avatar, copied from their provider",
                                        "parameters": [_p("digest", {"type": "string"})],
                                        "responses": {"200": {"description": "image"}, **_errors(404)}}},
    "/api/notify/confirm": {
        "get": {"summary": "Link from a confirmation mail: a page with a button that confirms",
                "parameters": [_q("token", {"type": "string"}, True, "Signed; expires")],
                "responses": {**_HTML, **_errors(400, 404, 410)}},
        "post": {"summary": "Confirm a subscription to a thread's new comments",
                 "parameters": [_q("token", {"type": "string"}, True, "Signed; expires")],
                 "responses": {**_HTML, **_errors(400, 404, 410)}}},
    "/api/notify/unsubscribe": {
        "get": {"summary": "Link from a mail: a page with a button that unsubscribes",
                "parameters": [_q("token", {"type": "string"}, True, "Signed")],
                "responses": {**_HTML, **_errors(400, 404, 410)}},
        "post": {"summary": "Unsubscribe (RFC 8058 one-click: body List-Unsubscribe=One-Click); repeatable",
                 "parameters": [_q("token", {"type": "string"}, True, "Signed")],
                 "responses": {**_HTML, **_errors(400, 404, 410)}}},
    "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.0"}}}},
    "/api/admin/session": {"post": {
        "summary": "Exchange a one-time admin link for a session (once)", "requestBody": JSON_BODY("AdminLink"),
        "responses": {**_ok("AdminMe"), **_errors(400, 401, 403, 415, 422)}}},
    "/api/admin/providers": {"get": {"summary": "Sign-in providers for the dashboard",
                                     "responses": _ok("Providers")}},
    "/api/admin/me": {"get": {"summary": "The signed-in admin and the sites they administer",
                              "security": [{"session": []}], "responses": {**_ok("AdminMe"), **_errors(401, 403)}}},
    "/api/admin/sites/{site}": {
        "get": {"summary": "A site's moderation settings and queue sizes", "security": [{"session": []}],
                "parameters": [SITE], "responses": {**_ok("AdminSite"), **_errors(401, 403, 404)}},
        "patch": {"summary": "Set the moderation policy and blocked words", "security": [{"session": []}],
                  "parameters": [SITE], "requestBody": JSON_BODY("AdminSiteUpdate"),
                  "responses": {**_ok("AdminSite"), **_errors(400, 401, 403, 404, 415, 422)}}},
    "/api/admin/sites/{site}/comments": {"get": {
        "summary": "Pending, spam or recent comments, newest first; search by text or author",
        "security": [{"session": []}],
        "parameters": [SITE, _q("list", {"type": "string", "enum": ["pending", "spam", "recent", "reported"]}),
                       _q("q", {"type": "string"}, description="Text to find in the comment"),
                       _q("author", {"type": "string"}, description="Name part, or an identity, email hash or IP hash"),
                       _q("cursor", {"type": "string"}), _q("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
        "responses": {**_ok("AdminComments"), **_errors(400, 401, 403, 422)}}},
    "/api/admin/sites/{site}/comments/{tid}/{cid}/{action}": {"post": {
        "summary": "Approve, reject, mark spam, mark not spam (ham), delete or restore a comment",
        "security": [{"session": []}],
        "parameters": [SITE, TID, CID, _p("action", {"type": "string", "enum": [
            "approve", "reject", "spam", "ham", "delete", "restore"]})],
        "responses": {**_ok("AdminAction"), **_errors(401, 403, 404, 409)}}},
    "/api/admin/sites/{site}/bulk": {"post": {
        "summary": "One action on up to 100 comments", "security": [{"session": []}], "parameters": [SITE],
        "requestBody": JSON_BODY("Bulk"), "responses": {**_ok("BulkResults"), **_errors(400, 401, 403, 415, 422)}}},
    "/api/admin/sites/{site}/threads/{tid}": {"patch": {
        "summary": "Lock or unlock a thread; pin or unpin a comment", "security": [{"session": []}],
        "parameters": [SITE, TID], "requestBody": JSON_BODY("ThreadFlags"),
        "responses": {**_ok("AdminThread"), **_errors(400, 401, 403, 404, 409, 415, 422)}}},
    "/api/admin/sites/{site}/bans": {
        "get": {"summary": "The site's bans", "security": [{"session": []}], "parameters": [SITE],
                "responses": {**_ok("Bans"), **_errors(401, 403)}},
        "post": {"summary": "Ban an identity, email hash or IP hash: their new comments go to spam",
                 "security": [{"session": []}], "parameters": [SITE], "requestBody": JSON_BODY("Ban"),
                 "responses": {"201": {"description": "Banned"}, **_errors(400, 401, 403, 415, 422)}}},
    "/api/admin/sites/{site}/bans/{kind}/{value}": {"delete": {
        "summary": "Lift a ban", "security": [{"session": []}],
        "parameters": [SITE, _p("kind", {"type": "string", "enum": ["identity", "email", "ip"]}),
                       _p("value", {"type": "string"})],
        "responses": {**_ok("Bans"), **_errors(401, 403, 404)}}},
    "/api/admin/sites/{site}/webhook": {
        "get": {"summary": "The site's webhook URL and its delivery log (never the secret)",
                "security": [{"session": []}],
                "parameters": [SITE, _q("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
                "responses": {**_ok("Webhook"), **_errors(401, 403, 422)}},
        "put": {"summary": "Send the site's public events to this URL, signed with a new secret (returned once)",
                "security": [{"session": []}], "parameters": [SITE], "requestBody": JSON_BODY("WebhookUrl"),
                "responses": {**_ok("Webhook"), **_errors(400, 401, 403, 415, 422)}},
        "delete": {"summary": "Turn the webhook off (the delivery log stays)", "security": [{"session": []}],
                   "parameters": [SITE], "responses": {**_ok("Webhook"), **_errors(401, 403)}}},
    "/api/feeds/threads/{tid}.atom": {"get": {
        "summary": "Atom feed of the thread's newest published comments (ETag and Last-Modified; 304 when unchanged)",
        "parameters": [TID], "responses": {"200": {"description": "An Atom feed", "content": {
            "application/atom+xml": {}}}, "304": {"description": "Not modified"}, **_errors(404)}}},
    "/api/feeds/sites/{site}.atom": {"get": {
        "summary": "Atom feed of the site's newest published comments on any thread",
        "parameters": [SITE], "responses": {"200": {"description": "An Atom feed", "content": {
            "application/atom+xml": {}}}, "304": {"description": "Not modified"}, **_errors(404)}}},
    "/api/admin/sites/{site}/sso": {
        "get": {"summary": "Whether the site signs its members in (never the secret)", "security": [{"session": []}],
                "parameters": [SITE], "responses": {**_ok("Sso"), **_errors(401, 403)}},
        "put": {"summary": "A new single sign-on secret, returned this once", "security": [{"session": []}],
                "parameters": [SITE], "responses": {**_ok("Sso"), **_errors(401, 403)}},
        "delete": {"summary": "Turn single sign-on off", "security": [{"session": []}],
                   "parameters": [SITE], "responses": {**_ok("Sso"), **_errors(401, 403)}}},
    "/api/auth/me/data": {"get": {
        "summary": "Everything held about the signed-in reader on the site: account, comments, likes, reactions",
        "security": [{"session": []}], "parameters": [_q("site", {"type": "string"}, True)],
        "responses": {"200": {"description": "Their data (JSON attachment)", "content": {"application/json": {}}},
                      **_errors(401, 403, 404, 429)}}},
    "/api/auth/passkeys": {
        "get": {"summary": "The signed-in reader's passkeys: when each was added and last used (never a key)",
                "security": [{"session": []}], "parameters": [_q("site", {"type": "string"}, True)],
                "responses": {"200": {"description": "Their passkeys", "content": {"application/json": {}}},
                              **_errors(401, 403, 404, 429)}},
        "post": {"summary": "From the passkey popup: keep the passkey the browser made (PublicKeyCredential JSON); "
                            "uses the ticket up",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["ticket", "credential"], "properties": {
                         "ticket": {"type": "string"}, "credential": {"type": "object"}}}}}},
                 "responses": {"201": {"description": "The passkey", "content": {"application/json": {}}},
                               **_errors(400, 403, 404, 409, 410, 415, 422)}}},
    "/api/auth/passkeys/ticket": {"post": {
        "summary": "Leave for the passkey popup to add a passkey to the signed-in reader (five minutes, once; only a "
                   "session the comments frame keeps itself)",
        "security": [{"session": []}], "parameters": [_q("site", {"type": "string"}, True)],
        "responses": {"201": {"description": "A ticket, handed to the popup by postMessage",
                              "content": {"application/json": {}}}, **_errors(401, 403, 404, 429)}}},
    "/api/auth/passkeys/options": {"post": {
        "summary": "From the passkey popup: the options for navigator.credentials.create()",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["ticket"], "properties": {"ticket": {"type": "string"}}}}}},
        "responses": {"200": {"description": "The creation options (WebAuthn JSON)", "content": {"application/json": {}}},
                      **_errors(400, 403, 404, 410, 415, 422)}}},
    "/api/auth/passkeys/{credential}": {"delete": {
        "summary": "Remove one of the signed-in reader's passkeys", "security": [{"session": []}],
        "parameters": [_p("credential", {"type": "string"}), _q("site", {"type": "string"}, True)],
        "responses": {"200": {"description": "Removed", "content": {"application/json": {}}},
                      **_errors(401, 403, 404, 429)}}},
    "/api/auth/sso": {"post": {
        "summary": "Trade the blog's signed token for its member (HS256 JWT: aud, sub, name, iat, exp, jti) "
                   "for a reader session of the site, once",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["site", "token"], "properties": {
                "site": {"type": "string"}, "token": {"type": "string", "maxLength": 4096},
                "keep": {"type": "string", "enum": ["frame", "page"]}}}}}},
        "responses": {"200": {"description": "A session", "content": {"application/json": {}}},
                      **_errors(400, 401, 403, 404, 409, 415, 422)}}},
    "/api/admin/sites/{site}/remap": {"post": {
        "summary": "Move threads to new pages by prefix or pattern (a dry run by default: what would move or collide)",
        "security": [{"session": []}], "parameters": [SITE], "requestBody": JSON_BODY("Remap"),
        "responses": {**_ok("RemapResult"), **_errors(400, 401, 403, 409, 415, 422)}}},
    "/api/admin/sites/{site}/merge": {"post": {
        "summary": "Move every comment, reply and like of one page's thread into another's",
        "security": [{"session": []}], "parameters": [SITE], "requestBody": JSON_BODY("Merge"),
        "responses": {**_ok("MergeResult"), **_errors(400, 401, 403, 404, 409, 415, 422)}}},
    "/api/admin/sites/{site}/overview": {"get": {
        "summary": "The site at a glance: new comments per day, spam caught, busiest threads, readers now, deliveries",
        "security": [{"session": []}],
        "parameters": [SITE, _q("days", {"type": "integer", "enum": [7, 30, 365]})],
        "responses": {**_ok("Overview"), **_errors(401, 403, 422)}}},
    "/api/admin/sites/{site}/export": {"get": {
        "summary": "Download the site's comments as JSON or WXR (an attachment, streamed; no email addresses)",
        "security": [{"session": []}],
        "parameters": [SITE, _q("format", {"type": "string", "enum": ["json", "wxr"]})],
        "responses": {"200": {"description": "The export file", "content": {
            "application/json": {}, "application/rss+xml": {}}}, **_errors(401, 403, 422)}}},
    "/api/admin/sites/{site}/import": {"get": {
        "summary": "Whether an import into the site is running (from the dashboard or the CLI) and how far it has got",
        "security": [{"session": []}], "parameters": [SITE],
        "responses": {**_ok("ImportStatus"), **_errors(401, 403)}}, "post": {
        "summary": "Import a WordPress (WXR) or Disqus export sent as the body; a bad file imports nothing",
        "security": [{"session": []}],
        "parameters": [SITE, _q("format", {"type": "string", "enum": ["wxr", "disqus"]},
                                description="Found from the file when left out"),
                       _q("threads", {"type": "string", "enum": ["url", "id"]},
                          description="Key threads by URL (default) or by post id / Disqus identifier")],
        "requestBody": {"required": True, "content": {"application/xml": {}, "application/octet-stream": {}}},
        "responses": {**_ok("ImportReport"), **_errors(401, 403, 409, 413, 422)}}},
}

# Answers any route can give, whatever its handler says: a head too big for the server (431), and the
# database out of reach (503; every route but this document's uses it).
ALWAYS = ("headers_too_large", "unavailable")
# What reading a JSON body adds (api/common.read_json, the body cap in middleware.Edge).
WITH_BODY = ("malformed_json", "body_too_large", "unsupported_media_type")
_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def documented_codes(handler: Any) -> list[str]:
    """The error codes a handler's docstring names (its "Errors:" list and any it names in prose)."""
    return [code for code in dict.fromkeys(_CODE.findall(inspect.getdoc(handler) or "")) if code in CATALOGUE]


def _operation(path: str, method: str, spec: dict[str, Any], handler: Any) -> dict[str, Any]:
    codes = list(documented_codes(handler))
    if path != "/api/openapi.json":
        codes += ALWAYS
    if "requestBody" in spec:
        codes += WITH_BODY
    responses = {k: v for k, v in spec["responses"].items() if not k.startswith(("4", "5"))}
    statuses = sorted({CATALOGUE[c][0] for c in codes})
    return {**spec, "responses": {**responses, **_errors(*statuses)}}


def document(routes: list[Any]) -> dict[str, Any]:
    """The OpenAPI document for these routes (the app's): every path above, its error statuses from its handlers."""
    handlers = {(r.path, m.lower()): r.endpoint for r in routes
                if isinstance(r, Route) and r.path in PATHS for m in (r.methods or ())}
    paths = {path: {method: _operation(path, method, spec, handlers[(path, method)]) if (path, method) in handlers
                    else spec for method, spec in ops.items()} for path, ops in PATHS.items()}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Rejoinder API", "version": __version__,
                 "description": "Comments, replies and likes for blogs. "
                                "Errors are {\"error\": {\"code\", \"message\", \"field\"}}."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"session": {"type": "http", "scheme": "bearer"}}},
    }


_built: dict[int, dict[str, Any]] = {}


async def get_openapi(request: Request) -> JSON:
    """GET /api/openapi.json: this API's OpenAPI 3 document."""
    routes = request.app.router.routes
    if id(routes) not in _built:
        _built[id(routes)] = document(routes)
    return JSON(_built[id(routes)])


routes = [Route("/api/openapi.json", get_openapi, methods=["GET"], name="openapi:get")]
