"""docs/ci/: the CI examples are valid YAML by yamllint, and every command they run exists and
accepts the options given (bin/ scripts, `bin/suite --shard`, `python -m acceptance merge`)."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from acceptance.runner import parallel

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "docs" / "ci").glob("*.yml"))
SAMPLE = {"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3", "SHARDS": "3", "GITHUB_STEP_SUMMARY": "/tmp/summary"}


def test_there_is_a_github_and_a_gitlab_example():
    assert {p.name for p in EXAMPLES} == {"github-actions.yml", "gitlab-ci.yml"}


def test_yamllint_passes():
    done = subprocess.run([sys.executable, "-m", "yamllint", "--strict", "-c", str(ROOT / ".yamllint.yml"),
                           *map(str, EXAMPLES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _commands(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text())
    lines: list[str] = []
    for name, job in (data.get("jobs") or data).items():
        if not isinstance(job, dict):
            continue
        for step in job.get("steps") or []:                      # GitHub Actions
            if "run" in step:
                lines += step["run"].replace("\\\n", " ").splitlines()
        for key in ("before_script", "script"):                  # GitLab CI
            for entry in job.get(key) or []:
                lines += entry.replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip()]


def _expand(line: str, shard: str = "2") -> list[str]:
    line = re.sub(r"\$\{\{\s*matrix\.shard\s*\}\}", shard, line)
    line = re.sub(r"\$\{?(\w+)\}?", lambda m: SAMPLE.get(m.group(1), m.group(0)), line)
    return shlex.split(line)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_command_of_the_project_exists_and_takes_its_options(path):
    checked = 0
    for line in _commands(path):
        words = _expand(line)
        for word in words:
            if word.startswith("bin/"):
                assert (ROOT / word).is_file() and (ROOT / word).stat().st_mode & 0o111, f"{word} ({path.name})"
        if words[:1] == ["bin/suite"]:
            args = words[1:]
            if "--shard" in args:      # bin/suite hands --shard to the parallel runner with -j 1
                plan = parallel.parse_command_line(["-j", "1", *args])
                assert plan.shard == (2, 3) and plan.durations_from is not None and not plan.report
            checked += 1
        if "-m" in words and words[words.index("-m") + 1:][:1] == ["acceptance"]:
            sub = words[words.index("-m") + 2]
            help_text = subprocess.run([sys.executable, "-m", "acceptance", sub, "--help"], cwd=ROOT,
                                       capture_output=True, text=True, timeout=60)
            assert help_text.returncode == 0, help_text.stderr
            for option in (w.split("=", 1)[0] for w in words if w.startswith("-") and w != "-m"):
                assert option in help_text.stdout, f"{option} of `{line}` is not an option of acceptance {sub}"
            checked += 1
        for word in words:
            if word.startswith("features/"):
                assert (ROOT / word).exists(), f"{word} ({path.name})"
    assert checked >= 2, f"{path.name}: no suite or merge command found"


def test_every_shard_writes_to_its_own_folder_and_the_matrix_covers_every_shard():
    github = yaml.safe_load((ROOT / "docs" / "ci" / "github-actions.yml").read_text())
    shards = github["jobs"]["suite"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(github["env"]["SHARDS"]) + 1))
    gitlab = yaml.safe_load((ROOT / "docs" / "ci" / "gitlab-ci.yml").read_text())
    assert gitlab["suite"]["parallel"] >= 2
    for text in (" ".join(_commands(p)) for p in EXAMPLES):
        suite = next(line for line in text.split("bin/suite ")[1:])
        assert re.search(r"allure_results=\"?shards/(\$\{\{ matrix\.shard \}\}|\$CI_NODE_INDEX)/", suite), suite
