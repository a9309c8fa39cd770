"""Steps: the writes requests make, sent together when they coincide.

A comment takes three steps: in its site's slot, counting the write against the
caller's limits (with the ban check) before it, and announcing it on the site's
feed after it; in its thread's slot, the write itself. Each is a function of
steps.lua. While a run is on its way to Redis, the steps other requests ask for
wait and go together in the next run: under load, comments share round trips
(and the client's and Redis's per-call work) with their neighbours'; alone, a
step goes at once.

Which steps may share a run. Each step keeps to one hash slot; a run may mix
slots only where the server takes any keys in one script: a single server
that says so (INFO: cluster_enabled:0). Until it has said so, and on a cluster
(even a one-node cluster owning every slot), behind a proxy that does not answer
INFO (one that shards by key), or after a mixed run was refused (CROSSSLOT), a
run holds one slot's steps: one queue per slot. Measured at concurrency 16 on
one server, one queue for every slot took 0.39 runs per comment where a queue per
slot took 0.66-1.5, and made 7-11% more comments per second.

Each step is as atomic as on its own and fails on its own (one run holds several,
in order). A step waits for the run in flight, and behind 64 others at most per
run ahead of it. A run that gets no answer within RUN_TIMEOUT fails its steps
with a timeout (503 for their requests) and the next run goes. On one server
that is every write of this process (a server that does not answer one run does
not answer the next either); per slot, one site's or thread's.

Like any command, a run whose answer was lost to a dropped connection is sent
again by the client's retry. Its comments are then found by their idempotency
keys (every create has one), its counts count twice, and its announcements
appear twice on the feed: feed readers take an entry as "look at this thread"
(they read the thread's own log from their cursor), so a repeat changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ClusterCrossSlotError, NoPermissionError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .scripts import source

log = logging.getLogger("rejoinder")

MAX_BATCH = 64  # steps per run; the rest wait for the next one
RUN_TIMEOUT = 5.0  # seconds: as long as a request waits for a pooled connection


class _Step:
    __slots__ = ("slot", "name", "keys", "args", "future")

    def __init__(self, slot: str, name: str, keys: list[str], args: list[Any], future: asyncio.Future[Any]) -> None:
        self.slot, self.name, self.keys, self.args, self.future = slot, name, keys, args, future


class Steps:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(source("steps"))
        # Whether a run may mix slots: None until the server said (see above).
        self.mixed: bool | None = False if isinstance(redis, RedisCluster) else None
        self._asking: asyncio.Task[None] | None = None
        # queue (a slot, or "" for mixed runs) -> steps waiting for the next run; a
        # queue is here while a run of its is on the way
        self._waiting: dict[str, list[_Step]] = {}
        self._pumps: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        """Load steps.lua (on every primary of a cluster) and learn whether runs may
        mix slots: idempotent, for readiness."""
        await self._script.registered_client.script_load(self._script.script)
        if self.mixed is None:
            await asyncio.shield(self._ask_soon())

    def _ask_soon(self) -> asyncio.Task[None]:
        """The one question to the server about mixed runs, asked if not on its way."""
        if self._asking is None:
            self._asking = asyncio.get_running_loop().create_task(self._ask())
        return self._asking

    async def _ask(self) -> None:
        try:
            async with asyncio.timeout(RUN_TIMEOUT):
                info = await self._redis.info("cluster")
            answer = info.get("cluster_enabled") == 0
        except ResponseError as error:
            if not (isinstance(error, NoPermissionError) or "unknown command" in str(error).lower()):
                return  # a passing refusal (the server busy, loading): asked again later
            # No INFO here (a proxy, an ACL user without it): one slot per run.
            log.warning("Redis refused INFO (%s): writes that coincide share calls only within a slot", error)
            answer = False
        except Exception:  # not reachable now: asked again with a later step
            return
        finally:
            self._asking = None
        if self.mixed is None:  # unless a refused mixed run settled it meanwhile
            self.mixed = answer

    def _queue(self, slot: str) -> str:
        if self.mixed:
            return ""
        if self.mixed is None:
            self._ask_soon()
        return slot

    async def run(self, slot: str, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run step `name` (a function of steps.lua) with `keys`, all in the hash slot
        that `slot` names (keys.site_slot, keys.thread_slot); its reply."""
        step = _Step(slot, name, keys, args, asyncio.get_running_loop().create_future())
        queue = self._queue(slot)
        waiting = self._waiting.get(queue)
        if waiting is not None:
            waiting.append(step)
            return await step.future
        self._waiting[queue] = []
        try:
            await self._send([step])
        finally:
            # Whatever queued behind this run goes next, in a task of its own, so this
            # request answers now (and a cancelled one still hands the queue on).
            rest = self._waiting[queue]
            if rest:
                self._waiting[queue] = []
                pump = asyncio.get_running_loop().create_task(self._pump(queue, rest))
                self._pumps.add(pump)
                pump.add_done_callback(self._pumps.discard)
            else:
                del self._waiting[queue]
        return step.future.result()

    async def _pump(self, queue: str, batch: list[_Step]) -> None:
        try:
            while batch:
                await self._send(batch[:MAX_BATCH])
                batch = batch[MAX_BATCH:] + self._waiting[queue]
                self._waiting[queue] = []
        finally:
            # Only when this task is cancelled (shutdown) is anything left here.
            for step in batch + self._waiting.pop(queue, []):
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
                raise ResponseError(f"steps: {len(batch)} steps, reply {replies!r:.200}")
        except TimeoutError:
            self._fail(batch, RedisTimeoutError(f"No answer from Redis in {RUN_TIMEOUT:g} s."))
            return
        except ResponseError as error:
            slots = {step.slot for step in batch}
            if isinstance(error, ClusterCrossSlotError) and len(slots) > 1:
                # Refused before it ran: this server checks slots after all. Each
                # slot's steps go on their own, now and from now on.
                self.mixed = False
                for slot in slots:
                    await self._send([step for step in batch if step.slot == slot])
                return
            self._fail(batch, error)
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
            if isinstance(reply, Exception):  # this step failed on its own (steps.lua)
                step.future.set_exception(reply)
            else:
                step.future.set_result(reply)

    @staticmethod
    def _fail(batch: list[_Step], error: Exception) -> None:
        for step in batch:
            if not step.future.done():
                step.future.set_exception(error)
