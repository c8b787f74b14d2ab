#!/usr/bin/env python
"""Open every page of the built book in headless Chromium, offline, and report.

Usage (after ``jupyter-book build .``)::

    python tools/check_html.py [_build/html] [--width 1280] [--page NAME ...]

Each page is opened from the file system (``file://``, as a reader opens
``_build/html/index.html``) in Debian's ``chromium`` driven by Selenium through
Debian's ``chromium-driver``, with the network disabled: every request that is
not a local file goes to a dead proxy and fails. For each page the script reports

- ``formulas``: maths elements of the page (Sphinx's ``.math`` spans and divs) and
  how many of them MathJax typeset (hold an ``mjx-container``), and MathJax errors
  (``mjx-merror``: TeX that did not parse);
- ``console errors``: SEVERE entries of the browser console, which include every
  resource that failed to load (a CDN script, a missing font) and script errors;
- ``remote scripts``: ``<script src="http...">`` tags in the HTML;
- ``wide code``: code blocks (``pre``; cell inputs and outputs) whose content is
  wider than their box at the window width, i.e. that scroll horizontally;
- ``wide equations``: display equations wider than the box they sit in;
- ``small figures``: images shown at less than 60 % of their natural width while
  the natural width exceeds the column (a multi-panel figure squeezed unreadably).

A summary line closes the report; the exit code is 1 if any page has a problem
(an untypeset formula, a MathJax error, a console error, a remote script, a wide
code block, a wide equation or a squeezed figure), 2 if Chromium is missing.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)
MIN_FIGURE_SCALE = 0.6

# Runs in the page once MathJax has finished (or was never there).
MEASURE_JS = r"""
const out = {};
const maths = Array.from(document.querySelectorAll('.math'));
out.formulas = maths.length;
out.typeset = maths.filter(m => m.querySelector('mjx-container')).length;
out.untypeset = maths.filter(m => !m.querySelector('mjx-container'))
    .slice(0, 5).map(m => m.textContent.trim().slice(0, 80));
out.mjx = document.querySelectorAll('mjx-container').length;
out.merrors = Array.from(document.querySelectorAll('mjx-merror'))
    .slice(0, 5).map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
out.n_merrors = document.querySelectorAll('mjx-merror').length;
const article = document.querySelector('article') || document.body;
const pres = Array.from(article.querySelectorAll('pre'))
    .filter(p => p.offsetParent !== null);   // visible ones
out.code_blocks = pres.length;
out.wide_code = pres.filter(p => p.scrollWidth > p.clientWidth + 1).map(p => {
    const inOutput = !!p.closest('.cell_output, .output');
    const longest = p.textContent.split('\n').reduce((a, l) => Math.max(a, l.length), 0);
    return {output: inOutput, scroll: p.scrollWidth, box: p.clientWidth, longest: longest,
            text: p.textContent.split('\n').find(l => l.length === longest).slice(0, 100)};
});
const texOf = new Map();
try {
  for (const item of MathJax.startup.document.math) texOf.set(item.typesetRoot, item.math);
} catch (e) {}
const displays = Array.from(article.querySelectorAll('mjx-container[display="true"]'));
out.display_equations = displays.length;
out.wide_equations = displays.map(c => {
    const math = c.querySelector('mjx-math');
    if (!math) return null;
    const inner = math.getBoundingClientRect().width;
    const box = c.getBoundingClientRect().width;
    if (inner <= box + 1) return null;
    const where = c.closest('div.proof, div.theorem, div.lemma, div.proposition, '
                            + 'div.corollary, div.definition, div.admonition, section');
    const box_id = where ? (where.id || (where.querySelector('[id]') || {}).id || '') : '';
    return {inner: Math.round(inner), box: Math.round(box),
            tex: (texOf.get(c) || '').replace(/\s+/g, ' ').trim().slice(0, 120),
            label: box_id};
}).filter(x => x);
const imgs = Array.from(article.querySelectorAll('img')).filter(i => i.naturalWidth > 0);
out.images = imgs.length;
out.small_figures = imgs.map(i => {
    const shown = i.getBoundingClientRect().width;
    const column = (i.closest('.cell_output, figure, p, div') || article).clientWidth;
    const scale = shown / i.naturalWidth;
    if (i.naturalWidth > column && scale < %(min_scale)s)
        return {src: i.getAttribute('src').slice(-60), natural: i.naturalWidth,
                shown: Math.round(shown)};
    return null;
}).filter(x => x);
out.broken_images = Array.from(article.querySelectorAll('img'))
    .filter(i => i.complete && i.naturalWidth === 0).length;
