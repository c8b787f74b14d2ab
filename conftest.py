"""Root conftest: pytest runs tests/ and, through nbval, every notebook that
_toc.yml lists (and no other)."""
import os
import re
from pathlib import Path

ROOT = Path(__file__).parent
os.environ.setdefault("MPLBACKEND", "Agg")


def toc_notebooks():
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*-?\s*(?:root|file):\s*['\"]?([^'\"\s#]+)", text, flags=re.M)
    return {(ROOT / n).with_suffix(".ipynb").resolve() for n in names
            if (ROOT / n).with_suffix(".ipynb").is_file()}


def pytest_ignore_collect(collection_path, config):
    p = Path(collection_path)
    if p.suffix == ".ipynb":
        if os.environ.get("RLBOOK_ALL_NOTEBOOKS"):  # drafting a chapter not yet in the toc
            return None
        return p.resolve() not in toc_notebooks()
    if p.name in {"_build", ".ipynb_checkpoints", "benchmarks"}:
        return True
    return None
