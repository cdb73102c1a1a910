#!/usr/bin/env python3
"""Where a rename's CPU goes in the service: `perf record` of the release server while wrk renames at 32 connections
(PostgreSQL), its self time grouped by where each function lives (the kernel, the allocator, the crate). Run after
`make bench` has built the release binary: `python3 bench/profile_rename.py` (needs perf; prints the table of
docs/performance.md, run 26).
"""
import os
import re
import subprocess
import tempfile
import threading
from pathlib import Path

import run as bench
import writes

SECONDS = int(os.environ.get("BENCH_PROFILE_SECONDS", "10"))


def main():
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-profile-"))
    with writes.scratch_database("pbx_bench_profile") as database_url:
        server = bench.Server("PostgreSQL", work / "pg", database_url)
        server.start()
        token = server.token()
        _, pbxs, _, renames = writes.profiles_to_rename(server, token, work)
        os.environ["BENCH_IDS"] = str(renames)
        bench.wrk(server.url, "rename.lua", pbxs, token, 32, duration=3)  # warm up
        data = work / "perf.data"
        result = {}
        load = threading.Thread(target=lambda: result.update(bench.wrk(server.url, "rename.lua", pbxs, token, 32,
                                                                       duration=SECONDS + 2)))
        load.start()
        subprocess.run(["perf", "record", "-q", "-F", "999", "-g", "-o", str(data), "-p", str(server.process.pid),
                        "--", "sleep", str(SECONDS)], check=True, capture_output=True)
        load.join()
        server.stop()
    print(f"renames/s during the profile: {result.get('rps', 0):.0f}")
    report = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--stdio", "--sort", "dso,sym",
                             "-g", "none"], check=True, capture_output=True, text=True).stdout
    groups = {}
    for line in report.splitlines():
        match = SAMPLE.match(line)
        if not match:
            continue
        share, dso, symbol = float(match[1]), match[2], match[3].strip()
        groups[group(dso, symbol)] = groups.get(group(dso, symbol), 0.0) + share
    print("| Where (self time) | Share of the service's samples |")
    print("|---|---:|")
    for name, share in sorted(groups.items(), key=lambda item: -item[1]):
        if share >= 0.5:
            print(f"| {name} | {share:.1f} % |")


SAMPLE = re.compile(r"^\s+([0-9.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)$")
CRATE = re.compile(r"([a-z_][a-z0-9_]*)::")


def group(dso, symbol):
    """The kernel, the C library's allocator and copies, or the crate a function of the binary belongs to."""
    if dso.startswith("[kernel"):
        return "kernel (system calls, scheduling, network)"
    if dso.startswith("libc"):
        if any(name in symbol for name in ("malloc", "free", "realloc", "_int_", "unlink_chunk", "tcache")):
            return "libc: allocator"
        if "mem" in symbol or "str" in symbol:
            return "libc: memmove/memcmp"
        return "libc: other"
    crate = CRATE.search(symbol.split(" as ")[0].lstrip("<"))
    name = crate[1] if crate else "other"
    return "the service's crates (pbx_*)" if name.startswith("pbx_") else f"{name}"


if __name__ == "__main__":
    main()
