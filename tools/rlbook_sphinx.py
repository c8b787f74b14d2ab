"""rlbook's local Sphinx extension (registered in _config.yml, ``sphinx: local_extensions``).

It does five things for the HTML book:

1. **Offline maths.** MathJax 3 is served from the built site: the files come from
   the PyPI package ``django-static-mathjax`` (pinned in requirements.txt; it ships
   MathJax's ``es5`` distribution and needs no Django to be used as files) and are
   copied to ``_build/html/_static/mathjax/``. ``mathjax_path`` in _config.yml points
   there, so no page loads MathJax from a CDN.
2. **One copy of each inline script.** sphinx-thebe and sphinx-togglebutton register
   their inline configuration scripts twice under Jupyter Book, which made every page
   log ``Identifier 'THEBE_JS_URL' has already been declared``; duplicates are dropped.
3. **Reading width.** ``book/_static/rlbook.css`` (a wider content column and a
   code font that fits 88 characters at 1280 px) and ``book/_static/rlbook.js``
   (multi-panel figures take the theme's full width) are added to every page.
4. **Launch buttons only on notebooks.** Binder and Colab open ``.ipynb`` files;
   the buttons are removed from pages written in MyST Markdown.
5. **Generated pages.** When the build starts, ``book/checks.md`` (the verification
   index, ``tools/verification_index.py``) is regenerated from the notebooks and
   ``book/glossary.md`` from ``tools/glossary.py`` (terms of chapters in preparation
   get their link once the chapter is in _toc.yml).
"""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import glossary  # noqa: E402  (tools/ is on the path above)
import verification_index  # noqa: E402

# The parts of MathJax's es5 distribution that tex-mml-chtml.js may load at run
# time: TeX extensions (autoload, \require), the CHTML fonts, the menu and the
# accessibility components (loaded only if a reader switches them on).
MATHJAX_ENTRY = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_ENTRY, "input", "output/chtml", "output/chtml.js", "ui", "a11y",
                 "adaptors", "sre")


def mathjax_source() -> Path:
    """The ``es5`` directory of the installed MathJax package."""
    spec = importlib.util.find_spec("mathjax")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        es5 = Path(loc) / "static" / "mathjax" / "es5"
        if (es5 / MATHJAX_ENTRY).is_file():
            return es5
    raise RuntimeError(
        "MathJax files not found: install the pinned 'django-static-mathjax' "
        "(pip install -r requirements.txt); the book serves MathJax itself so that "
        "formulas render without a network connection.")


def copy_mathjax(outdir: Path) -> Path:
    """Copy the MathJax files the pages use into ``outdir/_static/mathjax``."""
    src = mathjax_source()
    dest = Path(outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        s, d = src / part, dest / part
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.is_file():
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)
    licence = src.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, dest / "LICENSE")
    return dest


def _config_inited(app, config):
    verification_index.write_index(Path(app.srcdir))
    glossary.write_glossary(Path(app.srcdir))
    # pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit
    # when no default mode is set
    # when no default mode is set (pydata-sphinx-theme reads it from html_context)
    if isinstance(config.html_context, dict):
        config.html_context.setdefault("default_mode", "auto")


def _builder_inited(app):
    if app.builder.format != "html":
        return
    mathjax_source()                      # fail early with a clear message
    static = Path(app.srcdir) / "book" / "_static"
    if static.is_dir() and str(static) not in app.config.html_static_path:
        app.config.html_static_path.append(str(static))
    app.add_css_file("rlbook.css")
    app.add_js_file("rlbook.js")


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    # runs early (priority 100): html-page-context stops at the first handler
    # that returns a template name, and the duplicates are registered before
    # any page is written
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        # the same script registered twice, once with filename None and once
        # with filename "" (inline scripts), or twice with the same file
        name = str(getattr(js, "filename", js) or "")
        attrs = tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items()))
        key = (name, attrs)
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    scripts[:] = kept


def _launch_only_notebooks(app, pagename, templatename, context, doctree):
    """Drop the launch buttons (Binder, Colab) of pages whose source is not a notebook.

    The theme treats a MyST Markdown page with a kernel (book/intro.md) as a notebook
    and links the launch buttons to the .md file, which Colab cannot open.
    """
    buttons = context.get("header_buttons")
    if not buttons or pagename not in app.env.all_docs:
        return
    if Path(app.env.doc2path(pagename)).suffix == ".ipynb":
        return
    buttons[:] = [b for b in buttons if not (isinstance(b, dict) and
                                             b.get("label") == "launch-buttons")]


def _build_finished(app, exception):
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir))


def setup(app):
    app.connect("config-inited", _config_inited, priority=100)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    # after the theme's add_launch_buttons (priority 501)
    app.connect("html-page-context", _launch_only_notebooks, priority=600)
    app.connect("build-finished", _build_finished)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
