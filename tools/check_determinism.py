#!/usr/bin/env python3
"""Execute each chapter notebook twice and diff what a reader would see.

    python tools/check_determinism.py                 # every notebook in _toc.yml
    python tools/check_determinism.py book/c02_*.ipynb

Two runs of a chapter must print the same numbers and draw the same figures
(fixed seeds, no wall-clock times). For every code cell the script compares the
text outputs (stream, text/plain, text/html, errors) and the images (PNG/SVG
bytes, by hash). It prints one line per notebook and, for a notebook that
differs, the first differing cells with a short diff. Exit code 1 if any
notebook differs or fails to run. Not part of CI: it runs every chapter twice.
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def toc_notebooks() -> list[Path]:
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*-?\s*(?:root|file):\s*['\"]?([^'\"\s#]+)", text, flags=re.M)
    return [p for p in ((ROOT / n).with_suffix(".ipynb") for n in names) if p.is_file()]


def run(path: Path, timeout: int) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env_path if env_path else "")
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def fingerprint(nb) -> list[tuple[int, str]]:
    """(cell index, rendered outputs) for each code cell."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        parts = []
        streams: dict[str, str] = {}  # a stream may arrive in chunks that differ run to run
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                streams[o.name] = streams.get(o.name, "") + o.text
            elif o.output_type == "error":
                parts.append(f"[error] {o.ename}: {o.evalue}")
            else:
                data = o.get("data", {})
                for mime in sorted(data):
                    val = data[mime]
                    if isinstance(val, list):
                        val = "".join(val)
                    if mime.startswith("image/"):
                        val = hashlib.sha256(str(val).encode()).hexdigest()[:16]
                    elif mime == "application/vnd.jupyter.widget-view+json":
                        continue
                    parts.append(f"[{mime}] {val}")
        parts += [f"[{name}] {text}" for name, text in sorted(streams.items())]
        out.append((i, "\n".join(parts)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args()
    paths = [p.resolve() for p in args.notebooks] or toc_notebooks()
    bad = 0
    for path in paths:
        start = time.perf_counter()
        try:
            a = fingerprint(run(path, args.timeout))
            b = fingerprint(run(path, args.timeout))
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"FAIL  {path.name}: {type(exc).__name__}: {str(exc)[:300]}")
            bad += 1
            continue
        diffs = [(i, x, y) for (i, x), (_, y) in zip(a, b) if x != y]
        took = time.perf_counter() - start
        if diffs:
            bad += 1
            print(f"DIFF  {path.name}: {len(diffs)} of {len(a)} code cells differ ({took:.0f} s for 2 runs)")
            for i, x, y in diffs[:3]:
                lines = list(difflib.unified_diff(x.splitlines(), y.splitlines(), "run 1", "run 2",
                                                  lineterm="", n=0))
                print(f"  cell {i}:")
                for line in lines[:12]:
                    print("    " + line[:160])
        else:
            print(f"same  {path.name}: {len(a)} code cells identical ({took:.0f} s for 2 runs)")
    print(f"{len(paths) - bad} notebooks deterministic, {bad} differ or fail")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
