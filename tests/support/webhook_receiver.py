"""A webhook receiver for tests: records every POST to /hook (headers and raw body) and
answers with the next status of a plan set through /_plan (200 once the plan is used up).

Run: python -m tests.support.webhook_receiver --port P
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def create_app() -> Starlette:
    calls: list[dict[str, object]] = []
    plan: list[int] = []

    async def hook(request: Request) -> Response:
        body = await request.body()
        status = plan.pop(0) if plan else 200
        calls.append({"headers": dict(request.headers), "body": body.decode(), "answered": status})
        return Response("ok" if status < 300 else "failing on purpose", status_code=status)

    async def set_plan(request: Request) -> JSONResponse:
        plan[:] = (await request.json())["statuses"]
        calls.clear()
        return JSONResponse({"ok": True})

    async def get_calls(request: Request) -> JSONResponse:
        return JSONResponse(calls)

    return Starlette(routes=[
        Route("/hook", hook, methods=["POST"]),
        Route("/_plan", set_plan, methods=["POST"]),
        Route("/_calls", get_calls),
    ])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
