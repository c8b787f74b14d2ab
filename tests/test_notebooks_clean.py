"""Repository hygiene: committed notebooks carry no outputs, every chapter is in
the table of contents, and the public API of shared/API.md exists."""
import json
import re
from pathlib import Path

import pytest

import rlbook as rb

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
# pages the build writes itself (tools/verification_index.py and tools/glossary.py)
GENERATED = {"book/checks", "book/glossary"}


def toc_entries():
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"^\s*-?\s*(?:root|file):\s*['\"]?([^'\"\s#]+)", text, flags=re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    entries = toc_entries()
    for e in entries:
        if e in GENERATED:
            continue
        base = ROOT / e
        assert any(p.is_file() for p in (base, base.with_suffix(".ipynb"), base.with_suffix(".md"))), e
    listed = {(ROOT / e).with_suffix(".ipynb") for e in entries}
    for nb in NOTEBOOKS:
        assert nb in listed, f"{nb.name} is not in _toc.yml"


API_NAMES = [
    "FiniteMDP", "policy_matrices", "evaluate_policy", "q_from_v", "greedy_policy",
    "value_iteration", "policy_iteration", "truncated_policy_iteration", "GridWorld",
    "softmax_policy", "discounted_visitation", "policy_objective", "exact_policy_gradient",
    "natural_policy_gradient", "conjugate_gradient", "gae", "clipped_surrogate_objective",
]


@pytest.mark.parametrize("name", API_NAMES)
def test_api_contract_names_exist(name):
    assert callable(getattr(rb, name, None)), f"rlbook.{name} is part of shared/API.md"
    assert getattr(rb, name).__doc__, f"rlbook.{name} needs a docstring"
