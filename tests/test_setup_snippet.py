"""tools/setup_cell_snippet.py: the set-up cell lines that explain how to install
rlbook when it is missing (to be pasted into each chapter's set-up cell)."""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import setup_cell_snippet as snip  # noqa: E402


def test_snippet_imports_rlbook_when_present():
    ns = {}
    exec(snip.SNIPPET, ns)
    assert ns["rb"].__name__ == "rlbook"
    assert max(len(line) for line in snip.SNIPPET.splitlines()) <= 88


def test_snippet_explains_the_install_when_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "rlbook", None)      # import rlbook now fails
    with pytest.raises(ModuleNotFoundError) as exc:
        exec(snip.SNIPPET, {})
    assert f'pip install "rlbook @ git+{snip.REPOSITORY}"' in str(exc.value)


def test_one_repository_url_everywhere():
    url = snip.REPOSITORY
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s*url:\s*" + re.escape(url) + r"\s*$", config, flags=re.M)
    assert f'pip install "rlbook @ git+{url}"' in (ROOT / "README.md").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^Repository\s*=\s*"' + re.escape(url) + '"', pyproject, flags=re.M)