return out;
"""


@dataclass
class PageReport:
    """What one page showed."""

    name: str
    data: dict = field(default_factory=dict)
    console_errors: list = field(default_factory=list)
    remote_scripts: list = field(default_factory=list)

    def problems(self) -> list[str]:
        d = self.data
        out = []
        if d.get("formulas", 0) != d.get("typeset", 0):
            out.append(f"{d['formulas'] - d['typeset']} formulas not typeset "
                       f"(e.g. {d['untypeset'][:2]})")
        if d.get("n_merrors"):
            out.append(f"{d['n_merrors']} MathJax errors {d['merrors'][:2]}")
        if self.console_errors:
            out.append(f"{len(self.console_errors)} console errors")
        if self.remote_scripts:
            out.append(f"remote scripts {self.remote_scripts}")
        if d.get("wide_code"):
            out.append(f"{len(d['wide_code'])} wide code blocks")
        if d.get("wide_equations"):
            out.append(f"{len(d['wide_equations'])} wide display equations")
        if d.get("small_figures"):
            out.append(f"{len(d['small_figures'])} squeezed figures")
        if d.get("broken_images"):
            out.append(f"{d['broken_images']} broken images")
        return out


def find(names) -> str | None:
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def remote_scripts(html: str) -> list[str]:
    """``src`` of every ``<script>`` tag that loads from the network."""
    return re.findall(r"<script\b[^>]*\bsrc=[\"']((?:https?:)?//[^\"']+)[\"']", html,
                      flags=re.I)


def pages(root: Path, only: list[str] | None) -> list[Path]:
    skip = {"genindex.html", "search.html"}
    found = sorted(p for p in root.rglob("*.html")
                   if p.name not in skip and "_static" not in p.parts
                   and "_sources" not in p.parts and "_images" not in p.parts)
    # index.html only redirects to the first page
    def is_redirect(p):
        head = p.read_text(encoding="utf-8", errors="replace")[:2000]
        return re.search(r'http-equiv="refresh"', head, flags=re.I) is not None

    found = [p for p in found if not is_redirect(p)]
    if only:
        found = [p for p in found if any(o in str(p.relative_to(root)) for o in only)]
    return found


def make_driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = find(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars",
                # the network is off: any non-file request goes to a closed local port
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=find(DRIVER)))
    driver.set_window_size(width, height)
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(120)
    return driver


WAIT_MATHJAX_JS = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
(function poll() {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => done('typeset'), e => done('error: ' + e));
  } else if (Date.now() - t0 > 20000) {
    done(mj ? 'no startup' : 'no MathJax');
  } else {
    setTimeout(poll, 100);
  }
})();
"""


def check_page(driver, path: Path, root: Path) -> PageReport:
    rep = PageReport(str(path.relative_to(root)))
    html = path.read_text(encoding="utf-8", errors="replace")
    rep.remote_scripts = remote_scripts(html)
    driver.get_log("browser")                        # drop entries of the previous page
    driver.get(path.resolve().as_uri())
    has_math = 'class="math' in html
    state = driver.execute_async_script(WAIT_MATHJAX_JS) if has_math else "no maths"
    # let fonts settle so that widths are final
    driver.execute_async_script(
        "const d = arguments[arguments.length-1]; document.fonts.ready.then(() => d(1));")
    rep.data = driver.execute_script(MEASURE_JS % {"min_scale": MIN_FIGURE_SCALE})
    rep.data["mathjax"] = state
    rep.console_errors = [e["message"][:200] for e in driver.get_log("browser")
                          if e.get("level") == "SEVERE"]
    return rep


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--page", action="append", help="only pages whose path contains this")
    ap.add_argument("--json", type=Path, help="also write the full report as JSON here")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every wide item")
    args = ap.parse_args(argv)

    if not find(CHROMIUM) or not find(DRIVER):
        print("check_html: Chromium or chromedriver not found; install Debian's "
              "'chromium' and 'chromium-driver' (apt-get install chromium chromium-driver)")
        return 2
    root = args.root
    todo = pages(root, args.page)
    if not todo:
        print(f"check_html: no HTML pages under {root}; build the book first")
        return 1

    driver = make_driver(args.width, args.height)
    reports = []
    try:
        for p in todo:
            reports.append(check_page(driver, p, root))
    finally:
        driver.quit()

    totals = dict(pages=0, formulas=0, typeset=0, errors=0, wide_code=0, code=0,
                  wide_eq=0, display=0, small_fig=0, remote=0, merrors=0, bad=0)
    for r in reports:
        d = r.data
        probs = r.problems()
        totals["pages"] += 1
        totals["formulas"] += d["formulas"]
        totals["typeset"] += d["typeset"]
        totals["merrors"] += d["n_merrors"]
        totals["errors"] += len(r.console_errors)
        totals["code"] += d["code_blocks"]
        totals["wide_code"] += len(d["wide_code"])
        totals["display"] += d["display_equations"]
        totals["wide_eq"] += len(d["wide_equations"])
        totals["small_fig"] += len(d["small_figures"])
        totals["remote"] += len(r.remote_scripts)
        totals["bad"] += bool(probs)
        print(f"{'FAIL' if probs else 'ok  '} {r.name}: formulas {d['typeset']}/{d['formulas']} "
              f"typeset; console errors {len(r.console_errors)}; wide code "
              f"{len(d['wide_code'])}/{d['code_blocks']}; wide equations "
              f"{len(d['wide_equations'])}/{d['display_equations']}; squeezed figures "
              f"{len(d['small_figures'])}/{d['images']}")
        for msg in r.console_errors[:5]:
            print(f"     console: {msg}")
        for p in probs:
            print(f"     problem: {p}")
        if args.verbose or probs:
            for w in d["wide_code"][: None if args.verbose else 3]:
                kind = "output" if w["output"] else "code"
                print(f"     wide {kind}: {w['scroll']}px in {w['box']}px, "
                      f"{w['longest']} chars: {w['text']!r}")
            for w in d["wide_equations"][: None if args.verbose else 5]:
                print(f"     wide equation: {w['inner']}px in {w['box']}px "
                      f"(near #{w['label']}): {w['tex']!r}")
            for w in d["small_figures"]:
                print(f"     squeezed figure: {w['src']} {w['natural']}px shown at "
                      f"{w['shown']}px")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in reports], indent=1))
    t = totals
    print(f"check_html summary: {t['pages']} pages at {args.width} px, offline; "
          f"formulas typeset {t['typeset']}/{t['formulas']}, MathJax errors {t['merrors']}; "
          f"console errors {t['errors']}; remote scripts {t['remote']}; "
          f"wide code blocks {t['wide_code']}/{t['code']}; "
          f"wide display equations {t['wide_eq']}/{t['display']}; "
          f"squeezed figures {t['small_fig']}; pages with problems {t['bad']}")
    return 1 if t["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
