"""Peak memory of `python -m data_sources import` on a large UCDP GED table (issue 11).

The table is built at run time from the real rows of HDX's `conflict_data_irq.csv` (UCDP GED,
CC BY 4.0; /work/shared/data/ucdp-ged, origin in its SOURCES.md), repeated with distinct event
ids until it reaches the asked size. Repeated events fall on the same places and days, so the
figures stored are the real file's, added up: SCALED, NOT REAL, and never committed.

    python -m bench.import_memory --mb 236 [--database-url URL]

prints the file's size, the exit status, seconds and the import process's peak RSS (the
child's `ru_maxrss`, measured by a process of its own so nothing else is counted).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL_TABLE = Path(
    os.environ.get("UCDP_GED_CSV", "/work/shared/data/ucdp-ged/conflict_data_irq.csv")
)
# runs the import as its own child and reports that child's peak RSS in KiB
MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stdout.write(f'{done.returncode} {peak}\\n')\n"
    "sys.stderr.write(done.stdout + done.stderr)\n"
)


def build(path: Path, size_bytes: int, source: Path = REAL_TABLE) -> int:
    """Write the real table's rows again and again (header and HXL row once), each copy's
    event ids shifted so that no two events are the same, until `size_bytes`; returns the
    number of events."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, tags, events = rows[0], rows[1], rows[2:]
    id_at = header.index("id")
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerow(tags)
        copy = 0
        while True:
            for event in events:
                event = list(event)
                event[id_at] = str(10_000_000 * (copy + 1) + int(event[id_at]))
                writer.writerow(event)
                written += 1
                if written % 1000 == 0 and out.tell() >= size_bytes:
                    return written
            copy += 1


def measure(path: Path, database_url: str, *args: str) -> tuple[int, float, float, str]:
    """(exit status, seconds, peak RSS in MB, output) of one import of `path`."""
    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"}
    command = [sys.executable, "-m", "data_sources", "import", str(path), *args]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    status, peak_kib = done.stdout.split()
    return int(status), seconds, int(peak_kib) / 1024, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=236.0, help="file size in MB (10^6 bytes)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "conflict_data_irq_scaled.csv"
        events = build(table, int(args.mb * 1e6))
        url = args.database_url or f"sqlite:///{tmp}/store.sqlite"
        status, seconds, peak, output = measure(table, url)
        print(output)
        print(
            f"file {table.stat().st_size / 1e6:.1f} MB, {events:,} events (scaled, not real): "
            f"exit {status}, {seconds:.1f} s, peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    main()
