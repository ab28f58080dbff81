"""The suite over many machines: ``--shard K/N`` and ``python -m acceptance merge DIR...``.

**Shares.** Every machine discovers the same scenarios (same checkout, same arguments) and splits
them into N shares with :func:`acceptance.runner.parallel.split`: longest expected first onto the least
loaded share, ties broken by the serial order, so the split depends only on its inputs. The
expected durations come from ``--durations`` (a ``durations.json`` or an Allure results folder)
or else from the committed ``features/durations.json``; a scenario missing there counts as the
median known duration, and with no durations at all every scenario counts the same. Never from
the machine's own previous run: two machines would then compute different shares.

**Manifest.** A shard writes ``shard.json`` into its results folder: K, N, a fingerprint of the
whole plan and every share's scenarios. ``merge`` reads the manifests, refuses folders from
different plans, and adds each scenario of a shard whose folder is missing as a **broken**
result naming the shard, exactly as the local merge does for a crashed worker.

**durations.json** is written beside every parallel, sharded or merged run's results
(``reports/durations.json``): seconds per scenario, rounded to 0.1 s, sorted. Commit it as
``features/durations.json`` (or hand it to the next CI run) to balance the shards.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from acceptance.runner.parallel import ROOT, Item, UsageError, Worker, load_durations, split
from acceptance.runner.results import count_line, counts, read_results, result_key

COMMITTED_DURATIONS = ROOT / "features" / "durations.json"
MANIFEST = "shard.json"


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3); K and N positive, K <= N."""
    k, sep, n = str(text).partition("/")
    try:
        shard, total = int(k), int(n)
    except ValueError:
        raise UsageError(f"--shard needs K/N (e.g. 2/3), not {text!r}") from None
    if not sep or total < 1 or not 1 <= shard <= total:
        raise UsageError(f"--shard needs 1 <= K <= N, not {text!r}")
    return shard, total


# --------------------------------------------------------------------------- durations file
def _key_text(key: tuple) -> str:
    name, params = key
    return name + "".join(f" [{k}={v}]" for k, v in params)


def write_durations_file(results_dir: Path, target: Path) -> Path | None:
    """Seconds per scenario of a results folder, as ``durations.json`` (last attempt of each)."""
    rows = []
    for result in read_results(results_dir, strict=False, latest=True):
        name = str(result.get("fullName", ""))
        if name.startswith("run::") or result.get("start") is None or result.get("stop") is None:
            continue
        name, params = result_key(result)
        rows.append({"fullName": name, "parameters": [list(p) for p in params],
                     "seconds": round(max(0, result["stop"] - result["start"]) / 1000, 1)})
    if not rows:
        return None
    rows.sort(key=lambda r: (r["fullName"], r["parameters"]))
    target.write_text(json.dumps({"scenarios": rows}, indent=1) + "\n", encoding="utf-8")
    return target


