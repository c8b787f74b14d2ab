"""The reader's set-up: offline MathJax, JupyterLab installed, a .venv kept out of
the book and of git, Python versions claimed where the pins install."""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def requirements():
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return {m.group(1).lower(): m.group(2) for line in lines
            if (m := re.match(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", line))}


def test_mathjax_is_served_from_the_book():
    cfg = config()["sphinx"]
    path = cfg["config"]["mathjax_path"]
    assert "://" not in path and not path.startswith("/")
    assert "rlbook_sphinx" in cfg["local_extensions"]
    assert "django-static-mathjax" in requirements()


def test_a_virtual_environment_stays_out_of_the_book_and_git():
    excluded = config()["exclude_patterns"]
    assert ".venv" in excluded and "venv" in excluded
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".venv/" in ignored


def test_jupyterlab_and_the_checker_are_pinned():
    req = requirements()
    assert "jupyterlab" in req and "selenium" in req


def test_python_versions_claimed_match_the_pins():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^requires-python = ">=3.11"', pyproject, flags=re.M)
    assert re.search(r"^numpy==2\.4\.", (ROOT / "requirements.txt").read_text(), flags=re.M)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11 or newer" in readme and "3.10 or newer" not in readme
