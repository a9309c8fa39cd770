"""Planning an import, without a database: the shapes a corrupt or huge file can take."""

from __future__ import annotations

import time

from rejoinder.porting.plan import build
from rejoinder.porting.source import Source, SourceComment, SourceThread

DAY = 86_400_000


def source(*comments: SourceComment) -> Source:
    return Source("wxr", [SourceThread("1", link="https://blog.example/p/")], list(comments))


def comment(key: str, parent: str = "", created: int = DAY, **fields: object) -> SourceComment:
    return SourceComment(key=key, thread="1", parent=parent, name="N", created=created, html=f"<p>c{key}</p>",
                         **fields)  # type: ignore[arg-type]


def plan_of(src: Source):  # noqa: ANN201
    return build(src, "demo", by="url", secret="k", max_chars=10_000, now=0)


def test_a_loop_of_parents_is_cut_and_reported() -> None:
    plan = plan_of(source(comment("1", parent="2"), comment("2", parent="1"), comment("3", parent="1")))
    parents = {i.key: i.parent for i in plan.threads[0].items}
    assert parents == {"wxr:1": "", "wxr:2": "", "wxr:3": "wxr:1"}
    assert {(n["id"], n["reason"]) for n in plan.notes} == {("wxr:1", "parent_cycle"), ("wxr:2", "parent_cycle")}


def test_a_reply_dated_before_its_parent_still_comes_after_it() -> None:
    plan = plan_of(source(comment("1", created=3 * DAY), comment("2", parent="1", created=DAY),
                          comment("3", created=2 * DAY)))
    assert [i.key for i in plan.threads[0].items] == ["wxr:3", "wxr:1", "wxr:2"]


def test_replies_under_skipped_comments_hang_under_the_nearest_kept_one() -> None:
    chain = [comment("0")] + [comment(str(n), parent=str(n - 1), skip="not_a_comment") for n in range(1, 4)]
    plan = plan_of(source(*chain, comment("9", parent="3")))
    assert {i.key: i.parent for i in plan.threads[0].items} == {"wxr:0": "", "wxr:9": "wxr:0"}
    assert [(n["id"], n["reason"]) for n in plan.notes] == [("wxr:9", "parent_skipped")]


def test_a_very_long_chain_of_replies_plans_in_linear_time() -> None:
    n = 10_000
    skipped = [comment(f"s{k}", parent=f"s{k - 1}" if k else "", skip="not_a_comment") for k in range(n)]
    kept = [comment(str(k), parent=str(k - 1) if k else f"s{n - 1}", created=DAY + k) for k in range(n)]
    deleted = [comment(f"d{k}", parent=f"d{k - 1}" if k else "", status="deleted") for k in range(n)]
    start = time.monotonic()
    plan = plan_of(source(*skipped, *kept, *deleted, comment("leaf", parent=f"d{n - 1}")))
    assert time.monotonic() - start < 10  # quadratic would be hours
    parents = {i.key: i.parent for i in plan.threads[0].items}
    assert len(parents) == 2 * n + 1  # the chain of deleted comments stays: a reply hangs under it
    assert parents["wxr:0"] == "" and parents["wxr:1"] == "wxr:0" and parents[f"wxr:d{n - 1}"] == f"wxr:d{n - 2}"