def read_durations_file(path: Path) -> dict[tuple, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {(row["fullName"], tuple((str(k), str(v)) for k, v in row.get("parameters") or [])):
                float(row["seconds"]) for row in data["scenarios"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a durations file written by the suite ({exc})") from None


# --------------------------------------------------------------------------- the plan
@dataclass
class ShardPlan:
    shares: list[list[Item]]
    basis: str
    fingerprint: str

    @property
    def total(self) -> int:
        return sum(len(s) for s in self.shares)

    def write_manifest(self, results_dir: Path, shard: int) -> Path:
        data = {"shard": shard, "of": len(self.shares), "fingerprint": self.fingerprint, "basis": self.basis,
                "written": int(time.time()),
                "shares": [[_item_json(i) for i in share] for share in self.shares]}
        path = results_dir / MANIFEST
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return path


def _item_json(item: Item) -> dict[str, Any]:
    return {"location": item.location, "fullName": item.full_name, "parameters": [list(p) for p in item.parameters],
            "order": item.order}


def _item_from_json(data: dict[str, Any]) -> Item:
    return Item(data["location"], data["fullName"], tuple((str(k), str(v)) for k, v in data["parameters"]),
                int(data["order"]))


def plan(items: Sequence[Item], shards: int, durations_from: Path | None = None) -> ShardPlan:
    """The N shares every machine computes alike from the same scenarios and durations."""
    source = durations_from if durations_from is not None else COMMITTED_DURATIONS
    durations = load_durations(source) if source.exists() else {}
    if durations_from is not None and not durations_from.exists():
        raise UsageError(f"--durations {durations_from}: no such file or folder")
    shares = split(items, shards, durations)
    while len(shares) < shards:          # fewer scenarios than shards: the last shards run nothing
        shares.append([])
    known = sum(1 for i in items if i.key in durations)
    basis = (f"durations from {_display(source)} ({known} of {len(items)} known"
             + (f", the rest {statistics.median(durations.values()):.1f} s" if known < len(items) else "") + ")"
             if durations else "scenario counts")
    digest = hashlib.sha256(json.dumps([[_item_json(i) for i in s] for s in shares]).encode()).hexdigest()
    return ShardPlan(shares, basis, digest)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- merging machines
@dataclass
class MergedShards:
    results: list[dict[str, Any]]
    missing_shards: list[int]
    added_missing: int


def merge_folders(folders: Sequence[Path], target: Path) -> MergedShards:
    """Result folders of several machines into ``target`` (cleaned first), with the local merge's
    guarantees: every file kept, a collision stops the merge, and every scenario of a shard whose
    folder is missing (or that a shard scheduled but never reported) is added as broken."""
    from acceptance.reporting.results_folder import read_environment
    from acceptance.runner.parallel import merge

    manifests: dict[int, dict[str, Any]] = {}
    sources: list[Worker] = []
    for index, folder in enumerate(folders, 1):
        folder = Path(folder)
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
        if folder.resolve() == target.resolve():
            raise UsageError(f"{folder} is the merge target; merge into another folder")
        worker = Worker(index, [], folder, folder / "(no log)", returncode=0)
        manifest_path = folder / MANIFEST
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            k = int(manifest["shard"])
            if k in manifests:
                raise UsageError(f"shard {k} appears twice ({folder} and an earlier folder)")
            manifests[k] = manifest
            worker.items = [_item_from_json(i) for i in manifest["shares"][k - 1]]
            worker.lost_reason = (f"Shard {k}/{manifest['of']} ran but never reported this scenario "
                                  f"(its folder {folder} lacks the result)")
        elif not any(folder.glob("*-result.json")):
            raise UsageError(f"{folder} holds no Allure results")
        sources.append(worker)
    missing: list[int] = []
    if manifests:
        fingerprints = {m["fingerprint"] for m in manifests.values()}
        totals = {int(m["of"]) for m in manifests.values()}
        if len(fingerprints) != 1 or len(totals) != 1:
            raise UsageError("the shards were planned from different inputs (checkout, arguments or durations): "
                             + ", ".join(f"shard {k}/{m['of']} plan {m['fingerprint'][:12]}"
                                         for k, m in sorted(manifests.items())))
        any_manifest = next(iter(manifests.values()))
        n = int(any_manifest["of"])
        for k in range(1, n + 1):
            if k in manifests or not any_manifest["shares"][k - 1]:
                continue
            missing.append(k)
            sources.append(Worker(len(sources) + 1, [_item_from_json(i) for i in any_manifest["shares"][k - 1]],
                                  target.parent / f"(shard {k} missing)", Path("-"), returncode=None,
                                  lost_reason=f"Shard {k}/{n} delivered no results: its folder was not among "
                                              f"the merged folders (the machine failed, or its artifact was lost)"))
    properties: dict[str, str | None] = {"shard": None, "parallel.workers": None}
    if manifests:
        properties["shards"] = f"{len(manifests)} of {len(manifests) + len(missing)}"
    embedded = any("embedded" in read_environment(folder).get("target", "") for folder in folders)
    merged = merge(sources, target, embedded=embedded, unit="shards" if manifests else "folders",
                   properties=properties)
    return MergedShards(merged.results, missing, merged.added_missing)


def merge_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m acceptance merge",
        description="Merge Allure result folders from several machines (e.g. the shards of --shard K/N) into one "
                    "report: summary.md, junit.xml, durations.json and the HTML report beside the merged results.")
    parser.add_argument("folders", nargs="+", type=Path, help="each machine's allure-results folder")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "reports" / "allure-results",
                        help="the merged results folder (cleaned first; default reports/allure-results)")
    parser.add_argument("--no-report", action="store_true", help="do not build the HTML report")
    args = parser.parse_args(list(argv))
    from acceptance.reporting.summary import headline
    from acceptance.runner import parallel
    try:
        merged = merge_folders(args.folders, args.output)
    except (ValueError, RuntimeError) as exc:  # a UsageError, or a folder the merge may not clean
        print(f"merge: {exc}", file=sys.stderr)
        return 2
    print(headline(parallel.write_run_files(args.output), f"JUnit: {args.output.parent / 'junit.xml'}"))
    for k in merged.missing_shards:
        print(f"merge: shard {k} is missing; its scenarios are reported as broken")
    if not args.no_report:
        parallel.build_html_report(args.output)
    passed, failed, skipped = counts(merged.results)
    print(count_line(passed, failed, skipped), flush=True)
    return 0 if failed == 0 and not merged.missing_shards else 1
