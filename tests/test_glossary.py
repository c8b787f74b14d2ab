"""tools/glossary.py: at least 100 terms in English and Chinese, each unique, and
every link points at a label or heading that exists; terms of chapters in
preparation link to their chapter only once it is in the table of contents."""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import glossary  # noqa: E402


def notebooks():
    return {p.stem: "\n".join("".join(c["source"]) for c in
                              json.loads(p.read_text(encoding="utf-8"))["cells"])
            for p in (ROOT / "book").glob("*.ipynb")}


def test_at_least_100_terms_each_in_both_languages_and_unique():
    terms = glossary.TERMS
    assert len(terms) >= 100
    en = [t[0].lower() for t in terms]
    zh = [t[1] for t in terms]
    assert len(set(en)) == len(en) and len(set(zh)) == len(zh)
    assert all(re.search(r"[\u4e00-\u9fff]", z) for z in zh), "every term needs its Chinese"
    assert all(t[2] for t in terms)


def test_every_link_target_exists():
    nbs = notebooks()
    text = "\n".join(nbs.values())
    for en, _, _, where in glossary.TERMS:
        if where[0] in ("prf", "ref"):
            assert re.search(r":label:\s*" + re.escape(where[1]) + r"\s", text) or \
                re.search(r"\{solution-start\}\s*" + re.escape(where[1]), text) or \
                re.search(r"^:label:\s*" + re.escape(where[1]) + "$", text, flags=re.M), \
                f"{en}: label {where[1]} not found"
        elif where[0] == "sec":
            assert re.search(r"^#{2,3} " + re.escape(where[2]) + r"\s*$", nbs[where[1]],
                             flags=re.M), f"{en}: heading {where[2]!r} not in {where[1]}"


def test_planned_chapters_link_only_when_in_the_toc(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("root: book/intro\nchapters:\n  - file: book/c05_monte_carlo\n")
    text = glossary.render(tmp_path)
    assert "{doc}`c05_monte_carlo`" not in text             # listed but no notebook yet
    (tmp_path / "book" / "c05_monte_carlo.ipynb").write_text("{}")
    text = glossary.render(tmp_path)
    assert "{doc}`c05_monte_carlo`" in text
    assert "{doc}`c07_temporal_difference`" not in text      # notebook not in the toc
