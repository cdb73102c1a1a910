#!/usr/bin/env python3
"""Where a write's time goes: CPU per request of the service and of the floor, and of PostgreSQL serving each,
for rename and delete at 32 connections (from /proc: user + system time of the server process and of every
postgres process, before and after one wrk run). Run after `make bench` has built the release binaries:
`python3 bench/cpu_per_request.py`. Prints a table (docs/performance.md, run 13).
"""
import os
import tempfile
from pathlib import Path

import run as bench
import writes

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / TICK


def postgres_pids():
    return [p.name for p in Path("/proc").iterdir() if p.name.isdigit()
            and (p / "comm").exists() and (p / "comm").read_text().strip() == "postgres"]


def measure(url, pid, script, pbxs, token, ids_file):
    os.environ["BENCH_IDS"] = str(ids_file)
    os.environ["BENCH_THREADS"] = "2"
    before = (cpu_seconds([pid]), cpu_seconds(postgres_pids()))
    result = bench.wrk(url, script, pbxs, token, 32)
    after = (cpu_seconds([pid]), cpu_seconds(postgres_pids()))
    requests = result["rps"] * bench.DURATION
    return result["rps"], (after[0] - before[0]) / requests * 1e6, (after[1] - before[1]) / requests * 1e6


def main():
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-cpu-"))
    with writes.scratch_database("pbx_bench_cpu") as database_url:
        server = bench.Server("PostgreSQL", work / "pg", database_url)
        server.start()
        floor = bench.Floor(database_url)
        token = server.token()
        customer, pbxs, _, renames = writes.profiles_to_rename(server, token, work)
        print("| Workload (32 connections) | System | req/s | server CPU µs / request | PostgreSQL CPU µs / request |")
        print("|---|---|---:|---:|---:|")
        for system, url, pid in (("service", server.url, server.process.pid), ("floor", floor.url, floor.process.pid)):
            rps, own, pg = measure(url, pid, "rename.lua", pbxs, token, renames)
            print(f"| rename | {system} | {rps:.0f} | {own:.0f} | {pg:.0f} |")
            deletes = writes.deletable(database_url, customer, work, f"cpu-{system}")
            rps, own, pg = measure(url, pid, "delete.lua", pbxs, token, deletes)
            print(f"| delete | {system} | {rps:.0f} | {own:.0f} | {pg:.0f} |")
        floor.stop()
        server.stop()


if __name__ == "__main__":
    main()
