"""The GitHub workflows parse as YAML and run the README's commands: the book
workflow the test command and a -W build and a Pages deployment from main; the
weekly workflow a scheduled re-execution with the pinned and the newest versions
that opens an issue on failure."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def readme_commands():
    """The shell commands of the README's fenced bash blocks, one per line."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.split("#")[0].strip() for b in blocks for line in b.splitlines()
            if line.split("#")[0].strip()]


def load(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "jobs" in data, f"{name}: no jobs"
    return data


def triggers(data):
    return data.get("on", data.get(True))     # YAML 1.1 reads the key `on` as True


def run_lines(data):
    return [line.strip() for job in data["jobs"].values() for step in job.get("steps", [])
            for line in str(step.get("run", "")).splitlines()]


def uses(data):
    return [step.get("uses", "") for job in data["jobs"].values() for step in job.get("steps", [])]


def test_readme_has_the_two_commands():
    cmds = readme_commands()
    assert "pip install -r requirements.txt && jupyter-book build ." in cmds
    assert "pip install -r requirements.txt && pytest" in cmds


@pytest.mark.parametrize("name", ["book.yml", "weekly.yml"])
def test_workflow_parses_and_runs_the_readme_test_command(name):
    data = load(name)
    runs = run_lines(data)
    assert "pip install -r requirements.txt && pytest" in runs
    assert any(r.startswith("jupyter-book build") and "-W" in r.split() and r.endswith(" .")
               for r in runs), f"{name}: no jupyter-book build -W ."


def test_book_workflow_deploys_pages_from_main():
    data = load("book.yml")
    assert "main" in triggers(data)["push"]["branches"]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses(data))
    assert any(u.startswith("actions/deploy-pages") for u in uses(data))
    upload = [s for j in data["jobs"].values() for s in j["steps"]
              if s.get("uses", "").startswith("actions/upload-pages-artifact")][0]
    assert upload["with"]["path"] == "_build/html"
    deploy = data["jobs"]["deploy"]
    assert "refs/heads/main" in deploy["if"]


def test_weekly_workflow_is_scheduled_against_pinned_and_newest_and_reports():
    data = load("weekly.yml")
    assert triggers(data)["schedule"][0]["cron"]
    matrix = data["jobs"]["execute"]["strategy"]["matrix"]["versions"]
    assert set(matrix) == {"pinned", "newest"}
    opener = [s for s in data["jobs"]["execute"]["steps"] if s.get("if") == "failure()"]
    assert opener and "issues.create" in opener[0]["with"]["script"]
    assert data["permissions"]["issues"] == "write"


def test_cpu_torch_index_only_in_workflows_not_in_requirements():
    req = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "--index-url" not in req and "download.pytorch.org" not in req
