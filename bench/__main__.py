"""``make bench``: run every benchmark as its own process, in sequence, and keep the output.

Each benchmark measures our code against a reference in the same run and prints its
numbers; the output of each also lands in ``bench/results/<name>.txt``. The 15-million
hash dedupe scale run takes minutes: it runs only with ``--scale``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

QUICK = [
    "extract_bench",
    "fetch_bench",
    "build_bench",
    "dedupe_quality",
    "subfigures_bench",
    "list_memory_bench",
]
SCALE = ["dedupe_scale"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", action="store_true", help="also the 15M-hash dedupe run")
    parser.add_argument("names", nargs="*", help="run only these benchmarks")
    args = parser.parse_args()
    names = args.names or QUICK + (SCALE if args.scale else [])
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    failed = []
    for name in names:
        if not (Path(__file__).parent / f"{name}.py").exists():
            continue
        print(f"== {name}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"], capture_output=True, text=True, check=False
        )
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr[-4000:] if proc.returncode else "")
        (results / f"{name}.txt").write_text(proc.stdout)
        if proc.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
