"""tools/verification_index.py: the verification index (book/checks.md) says, for
each stated result, whether SymPy, numeric assertions, both or nothing check it."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import verification_index as vi  # noqa: E402


def md(src):
    return {"cell_type": "markdown", "source": src}


def code(src):
    return {"cell_type": "code", "source": src}


CELLS = [
    md("# Title\n\n## First section\n\n"
       "```{prf:theorem} Both ways\n:label: t-both\n\nText.\n```\n"),
    code("x = sp.symbols('x')\nassert sp.simplify(x - x) == 0\n"),
    code("np.testing.assert_allclose(1.0, 1.0)\n"),
    md("```{prf:lemma} Symbolic only\n:label: t-sym\n```\n\n```{prf:corollary} Same scope\n```"),
    code("assert sp.expand((x + 1)**2) == x**2 + 2*x + 1\n"),
    md("## Next section\n\nProse."),
    code("assert 1 + 1 == 2\n"),          # outside any result's scope
    md("::::{prf:proposition} Numeric only\n:label: t-num\n::::\n"),
    code("y = np.ones(3)\nprint(y)\n"),  # no assertion: not a check
    code("assert np.all(y == 1)\n"),
    md("### A subsection does not end the scope"),
    code("torch.testing.assert_close(a, b)\n"),
    md("## Exercises\n\n```{prf:theorem} Unchecked\n:label: t-prose\n```"),
    code("print('nothing asserted')\n"),
]


def test_scan_classifies_each_result():
    res = {r.title: r for r in vi.scan_notebook(CELLS, "book/x")}
    assert list(res) == ["Both ways", "Symbolic only", "Same scope", "Numeric only", "Unchecked"]
    assert (res["Both ways"].sympy_cells, res["Both ways"].numeric_cells) == (1, 1)
    assert res["Both ways"].method == "SymPy and numeric"
    assert res["Symbolic only"].method == "SymPy" and res["Same scope"].method == "SymPy"
    assert res["Same scope"].label is None and res["Same scope"].kind == "corollary"
    assert (res["Numeric only"].numeric_cells, res["Numeric only"].method) == (2, "numeric")
    assert res["Unchecked"].method == "prose only"


def test_classify_code():
    assert vi.classify_code("print(1)") is None
    assert vi.classify_code("assert x == 1") == "numeric"
    assert vi.classify_code("assert sp.simplify(e) == 0") == "sympy"
    assert vi.classify_code("np.testing.assert_allclose(a, b)") == "numeric"
    assert vi.classify_code("s = 'assert in a string'") is None


def test_render_links_and_totals():
    text = vi.render([("book/x", "Title", vi.scan_notebook(CELLS, "book/x"))])
    assert "{prf:ref}`t-both`" in text and "{prf:ref}`t-prose`" in text
    assert "{doc}`Corollary: Same scope <x>`" in text      # unlabelled: link to the chapter
    assert "5 results" in text and "1 prose only" in text


def test_book_index_covers_every_result(tmp_path):
    chapters = vi.collect(ROOT)
    assert chapters, "no notebook found through _toc.yml"
    n_directives = 0
    for doc, _, results in chapters:
        src = (ROOT / doc).with_suffix(".ipynb").read_text(encoding="utf-8")
        n_directives += sum(src.count("{prf:" + k + "}") for k in vi.KINDS)
        assert all(r.docname == doc for r in results)
    assert sum(len(rs) for _, _, rs in chapters) == n_directives
    out = vi.write_index(tmp_path_root(tmp_path), "checks.md")
    assert out.read_text(encoding="utf-8").startswith("<!-- Generated")


def tmp_path_root(tmp_path):
    """A copy of the repository's _toc.yml and notebooks under tmp_path."""
    import shutil
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    (tmp_path / "book").mkdir()
    for nb in (ROOT / "book").glob("*.ipynb"):
        shutil.copy(nb, tmp_path / "book" / nb.name)
    return tmp_path
