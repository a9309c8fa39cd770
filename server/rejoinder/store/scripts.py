"""The Lua scripts, loaded once per process and called by sha."""

from __future__ import annotations

import re
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

NAMES = ("open_thread", "edit_comment", "delete_comment", "set_like", "moderate_comment",
         "set_thread_flag", "flag_comment", "set_reaction", "set_remote")


_INCLUDE = re.compile(r"^--@include (\w+)$", re.MULTILINE)


def source(name: str) -> str:
    """The text of store/lua/<name>.lua, each "--@include lib" line replaced by that file's text
    (itself with its includes)."""
    text = (resources.files("rejoinder.store") / "lua" / f"{name}.lua").read_text()
    return _INCLUDE.sub(lambda match: source(match.group(1)), text)


class Scripts:
    def __init__(self, redis: Redis) -> None:
        self._by_name: dict[str, AsyncScript] = {name: redis.register_script(source(name)) for name in NAMES}

    def __getitem__(self, name: str) -> AsyncScript:
        return self._by_name[name]

    async def load(self) -> None:
        """Load every script (on every primary of a cluster): idempotent, for readiness."""
        for script in self._by_name.values():
            await script.registered_client.script_load(script.script)
