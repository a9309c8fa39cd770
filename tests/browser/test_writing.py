"""Writing: posting as a guest, errors beside their field, drafts, keyboard only, editing, likes."""

from __future__ import annotations

import httpx
import orjson
import pytest
import redis as redis_sync
from playwright.sync_api import expect

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.servers import AppServer
from .conftest import ReaderFactory
from .seed import TITLE, comment, demo_thread

pytestmark = pytest.mark.browser


def test_guest_comment_shows_at_once_and_stays(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    r.post("Thank you for this, I *finally* fixed my lamp.", name="Ada", email="ada@example.org",
           website="ada.example")
    mine = r.comment("I finally fixed my lamp")
    mine.wait_for()
    assert mine.locator("em").text_content() == "finally"
    assert mine.locator(".rj-you").count() == 1
    assert mine.locator(".rj-name").get_attribute("href") == "https://ada.example"
    assert r.frame.locator("h2.rj-title").text_content() == f"1 thought on “{TITLE}”"
    assert r.field("Comment").input_value() == ""
    r.reload()
    assert r.comment("I finally fixed my lamp").count() == 1


def test_invalid_email_shows_the_servers_error_beside_the_field_and_keeps_the_text(
        reader: ReaderFactory) -> None:
    r = reader().open_demo()
    r.expect_refusal(422)
    text = "A long and careful comment that must not be lost."
    r.post(text, name="Ada", email="ada@@example")
    f = r.frame
    email = r.field("Email")
    error = email.locator("xpath=following-sibling::span[contains(@class,'rj-error')][1]")
    error.wait_for()
    assert error.text_content() == "This email address is not valid."
    assert email.get_attribute("aria-invalid") == "true"
    assert error.get_attribute("id") in (email.get_attribute("aria-describedby") or "").split()
    assert r.field("Comment").input_value() == text
    assert f.locator("li.rj-item").count() == 0  # the optimistic copy was taken back
    assert email.evaluate("e => document.activeElement === e")

    email.fill("ada@example.org")
    assert error.is_hidden()
    f.get_by_role("button", name="Post Comment").click()
    r.comment("must not be lost").wait_for()


def test_missing_name_error_is_beside_the_name(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    r.expect_refusal(422)
    r.post("Who am I?", name="")
    name = r.field("Name")
    error = name.locator("xpath=following-sibling::span[contains(@class,'rj-error')][1]")
    error.wait_for()
    assert error.text_content() == "name is required."
    assert r.field("Comment").input_value() == "Who am I?"


def test_draft_survives_a_reload_until_posted(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    f = r.frame
    r.field("Comment").fill("Half a thought, interrupted")
    r.field("Name").fill("Ada")
    r.page.wait_for_timeout(600)  # the draft is saved shortly after typing stops
    r.reload()
    assert r.field("Comment").input_value() == "Half a thought, interrupted"
    assert r.field("Name").input_value() == "Ada"
    r.frame.get_by_role("button", name="Post Comment").click()
    r.comment("Half a thought").wait_for()
    r.reload()
    assert r.field("Comment").input_value() == ""


def test_draft_of_a_reply_reopens_under_its_comment(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    comment(api, tid, "Reply to me later")
    r = reader().open_demo()
    r.comment("Reply to me later").locator(":scope > article").get_by_role("button", name="Reply").click()
    r.field("Comment").fill("My reply in progress")
    r.page.wait_for_timeout(600)
    r.reload()
    slot = r.comment("Reply to me later").locator(":scope > .rj-slot")
    assert slot.get_by_role("textbox", name="Comment").input_value() == "My reply in progress"
    assert slot.get_by_role("heading").text_content() == "Reply to Grace"


def test_keyboard_only_posting(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    page = r.page
    f = r.frame
    textarea = r.field("Comment")
    page.locator("body").click(position={"x": 2, "y": 2})
    for _ in range(30):
        page.keyboard.press("Tab")
        if textarea.evaluate("e => document.activeElement === e"):
            break
    else:
        pytest.fail("Tab never reached the comment box")
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Tab")
    assert r.field("Name").evaluate("e => document.activeElement === e")
    page.keyboard.type("Keyboard Kim")
    # Back to the text and post with Ctrl+Enter, then check the form with Tab + Enter too.
    page.keyboard.press("Shift+Tab")
    while not textarea.evaluate("e => document.activeElement === e"):
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Control+Enter")
    posted = r.comment("Typed without a mouse.")
    posted.wait_for()
    # Focus lands on the new comment so a screen reader continues from it.
    assert posted.locator(":scope > article").evaluate("e => document.activeElement === e")

    textarea.focus()
    page.keyboard.type("And a second one, by the button.")
    submit = f.get_by_role("button", name="Post Comment")
    for _ in range(12):
        page.keyboard.press("Tab")
        if submit.evaluate("e => document.activeElement === e"):
            break
    page.keyboard.press("Enter")
    r.comment("by the button").wait_for()


def test_edit_and_delete_own_comment(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    comment(api, tid, "Someone else's words")
    r = reader().open_demo()
    assert r.comment("Someone else's words").get_by_role("button", name="Edit").count() == 0
    r.post("Frist post", name="Ada")
    mine = r.comment("Frist post")
    mine.wait_for()
    r.reload()  # the edit token must survive a reload
    mine = r.comment("Frist post")
    mine.get_by_role("button", name="Edit").click()
    editor = mine.locator("form.rj-editor textarea")
    assert editor.input_value() == "Frist post"
    editor.fill("First post (typo fixed)")
    mine.get_by_role("button", name="Save").click()
    fixed = r.comment("First post (typo fixed)")
    fixed.wait_for()
    assert fixed.locator(".rj-edited").count() == 1
    assert api.get(f"/api/threads/{tid}").json()["comments"][1]["html"] == "<p>First post (typo fixed)</p>"

    delete = fixed.get_by_role("button", name="Delete")
    delete.click()
    fixed.get_by_role("button", name="Really delete?").click()
    r.comment("First post (typo fixed)").wait_for(state="detached")
    assert r.frame.locator("h2.rj-title").text_content() == f"1 thought on “{TITLE}”"


def test_comment_awaiting_moderation_is_shown_to_its_author_only(
        reader: ReaderFactory, api: httpx.Client, redis_client: redis_sync.Redis, app_server: AppServer) -> None:
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_all")
    author = reader().open_demo()
    author.post("Please approve me", name="Ada")
    mine = author.comment("Please approve me")
    mine.wait_for()
    assert mine.locator(".rj-notice").text_content() == "Your comment is awaiting moderation."
    author.reload()
    assert author.comment("Please approve me").locator(".rj-notice").count() == 1
    stranger = reader().open_demo()
    assert stranger.comment("Please approve me").count() == 0


def test_likes_on_comments_and_the_post(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    comment(api, tid, "Like me")
    r = reader().open_demo()
    target = r.comment("Like me")
    like = target.get_by_role("button", name="Like", exact=True)
    like.click()
    assert like.get_attribute("aria-pressed") == "true"
    target.locator(".rj-likes", has_text="Liked by 1 person").wait_for()
    post_like = r.frame.get_by_role("button", name="Like this post")
    post_like.click()
    r.frame.locator(".rj-head .rj-likes", has_text="Liked by 1 person").wait_for()
    r.reload()
    target = r.comment("Like me")
    assert target.get_by_role("button", name="Like", exact=True).get_attribute("aria-pressed") == "true"
    assert target.locator(".rj-likes").text_content() == "Liked by 1 person"
    assert r.frame.locator(".rj-head .rj-likes").text_content() == "Liked by 1 person"
    like = target.get_by_role("button", name="Like", exact=True)
    like.click()
    target.locator(".rj-likes", has_text="Liked").wait_for(state="detached")
    assert like.get_attribute("aria-pressed") == "false"


def test_markdown_preview_is_text_only(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    f = r.frame
    r.field("Comment").fill("**bold** and <img src=x onerror=alert(1)>")
    f.get_by_role("button", name="Preview").click()
    preview = f.locator(".rj-preview")
    assert preview.locator("strong").text_content() == "bold"
    assert preview.locator("img").count() == 0
    assert "<img src=x onerror=alert(1)>" in (preview.text_content() or "")
    f.get_by_role("button", name="Back to writing").click()
    assert r.field("Comment").is_visible()


def test_typing_at_suggests_the_threads_people_and_the_comment_mentions_them(
        reader: ReaderFactory, api: httpx.Client, redis_client: redis_sync.Redis) -> None:
    tid = demo_thread(api)["id"]
    grace = comment(api, tid, "Mending is meditative.", name="Grace Hopper")
    comment(api, tid, "Glue is underrated.", name="Linus")
    r = reader().open_demo()
    box = r.field("Comment")
    box.click()
    box.press_sequentially("I agree with @gr")
    options = r.frame.get_by_role("listbox", name="People in this thread").get_by_role("option")
    expect(options).to_have_text(["@Grace Hopper"])
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Enter")
    expect(box).to_have_value("I agree with @Grace Hopper ")
    box.press_sequentially("about wax.")
    r.field("Name").fill("Ada")
    r.frame.get_by_role("button", name="Post Comment").click()
    r.comment("about wax.").wait_for()
    stored = [orjson.loads(v) for v in redis_client.hvals(keys.comments(tid))]
    [mine] = [d for d in stored if "about wax" in d["text"]]
    assert mine["mentions"] == [grace["id"]]
    # Escape closes the list; a name no one here has suggests nothing.
    expect(box).to_have_value("")  # the form is back, empty, once the comment is posted
    box.click()
    box.press_sequentially("@Li")
    expect(options).to_have_text(["@Linus"])
    box.press("Escape")
    expect(r.frame.get_by_role("listbox", name="People in this thread")).to_be_hidden()
    box.press_sequentially(" @Zz")
    expect(r.frame.get_by_role("listbox", name="People in this thread")).to_be_hidden()
