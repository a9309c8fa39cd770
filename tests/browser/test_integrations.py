"""The integrations under integrations/, each with the real tool: a one-post site built with Debian's
Hugo and Jekyll (and Ghost's code-injection snippet as the plain HTML it is), opened in Chromium: the
thread loads, a comment posts, and the count shows on the index page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import expect

from ..conftest import SITE, register_site
from ..support.servers import ROOT, AppServer
from ..support.static_site import StaticSite
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser

INTEGRATIONS = ROOT / "integrations"


@pytest.fixture
def served(tmp_path: Path, redis_client, app_server: AppServer) -> Iterator[callable]:
    sites: list[StaticSite] = []

    def serve(folder: Path) -> StaticSite:
        site = StaticSite(folder)
        sites.append(site)
        register_site(redis_client, SITE, [app_server.page_origin, site.origin])
        return site

    yield serve
    for site in sites:
        site.stop()


def build_hugo(tmp_path: Path, app_server: AppServer) -> Path:
    src = tmp_path / "hugo-site"
    shutil.copytree(INTEGRATIONS / "hugo" / "layouts", src / "layouts")
    (src / "hugo.toml").write_text(f"""baseURL = "http://example.invalid/"
title = "A Hugo blog"
disableKinds = ["taxonomy", "term", "RSS", "sitemap"]
[params.rejoinder]
server = "{app_server.base}"
site = "{SITE}"
""")
    (src / "layouts" / "_default").mkdir()
    (src / "layouts" / "_default" / "single.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>'
        '<link rel="icon" href="data:,"></head><body><article><h1>{{ .Title }}</h1>{{ .Content }}</article>'
        '{{ if not (.Params.shortcode) }}{{ partial "rejoinder.html" . }}{{ end }}</body></html>')
    (src / "layouts" / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ site.Title }}</title>'
        '<link rel="icon" href="data:,"></head><body><h1>{{ site.Title }}</h1><ul>'
        '{{ range site.RegularPages }}<li class="post"><a href="{{ .RelPermalink }}">{{ .Title }}</a> '
        '{{ partial "rejoinder-count.html" . }}</li>{{ end }}</ul>{{ partial "rejoinder-counts.html" . }}</body></html>')
    (src / "content" / "posts").mkdir(parents=True)
    (src / "content" / "posts" / "mending.md").write_text(
        '---\ntitle: "Mending a chair"\ndate: 2024-03-01\n---\nA post about glue.\n')
    (src / "content" / "posts" / "darning.md").write_text(
        '---\ntitle: "Darning socks"\ndate: 2024-04-01\nshortcode: true\n---\nA post about wool.\n\n{{< rejoinder >}}\n')
    subprocess.run(["hugo", "--quiet", "-s", str(src), "-d", str(tmp_path / "hugo-public")], check=True,
                   capture_output=True, timeout=120)
    return tmp_path / "hugo-public"


def build_jekyll(tmp_path: Path, app_server: AppServer) -> Path:
    src = tmp_path / "jekyll-site"
    shutil.copytree(INTEGRATIONS / "jekyll" / "_includes", src / "_includes")
    (src / "_config.yml").write_text(f"""title: A Jekyll blog
rejoinder:
  server: "{app_server.base}"
  site: "{SITE}"
