"""Which faults of the catalogue does the fuzz lane (`python -m acceptance fuzz`) catch on its own?

Runs the fuzzer against the embedded platform once clean and once per fault, with the same seed and
budget, and prints for each fault whether the run failed where the clean run passed, and which checks
failed. Faults that live only on the WebSocket (agent runs, delivery, frames) are listed apart: the
fuzzer drives the REST API from contract/openapi.yaml and never reaches them.

  .venv/bin/python benchmarks/fuzz_faults.py [--max-examples 5] [--faults a,b]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# faults whose code path a REST call can reach (the rest change agent runs or the WebSocket)
REST_REACHABLE = ["jwt_signature_unchecked", "jwt_alg_none_accepted", "jwt_expiry_unchecked",
                  "jwt_future_iat_accepted", "jwt_issuer_unchecked", "jwt_audience_unchecked",
                  "jwt_token_type_unchecked", "refresh_token_reusable", "logout_keeps_access_token",
                  "login_rate_limit_off", "rest_thread_unscoped", "foreign_thread_403", "usage_unscoped",
                  "catalogue_price_wrong", "health_version_missing"]


def fuzz(fault: str, max_examples: int) -> tuple[int, list[str], float]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "acceptance", "fuzz", "--max-examples", str(max_examples),
                               "--results", f"{tmp}/results", "--junit", f"{tmp}/junit.xml"]
                              + (["--faults", fault] if fault else []), cwd=ROOT, capture_output=True, text=True)
        codes = sorted(set(re.findall(r"^\s+❌ (ST\d+ [^:]+):", done.stdout, re.MULTILINE)))
        return done.returncode, codes, time.monotonic() - started


def main() -> int:
    from reference_platform.faults import CATALOGUE

    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--faults", help="comma-separated; default: every REST-reachable fault")
    args = parser.parse_args()
    faults = args.faults.split(",") if args.faults else REST_REACHABLE
    clean_rc, clean_codes, clean_s = fuzz("", args.max_examples)
    print(f"clean platform: exit {clean_rc} {clean_codes or 'no failures'} ({clean_s:.0f} s)", flush=True)
    caught = []
    for fault in faults:
        rc, codes, seconds = fuzz(fault, args.max_examples)
        new = [c for c in codes if c not in clean_codes]
        verdict = "CAUGHT" if rc != 0 and new else "missed"
        if verdict == "CAUGHT":
            caught.append(fault)
        print(f"{fault:<28} {verdict:<7} {', '.join(new) or '-'} ({seconds:.0f} s)", flush=True)
    ws_only = [name for name in CATALOGUE if name not in REST_REACHABLE]
    print(f"\ncaught by fuzzing alone: {len(caught)} of {len(faults)} REST-reachable faults "
          f"({', '.join(caught) or 'none'}); {len(ws_only)} faults live only on the WebSocket and agent runs, "
          f"which the REST fuzzer does not reach")
    return 0


if __name__ == "__main__":
    sys.exit(main())
