"""A local server that speaks the Akismet REST protocol (comment-check, submit-spam, submit-ham).

Verdicts follow Akismet's documented test values: author "viagra-test-123" or
email "akismet-guaranteed-spam@example.com" is spam; anything else is ham.
A comment containing "akismet-slow" makes it answer after 10 s (a timeout);
"akismet-broken" makes it answer 500. Every call is logged for tests at /_calls.

Run: python -m tests.support.akismet_server --port P --key KEY
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from tests.support.forms import form_fields


def create_app(key: str) -> Starlette:
    calls: list[dict[str, str]] = []

    async def comment_check(request: Request) -> PlainTextResponse:
        form = await form_fields(request)
        calls.append({"endpoint": "comment-check", **{k: str(v) for k, v in form.items()}})
        if form.get("api_key") != key:
            return PlainTextResponse("invalid", headers={"X-akismet-debug-help": "Invalid API key"})
        for required in ("blog", "user_ip"):
            if not form.get(required):
                return PlainTextResponse("Missing required field: " + required, status_code=400)
        content = str(form.get("comment_content", ""))
        if "akismet-slow" in content:
            await asyncio.sleep(10)
        if "akismet-broken" in content:
            return PlainTextResponse("oops", status_code=500)
        spam = form.get("comment_author") == "viagra-test-123" or \
            form.get("comment_author_email") == "akismet-guaranteed-spam@example.com"
        return PlainTextResponse("true" if spam else "false")

    async def submit(request: Request) -> PlainTextResponse:
        """submit-spam / submit-ham: an admin corrected a verdict. Recorded for the tests
        at /_calls; a wrong key is refused as Akismet does, and "akismet-broken" in the
        content answers 500."""
        form = await form_fields(request)
        calls.append({"endpoint": request.url.path.rsplit("/", 1)[-1], **{k: str(v) for k, v in form.items()}})
        if form.get("api_key") != key:
            return PlainTextResponse("invalid", headers={"X-akismet-debug-help": "Invalid API key"})
        if "akismet-broken" in str(form.get("comment_content", "")):
            return PlainTextResponse("oops", status_code=500)
        return PlainTextResponse("Thanks for making the web a better place.")

    async def get_calls(request: Request) -> JSONResponse:
        return JSONResponse(calls)

    return Starlette(routes=[
        Route("/1.1/comment-check", comment_check, methods=["POST"]),
        Route("/1.1/submit-spam", submit, methods=["POST"]),
        Route("/1.1/submit-ham", submit, methods=["POST"]),
        Route("/_calls", get_calls),
    ])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.key), host="127.0.0.1", port=args.port, log_level="warning",
                timeout_graceful_shutdown=1)  # a "slow" answer still asleep must not hold the run up


if __name__ == "__main__":
    main()
