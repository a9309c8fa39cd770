"""Rendering skips linkify for text that cannot hold a link, and renders exactly the same."""

from __future__ import annotations

import random

import pytest

from rejoinder import render

LINKS = [
    "see https://example.com/a?b=1 now",
    "HTTP://EXAMPLE.COM",
    "mailto:ann@example.org",
    "write to ann@example.org",
    "go to www.example.net",
    "example.com is a domain",
    "the site xn--p1ai.xn--p1ai",
    "пример.рф",
    "//example.com/path",
    "ftp://files.example.com",
    "http://intranet/wiki",
    "mailto:ann@host",
    "http://x",
]
PLAIN = [
    "Benchmark comment 1. Lorem ipsum, *dolor* sit amet.",
    "Two lines\nand a paragraph.\n\nEnd.",
    "A list:\n\n- one\n- two",
    "1. first\n2. second",
    "`code`, **bold**, ~~gone~~ and [a link](https://example.com).",
    "> quoted. Really.",
    "localhost:8080/x",
    "at 192.168.1.1/admin",
]


def full(text: str) -> str:
    return render.sanitise(render._md.render(text))


@pytest.mark.parametrize("text", LINKS)
def test_text_with_a_link_is_linkified(text: str) -> None:
    assert render.MAY_LINK.search(text)
    assert "<a " in render.render(text)


@pytest.mark.parametrize("text", LINKS + PLAIN)
def test_render_matches_the_linkifying_parser(text: str) -> None:
    assert render.render(text) == full(text)


def test_random_text_renders_as_with_linkify() -> None:
    # Text built from the characters links are made of: wherever the screen says
    # "no link", the linkifying parser must agree.
    alphabet = list("abcdwxn-.:/@ 1234\n*_`[]()<>\u3002\uff0e\uff61") + ["com", "org", "www", "xn--", "рф",
                                                                          "localhost", "http", "mailto", ". "]
    rng = random.Random(20261127)
    skipped = 0
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        if not render.MAY_LINK.search(text):
            skipped += 1
        assert render.render(text) == full(text), text
    assert skipped > 500  # the screen did let a good share of the samples skip linkify
