#!/usr/bin/env python3
"""Mutation-testing status from mutmut's result files, checked against the register.

    mutmut run ...                              # (see README, "Contributing")
    python tools/mutation_status.py             # table per module + open survivors
    python tools/mutation_status.py --markdown  # the same table as Markdown

Reads the results that mutmut 3 keeps in ``mutants/**/*.meta`` (one exit code per
mutant) and the register of equivalent mutants, ``tests/mutation_equivalents.md``,
whose first column names mutants as ``module: `function` N, M, P-Q`` (several modules
separated by ``;``; a method as ``Class.method``). Per module it prints the mutants
tested, killed (a failing test or a timeout), surviving (split into registered
equivalents and *open* survivors, i.e. test gaps), mutants no test reaches, and
mutants not yet run; the raw score is killed / tested. It then lists every open
survivor and every register entry that is no longer a survivor (stale: the mutant is
killed now, or its number moved when the function changed).

Exit code 1 if any survivor is open or any register entry is stale, so the register
stays exact.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# mutmut 3.8's exit codes (mutmut/stats.py); anything else counts as "suspicious"
KILLED = {1, 3, 36, -24, 24, 152, 255, 37, -11, -9}
SURVIVED = {0}
NO_TESTS = {5, 33}
SKIPPED = {34}


def mutant_key(module: str, function: str, n: int) -> str:
    """``dp/bellman``, ``FiniteMDP.step``, 4 -> mutmut's mutant name."""
    if "." in function:
        cls, meth = function.split(".", 1)
        mangled = f"x\u01c1{cls}\u01c1{meth}"
    else:
        mangled = f"x_{function}"
    return f"rlbook.{module.replace('/', '.')}.{mangled}__mutmut_{n}"


def _numbers(text: str) -> list[int]:
    out = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def read_register(path: Path) -> dict[str, int]:
    """Mutant name -> line number of its row in the register."""
    names: dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.startswith("| ") or line.startswith("| mutant") or line.startswith("|---"):
            continue
        first = line.split(" | ", 1)[0][2:]
        if ":" not in first:
            continue  # a row of another table
        for part in first.split(";"):
            if ":" not in part:
                continue
            module, rest = part.split(":", 1)
            module = module.strip()
            # `function` followed by its mutant numbers (until the next backtick or bracket)
            for fn, nums in re.findall(r"`([A-Za-z_][\w.]*)`\s+([\d][\d,\s\-]*)", rest):
                for n in _numbers(nums.rstrip(", ")):
                    names[mutant_key(module, fn, n)] = lineno
    return names


def read_results(mutants: Path) -> dict[str, dict[str, int | None]]:
    """Module (``dp/bellman``) -> {mutant name: exit code or None (not run)}."""
    out = {}
    for meta in sorted(mutants.glob("rlbook/**/*.py.meta")):
        module = str(meta.relative_to(mutants / "rlbook"))[: -len(".py.meta")]
        data = json.loads(meta.read_text(encoding="utf-8"))
        out[module] = data["exit_code_by_key"]
    return out


def status(code) -> str:
    if code is None:
        return "pending"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in SKIPPED:
        return "skipped"
    if code in KILLED:
        return "killed"
    return "suspicious"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    ap.add_argument("--register", type=Path, default=ROOT / "tests" / "mutation_equivalents.md")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args(argv)
    if not args.mutants.is_dir():
        print(f"no mutmut results in {args.mutants}: run mutmut first", file=sys.stderr)
        return 2
    register = read_register(args.register)
    results = read_results(args.mutants)
    rows, open_, seen, known = [], [], set(), {}
    total = Counter()
    for module, codes in results.items():
        c = Counter()
        for name, code in codes.items():
            st = status(code)
            known[name] = st
            c[st] += 1
            if st == "survived":
                seen.add(name)
                c["equivalent" if name in register else "open"] += 1
                if name not in register:
                    open_.append(name)
        c["total"] = len(codes)
        c["tested"] = c["killed"] + c["survived"] + c["suspicious"]
        total.update(c)
        rows.append((module, c))
    rows.append(("all", total))
    # stale: registered but killed now, or no such mutant (renumbered); a registered mutant
    # that has not been run yet is not stale
    stale = sorted(n for n in register if n not in seen and known.get(n) != "pending")

    def score(c):
        return f"{100 * c['killed'] / c['tested']:.1f} %" if c["tested"] else "-"

    if args.markdown:
        print("| module | tested / total | killed (raw score) | survivors: equivalent + open "
              "| no tests | not run |")
        print("|---|---|---|---|---|---|")
        for module, c in rows:
            name = f"**{module}**" if module == "all" else module
            print(f"| {name} | {c['tested']:,} / {c['total']:,} | {c['killed']:,} ({score(c)}) "
                  f"| {c['equivalent']} + {c['open']} | {c['no tests']} | {c['pending']:,} |")
    else:
        print(f"{'module':38s} {'tested':>7s} {'total':>7s} {'killed':>7s} {'score':>8s} "
              f"{'equiv':>6s} {'open':>5s} {'no-tests':>8s} {'not-run':>7s}")
        for module, c in rows:
            print(f"{module:38s} {c['tested']:7d} {c['total']:7d} {c['killed']:7d} "
                  f"{score(c):>8s} {c['equivalent']:6d} {c['open']:5d} {c['no tests']:8d} "
                  f"{c['pending']:7d}")
    if open_:
        print(f"\nopen survivors (no test, not registered as equivalent): {len(open_)}")
        for n in open_:
            print("  ", n)
    if stale:
        print(f"\nregister entries that are not survivors (killed now, or renumbered): "
              f"{len(stale)}")
        for n in stale:
            print(f"   {n} (line {register[n]})")
    return 1 if open_ or stale else 0


if __name__ == "__main__":
    sys.exit(main())
