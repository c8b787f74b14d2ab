"""The errata page (book/errata.md) lists errors of common sources, each with the
check of the book that demonstrates it. Every entry carries a line

    <!-- errata-check: book/<notebook>.ipynb :: <a string of the checking cell> -->

and this test fails if the notebook or the string is gone, so a listed check
cannot be removed silently."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ERRATA = ROOT / "book" / "errata.md"
CHECK = re.compile(r"<!--\s*errata-check:\s*(?P<file>\S+)\s*::\s*(?P<anchor>.+?)\s*-->")


def _norm(text):
    return re.sub(r"\s+", " ", text).strip()


def errata_checks(text):
    """(file, anchor) for every entry of the errata page, in order."""
    return [(m.group("file"), m.group("anchor")) for m in CHECK.finditer(text)]


def notebook_text(path):
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return " ".join(_norm("".join(c["source"]) if isinstance(c["source"], list)
                          else c["source"]) for c in cells)


def test_every_entry_has_one_check():
    text = ERRATA.read_text(encoding="utf-8")
    entries = re.findall(r"^### ", text, flags=re.M)
    checks = errata_checks(text)
    assert len(entries) == len(checks), (
        f"{len(entries)} entries but {len(checks)} errata-check lines in {ERRATA.name}")
    assert len(checks) >= 15, f"the errata page lists {len(checks)} entries, expected >= 15"


@pytest.mark.parametrize("path,anchor", errata_checks(ERRATA.read_text(encoding="utf-8")))
def test_listed_check_exists(path, anchor):
    nb = ROOT / path
    assert nb.is_file(), f"errata entry points at {path}, which does not exist"
    assert _norm(anchor) in notebook_text(nb), (
        f"errata entry's check {anchor!r} is no longer in {path}: restore the check or "
        "update the entry in book/errata.md")


def test_anchor_detection_fails_on_a_missing_string(tmp_path):
    # the mechanism itself: a string that is not in the notebook is reported
    nb = tmp_path / "x.ipynb"
    cell = {"cell_type": "code", "source": ["assert  a ==\n", "b"]}
    nb.write_text(json.dumps({"cells": [cell]}))
    assert _norm("assert a == b") in notebook_text(nb)
    assert _norm("assert a != b") not in notebook_text(nb)
    line = "x <!-- errata-check: book/a.ipynb :: s t -->"
    assert errata_checks(line) == [("book/a.ipynb", "s t")]
