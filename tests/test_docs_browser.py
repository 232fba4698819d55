"""The built documentation site in headless Chromium, opened from disk (file://).

The start page and one feature page: the navigation and the code blocks render, and every
request the page made (Resource Timing, and Chromium's console for loads that failed) is a
file inside the built site. Debian's Chromium and chromedriver, as the browser suites use
(tests/realworld/rw_browser.py); missing, they skip locally and fail in CI.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from realworld.rw_browser import chromium
from test_docs import build_site

pytestmark = pytest.mark.slow

# Every URL the page asked for: the document, then what it loaded (scripts, styles, images,
# the search worker and index, fonts if any).
# Chromium's Resource Timing records what came over the network (a CDN, an API) but not
# file:// loads, so the page's own references are listed from the DOM too.
RESOURCES_JS = """
const loaded = 'script[src], link[href][rel~="stylesheet"], link[href][rel~="icon"], img[src], iframe[src]';
const fromDom = Array.from(document.querySelectorAll(loaded)).map(el => el.src || el.href);
return [location.href].concat(fromDom, performance.getEntriesByType('resource').map(e => e.name));
"""

RENDERED_JS = """
const visible = el => !!el && el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0;
const navLinks = Array.from(document.querySelectorAll('nav.md-nav--primary a.md-nav__link'))
  .map(a => a.textContent.trim()).filter(t => t);
const code = Array.from(document.querySelectorAll('.md-content pre > code'));
const highlighted = code.filter(c => c.querySelector('span'));
return {
  title: document.title,
  navLinks: navLinks,
  codeBlocks: code.length,
  visibleCodeBlocks: code.filter(visible).length,
  highlightedCodeBlocks: highlighted.length,
  codeText: code.map(c => c.textContent).join('\\n'),
  // file:// stylesheets cannot be read from script: their effect is checked instead.
  headerPosition: getComputedStyle(document.querySelector('.md-header')).position,
  sidebarShown: visible(document.querySelector('.md-sidebar--primary')),
  h1: (document.querySelector('.md-content h1') || {}).textContent || '',
};
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site_dir = tmp_path_factory.mktemp("docs") / "site"
    result = build_site(site_dir)
    assert result.returncode == 0, result.stderr[-4000:]
    return site_dir


def open_page(driver, page: Path) -> dict:
    driver.get(page.as_uri())
    deadline = time.monotonic() + 20
    while driver.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, "page never finished loading"
        time.sleep(0.05)
    time.sleep(0.5)  # the search worker and its index load after the page
    info = driver.execute_script(RENDERED_JS)
    info["resources"] = driver.execute_script(RESOURCES_JS)
    info["console"] = [entry["message"] for entry in driver.get_log("browser")]
    return info


def outside(site: Path, urls: list[str]) -> list[str]:
    root = site.resolve()
    bad = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme != "file":
            bad.append(url)
            continue
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            bad.append(url)
    return bad


@pytest.mark.parametrize(
    ("page", "heading", "code_snippet"),
    [
        ("index.html", "fastcors", "from fastcors import CORSMiddleware"),
        ("features/patterns.html", "Origin patterns without regexes", "allow_origin_patterns="),
    ],
)
def test_page_from_disk(site: Path, page: str, heading: str, code_snippet: str) -> None:
    with chromium() as driver:
        info = open_page(driver, site / page)
    assert info["h1"].strip().rstrip("¶").strip() == heading, info["h1"]
    # The navigation: every top-level page of mkdocs.yml's nav is there.
    for link in ("Getting started", "Migrating from Starlette", "Origin patterns", "Production", "Troubleshooting"):
        assert link in info["navLinks"], (link, info["navLinks"])
    # The theme's stylesheet applied, code blocks shown and highlighted.
    assert info["headerPosition"] == "sticky" and info["sidebarShown"], info
    assert info["codeBlocks"] >= 1 and info["visibleCodeBlocks"] >= 1, info
    assert info["highlightedCodeBlocks"] >= 1, info
    assert code_snippet in info["codeText"]
    assert "--8<--" not in info["codeText"], "a snippet was not included"
    # Nothing but the site's own files.
    assert len(info["resources"]) > 3, info["resources"]
    assert outside(site, info["resources"]) == [], info["resources"]
    failed = [m for m in info["console"] if "Failed to load" in m or "ERR_" in m or "net::" in m]
    assert failed == [], failed