""")
    (src / "_layouts").mkdir()
    (src / "_layouts" / "post.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ page.title }}</title>'
        '<link rel="icon" href="data:,"></head><body><article><h1>{{ page.title }}</h1>{{ content }}</article>'
        '{% include rejoinder.html %}</body></html>')
    (src / "index.html").write_text(
        '---\n---\n<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ site.title }}</title>'
        '<link rel="icon" href="data:,"></head><body><h1>{{ site.title }}</h1><ul>{% for post in site.posts %}'
        '<li class="post"><a href="{{ post.url }}">{{ post.title }}</a> {% include rejoinder-count.html post=post %}'
        '</li>{% endfor %}</ul>{% include rejoinder-counts.html %}</body></html>')
    (src / "_posts").mkdir()
    (src / "_posts" / "2024-03-01-mending.md").write_text(
        '---\nlayout: post\ntitle: "Mending a chair"\n---\nA post about glue.\n')
    subprocess.run(["jekyll", "build", "--quiet", "-s", str(src), "-d", str(tmp_path / "jekyll-public")],
                   check=True, capture_output=True, timeout=180)
    return tmp_path / "jekyll-public"


SITES = Path(__file__).parent / "sites"  # package.json: the npm site generators (scripts/test.sh installs them)


def build_eleventy(tmp_path: Path, app_server: AppServer) -> Path:
    src = tmp_path / "eleventy-site"
    (src / "posts").mkdir(parents=True)
    (src / "_includes").mkdir()
    shutil.copy(INTEGRATIONS / "eleventy" / "rejoinder.js", src / "rejoinder.js")
    (src / "eleventy.config.js").write_text(
        'import rejoinder from "./rejoinder.js";\n'
        f'export default function (config) {{ config.addPlugin(rejoinder, {{ server: "{app_server.base}", '
        f'site: "{SITE}" }}); }}\n')
    (src / "_includes" / "post.njk").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>'
        '<link rel="icon" href="data:,"></head><body><article><h1>{{ title }}</h1>{{ content | safe }}</article>'
        '{% rejoinder page.url, title %}</body></html>')
    (src / "posts" / "mending.md").write_text(
        '---\nlayout: post.njk\ntitle: Mending a chair\ntags: post\n---\nA post about glue.\n')
    (src / "index.njk").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>An Eleventy blog</title>'
        '<link rel="icon" href="data:,"></head><body><h1>An Eleventy blog</h1><ul>{% for post in collections.post %}'
        '<li class="post"><a href="{{ post.url }}">{{ post.data.title }}</a> {% rejoinderCount post.url %}</li>'
        '{% endfor %}</ul>{% rejoinderCounts %}</body></html>')
    (src / "package.json").write_text('{"type": "module"}')
    subprocess.run([str(SITES / "node_modules" / ".bin" / "eleventy"), "--quiet", f"--input={src}",
                    f"--output={tmp_path / 'eleventy-public'}"], check=True, capture_output=True, timeout=180, cwd=src)
    return tmp_path / "eleventy-public"


def build_astro(tmp_path: Path, app_server: AppServer) -> Path:
    src = tmp_path / "astro-site"
    (src / "src" / "components").mkdir(parents=True)
    (src / "src" / "pages" / "posts").mkdir(parents=True)
    for name in ("Rejoinder.astro", "RejoinderCount.astro", "RejoinderCounts.astro"):
        shutil.copy(INTEGRATIONS / "astro" / name, src / "src" / "components" / name)
    (src / "node_modules").symlink_to(SITES / "node_modules")
    (src / "package.json").write_text('{"type": "module"}')
    (src / "astro.config.mjs").write_text('export default { telemetry: false };\n')
    (src / "src" / "pages" / "posts" / "mending.astro").write_text(
        '---\nimport Rejoinder from "../../components/Rejoinder.astro";\n---\n'
        '<html lang="en"><head><meta charset="utf-8"><title>Mending a chair</title><link rel="icon" href="data:,">'
        '</head><body><article><h1>Mending a chair</h1><p>A post about glue.</p></article>'
        f'<Rejoinder server="{app_server.base}" site="{SITE}" title="Mending a chair" /></body></html>\n')
    (src / "src" / "pages" / "index.astro").write_text(
        '---\nimport RejoinderCount from "../components/RejoinderCount.astro";\n'
        'import RejoinderCounts from "../components/RejoinderCounts.astro";\n---\n'
        '<html lang="en"><head><meta charset="utf-8"><title>An Astro blog</title><link rel="icon" href="data:,">'
        '</head><body><h1>An Astro blog</h1><ul><li class="post"><a href="/posts/mending/">Mending a chair</a> '
        '<RejoinderCount page="/posts/mending/" /></li></ul>'
        f'<RejoinderCounts server="{app_server.base}" site="{SITE}" /></body></html>\n')
    subprocess.run([str(SITES / "node_modules" / ".bin" / "astro"), "build", "--silent"], check=True,
                   capture_output=True, timeout=300, cwd=src, env={**os.environ, "ASTRO_TELEMETRY_DISABLED": "1"})
    return src / "dist"


def comment_on_a_post_and_see_the_count(reader: ReaderFactory, origin: str, post_title: str) -> None:
    r = reader()
    r.page.goto(origin + "/")
    post_row = r.page.locator("li.post", has_text=post_title)
    expect(post_row.locator("[data-rejoinder-count]")).to_have_text("No comments yet", timeout=10_000)
    post_row.get_by_role("link", name=post_title).click()
    r.wait_ready()
    expect(r.frame.locator("h2.rj-title")).to_contain_text(post_title)
    r.post(f"Built and commented on: {post_title}", name="Static reader")
    r.comment(f"Built and commented on: {post_title}").wait_for()
    r.page.goto(origin + "/")
    expect(r.page.locator("li.post", has_text=post_title).locator("[data-rejoinder-count]")).to_have_text(
        "1 comment", timeout=10_000)


def test_a_hugo_site_with_the_partial_and_the_shortcode(reader: ReaderFactory, app_server, served, tmp_path) -> None:
    public = build_hugo(tmp_path, app_server)
    site = served(public)
    comment_on_a_post_and_see_the_count(reader, site.origin, "Mending a chair")  # the partial
    comment_on_a_post_and_see_the_count(reader, site.origin, "Darning socks")  # the shortcode
    # Each post its own thread, keyed by its path.
    html = (public / "posts" / "darning" / "index.html").read_text()
    assert 'data-page="/posts/darning/"' in html and html.count('id="rejoinder"') == 1


def test_a_jekyll_site_with_the_include(reader: ReaderFactory, app_server, served, tmp_path) -> None:
    public = build_jekyll(tmp_path, app_server)
    site = served(public)
    comment_on_a_post_and_see_the_count(reader, site.origin, "Mending a chair")


def test_an_eleventy_site_with_the_shortcodes(reader: ReaderFactory, app_server, served, tmp_path) -> None:
    site = served(build_eleventy(tmp_path, app_server))
    comment_on_a_post_and_see_the_count(reader, site.origin, "Mending a chair")


def test_an_astro_site_with_the_components(reader: ReaderFactory, app_server, served, tmp_path) -> None:
    site = served(build_astro(tmp_path, app_server))
    comment_on_a_post_and_see_the_count(reader, site.origin, "Mending a chair")


def test_the_ghost_code_injection_snippet_as_plain_html(reader: ReaderFactory, app_server, served,
                                                       tmp_path) -> None:
    snippet = re.search(r"```html\n(.*?)```", (INTEGRATIONS / "ghost" / "README.md").read_text(), re.S).group(1)
    snippet = snippet.replace("https://comments.example.com", app_server.base).replace('"myblog"', f'"{SITE}"')
    root = tmp_path / "ghost"
    (root / "p").mkdir(parents=True)
    site = served(root)
    (root / "p" / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A Ghost post</title>'
        f'<link rel="icon" href="data:,"><link rel="canonical" href="{site.origin}/p/"></head>'
        f'<body><article><h1>A Ghost post</h1></article>{snippet}</body></html>')
    r = reader()
    r.page.goto(site.origin + "/p/")
    r.wait_ready()
    r.post("Commented through Ghost's code injection", name="Ghost reader")
    r.comment("Commented through Ghost's code injection").wait_for()
