"""ApiError and the one catalogue of error codes the API can answer with."""

from __future__ import annotations

import logging
import os
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger("rejoinder")

# code -> (HTTP status, default message). Codes are stable: clients match on them.
CATALOGUE: dict[str, tuple[int, str]] = {
    "malformed_json": (400, "The request body is not valid JSON."),
    "bad_request": (400, "The request is malformed."),
    "invalid_cursor": (400, "The paging cursor is not valid."),
    "invalid_link": (400, "This link is not valid: copy it whole from the mail."),
    "auth_required": (401, "You need to be signed in for this."),
    "invalid_session": (401, "Your session has expired or was revoked."),
    "sso_invalid": (401, "This sign-in from the site is not valid."),
    "sso_expired": (401, "This sign-in from the site has expired: reload the page."),
    "link_invalid": (401, "This link is not valid: it expired, was already used, or was altered."),
    "origin_not_allowed": (403, "This site does not allow requests from that origin."),
    "edit_window_closed": (403, "The time to edit or delete this comment has passed."),
    "not_your_comment": (403, "You can only change your own comments."),
    "thread_locked": (403, "This thread is closed for new comments."),
    "forbidden": (403, "You are not allowed to do this."),
    "cannot_report_own": (403, "You cannot report your own comment."),
    "reauth_required": (403, "Sign in again first: this needs a fresh sign-in."),
    "handover_mismatch": (403, "This sign-in does not belong to you."),
    "not_site_admin": (403, "You do not administer this site."),
    "not_found": (404, "Nothing is here."),
    "handover_pending": (404, "No sign-in is waiting for you (yet, or any more)."),
    "site_not_found": (404, "This site is not registered."),
    "thread_not_found": (404, "This thread does not exist."),
    "comment_not_found": (404, "This comment does not exist."),
    "parent_not_found": (404, "The comment you reply to does not exist."),
    "subscription_not_found": (404, "This subscription no longer exists."),
    "method_not_allowed": (405, "This method is not allowed here."),
    "comment_deleted": (409, "This comment was deleted."),
    "idempotency_conflict": (409, "This Idempotency-Key was used for a different request."),
    "duplicate_comment": (409, "You already said that."),
    "proof_of_work_used": (409, "This proof of work was used already: ask for a new challenge."),
    "site_exists": (409, "A site with this id already exists."),
    "sso_used": (409, "This sign-in from the site was used already: reload the page."),
    "thread_moved": (409, "This thread's comments were moved to another thread."),
    "move_busy": (409, "The thread kept changing while it moved: try again."),
    "not_deleted": (409, "This comment is not deleted."),
    "nothing_to_restore": (409, "Its author deleted this comment and its text: there is nothing to restore."),
    "import_running": (409, "An import into this site is already running: wait for it to finish."),
    "site_busy": (409, "An import, remap or merge of this site is running: wait for it to finish."),
    "pin_not_allowed": (409, "Only a published top-level comment can be pinned."),
    "passkey_exists": (409, "This passkey is added already."),
    "link_expired": (410, "This link has expired."),
    "passkey_expired": (410, "Adding a passkey took too long or already ended: start again from the comments."),
    "body_too_large": (413, "The request body is too large."),
    "headers_too_large": (431, "The request's headers are too large."),
    "import_too_large": (413, "The file is larger than the most Rejoinder imports."),
    "unsupported_media_type": (415, "Send JSON with Content-Type: application/json."),
    "invalid_field": (422, "A field is not valid."),
    "missing_field": (422, "A required field is missing."),
    "unknown_field": (422, "The request names a field this endpoint does not take."),
    "comment_empty": (422, "The comment is empty."),
    "comment_too_long": (422, "The comment is too long."),
    "invalid_email": (422, "This email address is not valid."),
    "notify_needs_email": (422, "Notifications need an email address."),
    "proof_of_work_required": (422, "This site asks guests' comments for a proof of work."),
    "proof_of_work_invalid": (422, "The proof of work is wrong, expired or for another site."),
    "passkey_invalid": (422, "The passkey could not be checked. Please try again."),
    "same_thread": (422, "Both pages have the same thread."),
    "invalid_url": (422, "Websites must be http:// or https:// addresses."),
    "import_invalid": (422, "The file is not a WordPress (WXR) or Disqus export that can be read."),
    "import_unsafe": (422, "The file declares a DTD or XML entities; such files are refused."),
    "rate_limited": (429, "Too many requests: wait a moment and try again."),
    "unavailable": (503, "The server cannot reach its database right now; try again shortly."),
}


class ApiError(Exception):
    """A refusal the client can act on: rendered as {"error": {...}}."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        status, default = CATALOGUE[code]
        super().__init__(message or default)
        self.code = code
        self.status = status
        self.message = message or default
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def handle_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


def redis_out_of_reach(exc: BaseException) -> bool:
    """Whether `exc` means Redis cannot be reached (answer 503, retry) rather than a
    bug of ours. A connection cut under a request can surface from the client
    library as something other than ConnectionError: uvloop's RuntimeError ("the
    handler is closed") during a handshake, or AttributeError on a connection whose
    writer another task just dropped (redis-py's cluster client)."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return True
    if not isinstance(exc, (RuntimeError, AttributeError)):
        return False
    if "handler is closed" in str(exc):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}redis{os.sep}" in tb.tb_frame.f_code.co_filename


def redis_down(exc: BaseException, metrics: Any) -> ApiError:
    """The answer while Redis is out of reach (503, retry shortly), logged and counted."""
    log.warning("redis unavailable: %s", exc)
    if metrics is not None:
        metrics.redis_errors.inc()
    return ApiError("unavailable", headers={"Retry-After": "2"})
