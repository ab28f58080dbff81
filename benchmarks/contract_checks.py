"""What checking every frame and response against contract/ costs, without the noise of a whole run.

    python benchmarks/contract_checks.py [--repeat 50]

Validates the frames of a supervisor run (the largest frames the suite receives: results with every
field) and one body per REST schema, with the compiled validators the suite uses, and prints the cost
per frame and per body, and what that adds to a default suite run (its frame and response counts are
arguments; the defaults are the figures benchmarks/suite_overhead.py reports).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from acceptance.verify import schemas
    from tests.samples import rest_samples, supervisor_run_frames

    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=50)
    p.add_argument("--frames", type=int, default=2440, help="frames of a default run")
    p.add_argument("--responses", type=int, default=1300, help="HTTP responses of a default run")
    args = p.parse_args()
    started = time.perf_counter()
    compiled = schemas.compile_all()
    compile_s = time.perf_counter() - started
    frames = supervisor_run_frames()
    bodies = [(name, body) for name, body in rest_samples().items() if name in schemas.BODY_SCHEMAS]
    t0 = time.process_time()
    for _ in range(args.repeat):
        for f in frames:
            schemas.validate_frame(f)
    per_frame = (time.process_time() - t0) / (args.repeat * len(frames))
    t0 = time.process_time()
    for _ in range(args.repeat):
        for name, body in bodies:
            schemas.validate_body(name, body)
    per_body = (time.process_time() - t0) / (args.repeat * len(bodies))
    total = per_frame * args.frames + per_body * args.responses
    print(f"contract checks, {platform.node()} (Python {platform.python_version()}), CPU time")
    print(f"| validators | compile s | per frame ms | per body ms | added CPU per default run s |")
    print(f"|---:|---:|---:|---:|---:|")
    print(f"| {compiled} | {compile_s:.2f} | {per_frame * 1000:.2f} | {per_body * 1000:.2f} | {total:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
