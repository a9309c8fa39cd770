"""SiteSteps: the small writes in a site's slot around each thread write, sent together.

A comment takes two steps in its site's hash slot besides its thread's write:
counting the write against the caller's limits (with the ban check) before it,
and announcing it on the site's feed after it. Each is one run of
site_steps.lua. While a run for a site is on its way to Redis, the steps other
requests ask for on that site wait and go together in the next run: under load
a comment's two site steps share round trips (and the client's and Redis's
per-call work) with its neighbours'; alone, a step goes at once.

Each step is as atomic as before and fails on its own (one run holds several,
in order). A step waits for the run in flight, and behind 64 others at most per
run ahead of it. A run that gets no answer within RUN_TIMEOUT fails its steps
with a timeout (503 for their requests) and the next run goes, so one stuck
connection cannot hold up a site's writes.

Like any command, a run whose answer was lost to a dropped connection is sent
again by the client's retry: its counts then count twice and its announcements
appear twice on the feed. Feed readers take an entry as "look at this thread"
(they read the thread's own log from their cursor), so a repeat changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .scripts import source

MAX_BATCH = 64  # steps per run; the rest wait for the next one
RUN_TIMEOUT = 5.0  # seconds: as long as a request waits for a pooled connection


class _Step:
    __slots__ = ("name", "keys", "args", "future")

    def __init__(self, name: str, keys: list[str], args: list[Any], future: asyncio.Future[Any]) -> None:
        self.name, self.keys, self.args, self.future = name, keys, args, future


class SiteSteps:
    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(source("site_steps"))
        # site -> steps waiting for the next run; a site is here while a run of its is on the way
        self._waiting: dict[str, list[_Step]] = {}
        self._pumps: set[asyncio.Task[None]] = set()

    async def run(self, site: str, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run step `name` (a function of site_steps.lua) with `keys`, all in the site's slot; its reply."""
        step = _Step(name, keys, args, asyncio.get_running_loop().create_future())
        waiting = self._waiting.get(site)
        if waiting is not None:
            waiting.append(step)
            return await step.future
        self._waiting[site] = []
        try:
            await self._send([step])
        finally:
            # Whatever queued behind this run goes next, in a task of its own, so this
            # request answers now (and a cancelled one still hands the queue on).
            rest = self._waiting[site]
            if rest:
                self._waiting[site] = []
                pump = asyncio.get_running_loop().create_task(self._pump(site, rest))
                self._pumps.add(pump)
                pump.add_done_callback(self._pumps.discard)
            else:
                del self._waiting[site]
        return step.future.result()

    async def _pump(self, site: str, batch: list[_Step]) -> None:
        try:
            while batch:
                await self._send(batch[:MAX_BATCH])
                batch = batch[MAX_BATCH:] + self._waiting[site]
                self._waiting[site] = []
        finally:
            # Only when this task is cancelled (shutdown) is anything left here.
            for step in batch + self._waiting.pop(site, []):
                step.future.cancel()

    async def _send(self, batch: list[_Step]) -> None:
        """One script run for `batch`; every step's future gets its reply or its error."""
        batch = [step for step in batch if not step.future.done()]  # callers that gave up: skip
        if not batch:
            return
        try:
            keys: list[str] = []
            args: list[Any] = []
            for step in batch:
                keys.extend(step.keys)
                args.extend((step.name, len(step.keys), len(step.args), *step.args))
            async with asyncio.timeout(RUN_TIMEOUT):
                replies = await self._script(keys=keys, args=args)
            if not isinstance(replies, list) or len(replies) != len(batch):
                raise ResponseError(f"site_steps: {len(batch)} steps, reply {replies!r:.200}")
        except TimeoutError:
            self._fail(batch, RedisTimeoutError(f"No answer from Redis in {RUN_TIMEOUT:g} s."))
            return
        except Exception as error:
            self._fail(batch, error)
            return
        except BaseException:  # cancelled: so are the steps it carried
            for step in batch:
                step.future.cancel()
            raise
        for step, reply in zip(batch, replies):
            if step.future.done():
                continue
            if isinstance(reply, Exception):  # this step failed on its own (site_steps.lua)
                step.future.set_exception(reply)
            else:
                step.future.set_result(reply)

    @staticmethod
    def _fail(batch: list[_Step], error: Exception) -> None:
        for step in batch:
            if not step.future.done():
                step.future.set_exception(error)
