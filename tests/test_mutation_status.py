"""tools/mutation_status.py: mutmut's results checked against the register of equivalents."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("mutation_status", ROOT / "tools" / "mutation_status.py")
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)

REGISTER = """# register

| mutant (module: function, change) | why it is equivalent |
|---|---|
| dp/bellman: `f` 2, 4-5; mdp: `FiniteMDP.step` 7 | reason one |
| dp/bellman: `g` 1 (`x < 1` -> `x <= 1`) | reason two |

| module | tested / total |
|---|---|
| dp/bellman | 3 / 4 |
"""


def _write(tmp_path, results):
    for module, codes in results.items():
        meta = tmp_path / "mutants" / "rlbook" / f"{module}.py.meta"
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"exit_code_by_key": codes}))
    reg = tmp_path / "register.md"
    reg.write_text(REGISTER)
    return ["--mutants", str(tmp_path / "mutants"), "--register", str(reg)]


def test_mutant_names_follow_mutmut():
    assert ms.mutant_key("dp/bellman", "f", 3) == "rlbook.dp.bellman.x_f__mutmut_3"
    assert (ms.mutant_key("mdp", "FiniteMDP.step", 7)
            == "rlbook.mdp.x\u01c1FiniteMDP\u01c1step__mutmut_7")


def test_register_rows_ranges_and_several_modules(tmp_path):
    reg = tmp_path / "r.md"
    reg.write_text(REGISTER)
    names = ms.read_register(reg)
    key = ms.mutant_key
    assert set(names) == {key("dp/bellman", "f", 2), key("dp/bellman", "f", 4),
                          key("dp/bellman", "f", 5), key("mdp", "FiniteMDP.step", 7),
                          key("dp/bellman", "g", 1)}
    # the status table below the register is not read as mutants
    assert not any("tested" in n for n in names)


def test_open_and_stale_survivors_fail(tmp_path, capsys):
    key = ms.mutant_key
    results = {"dp/bellman": {key("dp/bellman", "f", 1): 1,      # killed
                              key("dp/bellman", "f", 2): 0,      # survived, registered
                              key("dp/bellman", "f", 3): 0,      # survived, open
                              key("dp/bellman", "f", 4): -24,    # timeout = killed; stale
                              key("dp/bellman", "f", 5): 0,
                              key("dp/bellman", "g", 1): None,   # registered, not run: not stale
                              key("dp/bellman", "g", 2): None},  # not run
               "mdp": {key("mdp", "FiniteMDP.step", 7): 0, key("mdp", "h", 1): 33}}
    assert ms.main(_write(tmp_path, results)) == 1
    out = capsys.readouterr().out
    assert key("dp/bellman", "f", 3) in out.split("open survivors")[1]
    assert key("dp/bellman", "f", 4) in out.split("not survivors")[1]
    row = next(line for line in out.splitlines() if line.startswith("dp/bellman"))
    # tested 5 (two not run), killed 2, score 2/5, equivalent 2, open 1, no tests 0, not run 2
    assert row.split()[1:] == ["5", "7", "2", "40.0", "%", "2", "1", "0", "2"]
    assert key("dp/bellman", "g", 1) not in out
    row = next(line for line in out.splitlines() if line.startswith("mdp"))
    assert row.split()[1:] == ["1", "2", "0", "0.0", "%", "1", "0", "1", "0"]


def test_clean_register_passes_and_markdown(tmp_path, capsys):
    key = ms.mutant_key
    results = {"dp/bellman": {key("dp/bellman", n, k): 0
                              for n, k in (("f", 2), ("f", 4), ("f", 5), ("g", 1))}
               | {key("dp/bellman", "f", 9): 1},
               "mdp": {key("mdp", "FiniteMDP.step", 7): 0}}
    assert ms.main(_write(tmp_path, results) + ["--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| dp/bellman | 5 / 5 | 1 (20.0 %) | 4 + 0 | 0 | 0 |" in out
    assert "| **all** | 6 / 6 | 1 (16.7 %) | 5 + 0 | 0 | 0 |" in out


def test_no_results_is_a_clear_error(tmp_path, capsys):
    assert ms.main(["--mutants", str(tmp_path / "none")]) == 2
    assert "run mutmut first" in capsys.readouterr().err


@pytest.mark.parametrize("code,expected", [(None, "pending"), (0, "survived"), (33, "no tests"),
                                           (1, "killed"), (-24, "killed"), (34, "skipped"),
                                           (99, "suspicious")])
def test_exit_codes(code, expected):
    assert ms.status(code) == expected


def test_every_row_of_the_real_register_names_mutants(tmp_path):
    text = (ROOT / "tests" / "mutation_equivalents.md").read_text(encoding="utf-8")
    table = text.split("| mutant (module: function, change)", 1)[1].split("\n\n", 1)[0]
    rows = [r for r in table.splitlines() if r.startswith("| ") and not r.startswith("|---")]
    assert len(rows) >= 40
    for row in rows:
        one = tmp_path / "one.md"
        one.write_text(row + "\n")
        assert ms.read_register(one), f"row names no mutant: {row[:80]}"


def test_every_mutant_number_in_the_real_register_is_read():
    """Each number in a row's first column (outside backticks and parentheses, where the
    change is described) names a mutant that read_register returns: a row written as
    ``57 (desc), 58 (desc)`` would silently register only 57."""
    import re
    path = ROOT / "tests" / "mutation_equivalents.md"
    per_line: dict[int, int] = {}
    for line in ms.read_register(path).values():
        per_line[line] = per_line.get(line, 0) + 1
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.startswith("| ") or line.startswith(("| mutant", "|---")):
            continue
        first = line.split(" | ", 1)[0]
        if ":" not in first:
            continue
        text = re.sub(r"\([^)]*\)", "", re.sub(r"`[^`]*`", "", first))
        n = 0
        for lo, hi in re.findall(r"(\d+)(?:-(\d+))?", text):
            n += int(hi) - int(lo) + 1 if hi else 1
        assert per_line.get(lineno, 0) == n, f"register line {lineno}: {first}"
