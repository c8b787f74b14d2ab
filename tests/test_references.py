"""book/references.bib parses, has no repeated key, and every entry has a title and a year
(merges of the bibliography are unions of lines, which can break an entry silently)."""
import re
from pathlib import Path

from pybtex.database import parse_file

BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"


def test_bibliography_parses_with_unique_complete_entries():
    keys = re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", BIB.read_text(encoding="utf-8"), flags=re.M)
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    assert not repeated, f"repeated keys in references.bib: {repeated}"
    db = parse_file(str(BIB))
    assert len(db.entries) == len(keys)
    for key, entry in db.entries.items():
        assert "title" in entry.fields, f"{key} has no title"
        assert "year" in entry.fields, f"{key} has no year"
        assert entry.persons, f"{key} has no author or editor"
