"""Many machines: `--shard K/N` and `python -m acceptance merge`.

Three shards run separately (as three CI machines would, each with `bin/suite --shard K/3`) and
merged equal a serial run scenario by scenario; a missing shard's scenarios are reported broken;
the shares are a deterministic partition balanced by durations."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from acceptance.reporting.results_folder import read_environment
from acceptance.runner import parallel, shards
from acceptance.runner.parallel import Item

ROOT = Path(__file__).resolve().parents[2]
SELECTION = ["features/realtime", "features/persistence", "features/health"]


@pytest.fixture(scope="module")
def serial_and_shards(tmp_path_factory):
    base = tmp_path_factory.mktemp("shards")
    serial = base / "serial" / "allure-results"
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "progress", "-D", f"allure_results={serial}",
                           *SELECTION], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs = []
    for k in (1, 2, 3):   # each "machine" with its own checkout-relative reports folder
        results = base / f"machine-{k}" / "allure-results"
        runs.append(subprocess.run(["bin/suite", "--shard", f"{k}/3", "--no-report", "-f", "progress",
                                    "-D", f"allure_results={results}", *SELECTION],
                                   cwd=ROOT, capture_output=True, text=True, timeout=180))
    return base, serial, runs


def _merge(base: Path, *machines: int) -> tuple[Path, subprocess.CompletedProcess]:
    merged = base / ("merged-" + "".join(map(str, machines))) / "allure-results"
    done = subprocess.run([sys.executable, "-m", "acceptance", "merge", "--no-report", "-o", str(merged),
                           *[str(base / f"machine-{k}" / "allure-results") for k in machines]],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    return merged, done


def test_three_shards_merged_equal_the_serial_run_scenario_by_scenario(serial_and_shards):
    base, serial, runs = serial_and_shards
    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    sizes = [int(re.search(r"shard \d/3: (\d+) of (\d+) scenario", run.stdout).group(1)) for run in runs]
    total = int(re.search(r"of (\d+) scenario", runs[0].stdout).group(1))
    assert sum(sizes) == total == len(list(serial.glob("*-result.json"))) and all(sizes)
    merged, done = _merge(base, 1, 2, 3)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == f"{total} passed, 0 failed"
    expected, actual = parallel.report_digest(serial), parallel.report_digest(merged)
    assert set(actual) == set(expected)
    assert parallel.digest_differences(expected, actual) == []
    for key in expected:
        assert actual[key] == expected[key], key
    referenced = {a["source"] for p in merged.glob("*-result.json") for a in json.loads(p.read_text())["attachments"]}
    assert referenced and all((merged / s).is_file() for s in referenced)
    assert not (merged / "shard.json").exists()
    properties = read_environment(merged)
    assert properties["shards"] == "3 of 3" and "shard" not in properties
    assert "(3 shards)" in json.loads((merged / "executor.json").read_text())["buildName"]
    # JUnit from every kind of run: each shard's and the merged one
    for k in (1, 2, 3):
        cases = ET.parse(base / f"machine-{k}" / "junit.xml").getroot().findall("testsuite/testcase")
        assert len(cases) == sizes[k - 1]
    assert len(ET.parse(merged.parent / "junit.xml").getroot().findall("testsuite/testcase")) == total
    durations = json.loads((merged.parent / "durations.json").read_text())["scenarios"]
    assert len(durations) == total


def test_a_missing_shard_is_reported_as_broken(serial_and_shards):
    base, serial, runs = serial_and_shards
    merged, done = _merge(base, 1, 3)
    assert done.returncode == 1
    assert "shard 2 is missing" in done.stdout
    manifest = json.loads((base / "machine-1" / "allure-results" / "shard.json").read_text())
    lost = {parallel.result_key({"fullName": i["fullName"], "parameters": [{"name": k, "value": v}
                                                                             for k, v in i["parameters"]]})
            for i in manifest["shares"][1]}
    results = [json.loads(p.read_text()) for p in merged.glob("*-result.json")]
    assert len(results) == len(list(serial.glob("*-result.json")))
    broken = [r for r in results if r["status"] == "broken"]
    assert {parallel.result_key(r) for r in broken} == lost
    assert all("Shard 2/3 delivered no results" in r["statusDetails"]["message"] for r in broken)
    errors = ET.parse(merged.parent / "junit.xml").getroot().findall("testsuite/testcase/error")
    assert len(errors) == len(lost) and all(e.get("type") == "Suite defect" for e in errors)


def test_folders_of_different_plans_are_refused(serial_and_shards, tmp_path):
    base, _, _ = serial_and_shards
    other = tmp_path / "other" / "allure-results"
    shutil.copytree(base / "machine-2" / "allure-results", other)
    manifest = json.loads((other / "shard.json").read_text())
    manifest["fingerprint"] = "0" * 64
    (other / "shard.json").write_text(json.dumps(manifest))
    done = subprocess.run([sys.executable, "-m", "acceptance", "merge", "--no-report", "-o", str(tmp_path / "m" / "r"),
                           str(base / "machine-1" / "allure-results"), str(other)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "different inputs" in done.stderr


def _items(*weights: float) -> tuple[list[Item], None, dict]:
    items = [Item(f"f.feature:{n}", f"f.feature :: s{n}", (("row", str(n)),) if n % 2 else (), n)
             for n in range(len(weights))]
    return items, None, {i.key: w for i, w in zip(items, weights)}


def test_the_shares_are_a_deterministic_partition_balanced_by_the_durations_file(tmp_path):
    items, _, durations = _items(30, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 2, 2)
    path = tmp_path / "durations.json"
    path.write_text(json.dumps({"scenarios": [{"fullName": k[0], "parameters": [list(p) for p in k[1]], "seconds": s}
                                              for k, s in durations.items()]}))
    plan = shards.plan(items, 3, path)
    again = shards.plan(list(reversed(items)), 3, path)      # discovery order does not matter: serial order does
    assert [[i.key for i in s] for s in plan.shares] == [[i.key for i in s] for s in again.shares]
    assert plan.fingerprint == again.fingerprint
    assert sorted(i.order for s in plan.shares for i in s) == list(range(len(items)))
    loads = sorted(sum(durations[i.key] for i in share) for share in plan.shares)
    assert loads == [16, 16, 30]                             # the 30 s scenario alone; the rest even
    assert "durations from" in plan.basis
    with pytest.raises(parallel.UsageError):
        shards.plan(items, 3, tmp_path / "missing.json")
    many = shards.plan(items[:2], 4, path)                  # more shards than scenarios: the rest run nothing
    assert [len(s) for s in many.shares] == [1, 1, 0, 0]


def test_a_subprocess_computes_the_same_shares(tmp_path):
    code = ("from acceptance.runner import parallel, shards; import json; items = parallel.discover([], []); "
            "p = shards.plan(items, 3, None); print(p.fingerprint, json.dumps([len(s) for s in p.shares]))")
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and outs.pop().strip()


def test_shard_numbers_are_checked():
    assert shards.parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(parallel.UsageError):
            shards.parse_shard(bad)
