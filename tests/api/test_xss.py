"""One named test per XSS payload: the stored and served HTML of each is inert.

"Inert" is checked on the HTML the API returns, parsed with a real HTML
parser: no script-capable element, no event-handler attribute, no URL with
a scheme other than http, https or mailto, and no style or other attribute
outside the whitelist. The browser tests post the same corpus through the form.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from ..support.api import post

ALLOWED_TAGS = {"a", "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote",
                "ul", "ol", "li", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
ALLOWED_ATTRS = {"a": {"href", "title", "rel", "target"}, "ol": {"start"}}
SAFE_SCHEMES = {"http", "https", "mailto"}

PAYLOADS = {
    "script_tag": "<script>alert(1)</script>",
    "script_uppercase": "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "script_split": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "img_onerror": "<img src=x onerror=alert(1)>",
    "svg_onload": "<svg onload=alert(1)>",
    "svg_script": "<svg><script>alert(1)</script></svg>",
    "svg_animate_href": '<svg><a><animate attributeName=href values=javascript:alert(1) /><text y=20>x</text></a></svg>',
    "svg_use_data": '<svg><use href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"/></svg>',
    "mathml_href": '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    "mathml_maction": '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    "iframe_src": '<iframe src="javascript:alert(1)"></iframe>',
    "iframe_srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object_data": '<object data="javascript:alert(1)"></object>',
    "embed_src": '<embed src="data:text/html,<script>alert(1)</script>">',
    "body_onload": "<body onload=alert(1)>",
    "style_tag": "<style>body{background:url(javascript:alert(1))}</style>",
    "style_attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "link_import": '<link rel=import href="//evil.example">',
    "meta_refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base_href": '<base href="javascript:alert(1)//">',
    "form_action": '<form action="javascript:alert(1)"><button>go</button></form>',
    "input_autofocus": "<input autofocus onfocus=alert(1)>",
    "details_ontoggle": "<details open ontoggle=alert(1)>",
    "video_source_onerror": "<video><source onerror=alert(1)></video>",
    "marquee_onstart": "<marquee onstart=alert(1)>x</marquee>",
    "md_link_javascript": "[click](javascript:alert(1))",
    "md_link_javascript_mixed_case": "[click](JaVaScRiPt:alert(1))",
    "md_link_javascript_entity": "[click](javascript&#58;alert(1))",
    "md_link_javascript_tab": "[click](java\tscript:alert(1))",
    "md_link_javascript_newline_encoded": "[click](java%0ascript:alert(1))",
    "md_link_vbscript": "[click](vbscript:msgbox(1))",
    "md_link_data_html": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "md_link_title_breakout": '[x](https://example.com "title\\" onmouseover=\\"alert(1))',
    "md_reference_link_javascript": "[x][1]\n\n[1]: javascript:alert(1)",
    "md_autolink_javascript": "<javascript:alert(1)>",
    "md_image_onerror": '![x" onerror="alert(1)](https://example.com/a.png)',
    "md_image_javascript": "![x](javascript:alert(1))",
    "md_html_block": "<div>\n<script>alert(1)</script>\n</div>",
    "md_code_span_script": "`<script>alert(1)</script>`",
    "md_fenced_code_script": "```html\n<script>alert(1)</script>\n```",
    "entity_encoded_script": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "numeric_entity_javascript": '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">x</a>',
    "unicode_escape_javascript": "[x](\\u006aavascript:alert(1))",
    "fullwidth_script": "＜script＞alert(1)＜/script＞",
    "null_byte_script": "<scr\x00ipt>alert(1)</script>",
    "rtl_override_link": "[\u202eclick](javascript:alert(1))",
    "html_comment_breakout": "<!--><script>alert(1)</script>-->",
    "cdata_breakout": "<![CDATA[><script>alert(1)</script>]]>",
    "template_tag": "<template><script>alert(1)</script></template>",
    "noscript_breakout": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "a_href_javascript_raw": '<a href="javascript:alert(1)">x</a>',
    "a_onclick_raw": '<a href="https://example.com" onclick="alert(1)">x</a>',
    "linkify_javascript": "see javascript:alert(1) now",
    "xlink_href": '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "srcset_injection": '<img srcset="javascript:alert(1) 1x">',
    "formaction_button": '<button formaction="javascript:alert(1)">x</button>',
    "dangling_markup": '<a href="https://example.com/?x=',
}


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in ALLOWED_ATTRS.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name == "href" and value is not None:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"href scheme {scheme}")
            if tag == "a" and name == "rel":
                assert value and {"nofollow", "ugc", "noopener"} <= set(value.split())

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")


def problems(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


def test_inspector_catches_what_it_should() -> None:
    """The checker itself must fail on dangerous HTML, or every test below proves nothing."""
    assert problems('<img src=x onerror="alert(1)">')
    assert problems('<a href="javascript:alert(1)">x</a>')
    assert problems('<p onclick="x">y</p>')
    assert problems("<script>x</script>")
    assert problems('<a href="https://example.com" rel="nofollow ugc noopener">ok</a>') == []


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_payload_is_stored_inert(api: httpx.Client, thread: dict, payload: str) -> None:
    tid = thread["id"]
    created = post(api, tid, payload)
    assert problems(created["comment"]["html"]) == []
    listed = api.get(f"/api/threads/{tid}").json()["comments"][0]
    assert problems(listed["html"]) == []
    assert listed["html"] == created["comment"]["html"]


@pytest.mark.parametrize("field,value", [
    ("name", "<img src=x onerror=alert(1)>"),
    ("name", '"><script>alert(1)</script>'),
    ("name", "Ann\u202egnp.exe"),
])
def test_user_strings_come_back_as_plain_text(api: httpx.Client, thread: dict, field: str, value: str) -> None:
    """Names are not HTML: they come back as the text given (minus control characters) for the
    widget to insert with textContent, never rendered."""
    created = post(api, thread["id"], "hi", **{field: value})
    returned = created["comment"]["author"][field]
    assert "\u202e" not in returned
    assert returned == value.replace("\u202e", "")
