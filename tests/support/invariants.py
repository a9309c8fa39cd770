"""What must hold for every thread in Redis, whatever failed in between."""

from __future__ import annotations

import orjson
import redis as redis_sync

from rejoinder.store import keys


def thread_problems(client: redis_sync.Redis, tid: str) -> list[str]:
    problems: list[str] = []
    meta = client.hgetall(keys.thread_meta(tid))
    docs = {int(k): orjson.loads(v) for k, v in client.hgetall(keys.comments(tid)).items()}
    roots = {int(m) for m in client.zrange(keys.roots(tid), 0, -1)}
    indexed = set(roots)
    for root in roots:
        indexed |= {int(m) for m in client.zrange(keys.subtree(tid, root), 0, -1)}
    approved = sum(1 for d in docs.values() if d["status"] == "approved")
    if int(meta.get("count", 0)) != approved:
        problems.append(f"count {meta.get('count')} != approved comments {approved}")
    if docs and int(meta.get("cids", 0)) != max(docs):
        problems.append(f"cids {meta.get('cids')} != highest id {max(docs)}")
    for cid, doc in docs.items():
        if doc["status"] != "deleted" and cid not in indexed:
            problems.append(f"comment {cid} is stored but not indexed")
        if doc.get("parent") is not None and doc["parent"] not in docs:
            problems.append(f"comment {cid} has a missing parent")
    for cid in indexed - set(docs):
        problems.append(f"index names comment {cid} that is not stored")
    entries = client.xrange(keys.events(tid))
    if entries and entries[-1][0] != f"{meta.get('seq')}-1":
        problems.append(f"last event {entries[-1][0]} != seq {meta.get('seq')}")
    created = [e for e in entries if e[1].get("type") == "comment.created"]
    if entries and entries[0][0] == "1-1" and len(created) != len(docs):
        problems.append(f"{len(created)} created events for {len(docs)} comments")
    return problems
