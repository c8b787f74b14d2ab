"""Write book/checks.md, the verification index, from the chapter notebooks.

For every theorem, lemma, proposition and corollary (sphinx-proof directives
``{prf:theorem}`` and so on) of every notebook listed in ``_toc.yml``, the index
gives a link and says how the book checks it. The *scope* of a result is the
run of code cells that follows the markdown cell stating it, up to the next
cell that states a result or the next section heading (``#`` or ``##``). A code
cell of the scope is a *check* if it contains an assertion (``assert``,
``np.testing.assert_*``, ``torch.testing.assert_*``); the check is *SymPy* if
the cell also uses SymPy (``sp.`` or ``sympy``), otherwise *numeric*. A result
whose scope holds no check is listed as "prose only".

The Sphinx extension ``tools/rlbook_sphinx.py`` calls :func:`write_index` when
the build starts, so the page is always current. By hand::

    python tools/verification_index.py          # writes book/checks.md
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("theorem", "lemma", "proposition", "corollary")

# ```{prf:theorem} Title   or   :::{prf:lemma} Title   then optional option lines
_DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{prf:(?P<kind>" + "|".join(KINDS) + r")\}[ \t]*(?P<title>[^\n]*)\n"
    r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)",
    re.M,
)
_LABEL = re.compile(r"^[ \t]*:label:[ \t]*(\S+)", re.M)
_SECTION = re.compile(r"^#{1,2}[ \t]+\S", re.M)          # a chapter title or a section
_ASSERT = re.compile(
    r"^\s*assert\b|\b(?:np|numpy|torch)\.testing\.assert_\w*\(|\bassert_allclose\(", re.M)
_SYMPY = re.compile(r"\bsp\.|\bsympy\b")


@dataclass
class Result:
    """One stated result of a chapter and the checks that follow it."""

    kind: str                     # theorem, lemma, proposition or corollary
    title: str                    # the directive's title (may be empty)
    label: str | None             # the :label: option, None if the result has none
    docname: str                  # the notebook's document name, e.g. "book/c02_bellman_equation"
    sympy_cells: int = 0          # code cells of the scope with a SymPy assertion
    numeric_cells: int = 0        # code cells of the scope with an assertion and no SymPy
    source: str = field(default="", repr=False)

    @property
    def method(self) -> str:
        """How the result is checked: "SymPy and numeric", "SymPy", "numeric" or "prose only"."""
        if self.sympy_cells and self.numeric_cells:
            return "SymPy and numeric"
        if self.sympy_cells:
            return "SymPy"
        if self.numeric_cells:
            return "numeric"
        return "prose only"


def _cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def classify_code(source: str) -> str | None:
    """Return "sympy", "numeric" or None (the cell asserts nothing)."""
    if not _ASSERT.search(source):
        return None
    return "sympy" if _SYMPY.search(source) else "numeric"


def scan_notebook(cells: list[dict], docname: str) -> list[Result]:
    """The results stated in ``cells`` (a notebook's cell list) with their checks."""
    results: list[Result] = []
    open_results: list[Result] = []     # results whose scope is still running
    for cell in cells:
        src = _cell_source(cell)
        if cell.get("cell_type") == "markdown":
            found = list(_DIRECTIVE.finditer(src))
            if found:
                open_results = []
                for m in found:
                    label = _LABEL.search(m.group("options"))
                    r = Result(m.group("kind"), m.group("title").strip(),
                               label.group(1) if label else None, docname)
                    results.append(r)
                    open_results.append(r)
                continue
            # a new section (without a result of its own) closes the scope
            if _SECTION.search(src):
                open_results = []
        elif cell.get("cell_type") == "code":
            kind = classify_code(src)
            for r in open_results:
                if kind == "sympy":
                    r.sympy_cells += 1
                elif kind == "numeric":
                    r.numeric_cells += 1
    return results


def toc_documents(root: Path = ROOT) -> list[str]:
    """Document names listed in ``_toc.yml``, in the order of the table of contents."""
    text = (root / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"^\s*-?\s*(?:root|file):\s*['\"]?([^'\"\s#]+)", text, flags=re.M)


def collect(root: Path = ROOT) -> list[tuple[str, str, list[Result]]]:
    """(docname, chapter title, results) for each notebook of the table of contents."""
    out = []
    for doc in toc_documents(root):
        path = (root / doc).with_suffix(".ipynb")
        if not path.is_file():
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        title = doc
        for cell in cells:
            if cell.get("cell_type") == "markdown":
                m = re.search(r"^#[ \t]+(.+)$", _cell_source(cell), re.M)
                if m:
                    title = m.group(1).strip()
                    break
        out.append((doc, title, scan_notebook(cells, doc)))
    return out


def _link(r: Result, page_doc: str) -> str:
    if r.label:
        return "{prf:ref}`" + r.label + "`"
    # no label: link to the chapter, name the result
    same_dir = Path(page_doc).parent == Path(r.docname).parent
    rel = Path(r.docname).name if same_dir else "/" + r.docname
    return "{doc}`" + f"{r.kind.capitalize()}: {r.title} <{rel}>" + "`"


def render(chapters: list[tuple[str, str, list[Result]]], page_doc: str = "book/checks") -> str:
    """The Markdown (MyST) text of the verification index."""
    everything = [r for _, _, rs in chapters for r in rs]
    counts = {m: sum(r.method == m for r in everything)
              for m in ("SymPy and numeric", "SymPy", "numeric", "prose only")}
    lines = [
        "<!-- Generated by tools/verification_index.py when the book is built: do not edit. -->",
        "",
        "(checks)=",
        "# Verification index",
        "",
        "Every theorem, lemma, proposition and corollary of the book, and how the book checks it.",
        "A result is checked by **SymPy** when a code cell after its statement (up to the next",
        "result or section) re-derives it symbolically and asserts the outcome, **numeric** when",
        "such a cell asserts it on concrete numbers (an independent route, a random instance, a",
        "Monte Carlo estimate within its standard errors), and **prose only** when the book",
        "proves it in words and no assertion follows. The page is generated from the notebooks",
        "each time the book is built (`tools/verification_index.py`), so it cannot fall behind.",
        "",
        f"In total: {len(everything)} results; "
        + "; ".join(f"{n} {m}" for m, n in counts.items()) + ".",
        "",
    ]
    for doc, title, results in chapters:
        if not results:
            continue
        rel = Path(doc).name if Path(page_doc).parent == Path(doc).parent else "/" + doc
        lines += [f"## {title}", "", "Chapter: {doc}`" + f"{title} <{rel}>" + "`.", "",
                  "| Result | Statement | Checked by | SymPy cells | Numeric cells |",
                  "|---|---|---|---:|---:|"]
        for r in results:
            title = r.title.replace("|", "\\|") or r.kind
            lines.append(f"| {_link(r, page_doc)} | {title} | {r.method} | {r.sympy_cells} | "
                         f"{r.numeric_cells} |")
        lines.append("")
    return "\n".join(lines)


def write_index(root: Path = ROOT, target: str = "book/checks.md") -> Path:
    """Write the index to ``root/target`` if its text changed; return the path."""
    path = root / target
    text = render(collect(root), page_doc=str(Path(target).with_suffix("")))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    out = write_index(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
    print(f"wrote {out}")
