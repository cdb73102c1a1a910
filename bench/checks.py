#!/usr/bin/env python3
"""`make bench`, fourth part (PostgreSQL): connection checks (CONTRACT §15).

1. Latency of one check against the local fake Kazoo (crates/infra/examples/fake_pbx.rs: Crossbar over HTTP and the
   blackhole websocket, every condition true): CHECKS dry runs (`POST …/pbxs/check`) one after another, p50 and p99.
2. Creates with checks against creates without: wrk's create (bench/create.lua: every profile names hosts that do not
   resolve here, so each create asks for a check that fails on DNS and records `pbx.connection_changed`), 32
   connections, BENCH_ROUNDS interleaved rounds of a server with automatic checks and one with `--pbx-checks=false`,
   each on a fresh database warmed up by 2 s of the same creates and analysed (see creates()); creates per second,
   the ratio of the medians (target: within noise of 1), and the CPU time the service and PostgreSQL spent per create
   (from /proc: what the checks add, measured rather than guessed).
3. Another tenant's GET p50 (32 connections, wrk) while CHECKS_DUE enabled profiles come due at once (check interval
   1 s, their hosts on the silent side of the fake: each check waits for its 5 s bound), against the same GET with none
   due.

BENCH_CHECKS_PARTS (latency,creates,due,idle) picks the parts, BENCH_CHECKS_ROUNDS the round pairs of part 2
(BENCH_ROUNDS by default). Standard library only, with wrk and psql. Appends its table to target/bench-results.md
(or BENCH_OUTPUT).
"""
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import run as bench
import writes

CHECKS = int(os.environ.get("BENCH_CHECKS", "200"))
CHECKS_DUE = int(os.environ.get("BENCH_CHECKS_DUE", "1000"))
CHECKS_QUIET = int(os.environ.get("BENCH_CHECKS_QUIET", "2000"))
IDLE_SECONDS = 10
WARM_UP_SECONDS = 2
# The round pairs of part 2 (BENCH_ROUNDS by default), and the parts to run (all by default).
CREATE_ROUNDS = int(os.environ.get("BENCH_CHECKS_ROUNDS", bench.ROUNDS))
PARTS = os.environ.get("BENCH_CHECKS_PARTS", "latency,creates,due,idle").split(",")
FAKE = bench.TARGET / "release" / "examples" / "fake_pbx"


def post(url, token, body):
    """POSTs `body` (urllib writes the head and the body apart: Nagle's wait on its side is not the service's)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "accept-charges": "true"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def fake():
    process = subprocess.Popen([str(FAKE), "3600"], stdout=subprocess.PIPE, text=True)
    fields = dict(item.split("=", 1) for item in process.stdout.readline().split())
    return process, fields


def kazoo(fields, account="acct1", websocket="/ok"):
    return {"_type": "KazooPbxConnectionProfile", "name": "Bench", "hostRest": fields["rest"],
            "hostWebsocket": fields["ws"] + websocket, "accountId": account, "apiKey": fields["key"]}


def check_latency(work, database_url, fields):
    server = bench.Server("checks", work / "latency", database_url, {"PBX_PBX_HOSTS_ALLOW_PRIVATE": "true"})
    server.start()
    try:
        token = server.token()
        customer = post(f"{server.url}/api/v1.0/customers", token, {"name": "Checks"})["data"]["id"]
        url = f"{server.url}/api/v1.0/customers/{customer}/pbxs/check"
        took = []
        for _ in range(CHECKS):
            started = time.perf_counter()
            answer = post(url, token, kazoo(fields))
            took.append((time.perf_counter() - started) * 1000)
            assert answer["data"]["connection"]["state"] == "connected", answer
        return writes.percentile(took, 0.5), writes.percentile(took, 0.99)
    finally:
        server.stop()


def cpu_seconds(pid):
    """A process's CPU time so far (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds():
    """The CPU time of every PostgreSQL process so far (its backends, the WAL writer, autovacuum)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(proc.name)
        except OSError:
            pass  # gone meanwhile
    return total


def creates(work, checks):
    """Creates per second of one wrk run on a fresh database, automatic checks on or off, with the CPU time the
    service and PostgreSQL spent per create meanwhile (µs)."""
    with writes.scratch_database("pbx_bench_c") as database_url:
        name = f"creates-{'on' if checks else 'off'}-{uuid.uuid4().hex[:6]}"
        server = bench.Server(name, work / name, database_url, {"PBX_PBX_CHECKS": str(checks).lower()})
        server.start()
        try:
            token = server.token()
            customer = post(f"{server.url}/api/v1.0/customers", token, {"name": "Burst"})["data"]["id"]
            path = f"/api/v1.0/customers/{customer}/pbxs"
            # Measured as on a database that has been in use: a fresh one's statistics say its tables are empty,
            # and the plans PostgreSQL caches on that (a sequential scan of the feed at every read) stay until
            # autovacuum's ANALYZE, a minute later in service and never within a 10 s burst. A short warm-up, then
            # ANALYZE, as autovacuum would.
            bench.wrk(server.url, "create.lua", path, token, 32, prefix="warm", duration=WARM_UP_SECONDS)
            writes.psql(database_url, "ANALYZE")
            service, database = cpu_seconds(server.process.pid), postgres_cpu_seconds()
            result = bench.wrk(server.url, "create.lua", path, token, 32)
            service, database = cpu_seconds(server.process.pid) - service, postgres_cpu_seconds() - database
            made = int(writes.psql(database_url, "SELECT count(*) FROM pbx_profiles WHERE instance_id NOT LIKE 'warm-%'"))
            return result["rps"], 1e6 * service / made, 1e6 * database / made
        finally:
            server.stop()


def get_p50_while_due(work, database_url, fields):
    """Another tenant's GET p50 with none due, then while CHECKS_DUE enabled profiles come due at once."""
    env = {"PBX_PBX_HOSTS_ALLOW_PRIVATE": "true", "PBX_CHECK_INTERVAL": "1s", "PBX_PBX_CHECKS": "true"}
    server = bench.Server("due", work / "due", database_url, env)
    server.start()
    try:
        token = server.token()
        customer = post(f"{server.url}/api/v1.0/customers", token, {"name": "Due"})["data"]["id"]
        reader = server.token(str(uuid.uuid4()))
        other = post(f"{server.url}/api/v1.0/customers", reader, {"name": "Reader"})["data"]["id"]
        pbx = post(f"{server.url}/api/v1.0/customers/{other}/pbxs", reader,
                   {"_type": "ThreeCxConnectionProfile", "name": "R", "licenseKey": "L-reader", "username": "u",
                    "password": "p"})["data"]["id"]
        get_path = f"/api/v1.0/customers/{other}/pbxs/{pbx}"
        quiet = bench.wrk(server.url, "get.lua", get_path, reader, 32)["p50"]
        # The profiles' REST host accepts connections and never answers; enabled, every periodic check is due at once.
        silent = {"rest": fields["silent"], "ws": fields["ws"], "key": fields["key"]}
        for n in range(CHECKS_DUE):
            post(f"{server.url}/api/v1.0/customers/{customer}/pbxs", token, kazoo(silent, account=f"due-{n}"))
        writes.psql(database_url, "UPDATE pbx_profiles SET enabled = true")
        writes.psql(database_url, "UPDATE pbx_connections SET next_check_at = NULL, started_at = NULL")
        busy = bench.wrk(server.url, "get.lua", get_path, reader, 32)["p50"]
        return quiet, busy
    finally:
        server.stop()


def idle_cost(work, database_url, fields):
    """Part 4: an idle server checking by itself, with no profile, then with CHECKS_QUIET checked ones."""
    env = {"PBX_PBX_HOSTS_ALLOW_PRIVATE": "true", "PBX_PBX_CHECKS": "true"}
    server = bench.Server("quiet", work / "quiet", database_url, env)
    server.start()
    try:
        measure = writes.idle_window(database_url, server, IDLE_SECONDS)
        rows = [(f"idle server checking by itself, no profile: a {IDLE_SECONDS} s window", measure())]
        token = server.token()
        customer = post(f"{server.url}/api/v1.0/customers", token, {"name": "Quiet"})["data"]["id"]
        for n in range(CHECKS_QUIET):
            post(f"{server.url}/api/v1.0/customers/{customer}/pbxs", token, kazoo(fields, account=f"quiet-{n}"))
        writes.psql(database_url, "UPDATE pbx_profiles SET enabled = true")
        deadline = time.time() + 120
        while int(writes.psql(database_url, "SELECT count(*) FROM pbx_connections WHERE checked IS NOT NULL")) \
                < CHECKS_QUIET and time.time() < deadline:
            time.sleep(1)
        checked = writes.psql(database_url, "SELECT count(*) FROM pbx_connections WHERE checked IS NOT NULL")
        rows.append((f"{CHECKS_QUIET:,} enabled profiles, {checked} checked, none due: a {IDLE_SECONDS} s window",
                     measure()))
        return rows
    finally:
        server.stop()


def creates_with_and_without(work):
    """Part 2: CREATE_ROUNDS interleaved round pairs; the table's rows."""
    rounds = {True: [], False: []}
    for n in range(CREATE_ROUNDS):
        for checks in ([True, False] if n % 2 == 0 else [False, True]):
            rounds[checks].append(creates(work, checks))
            rps, service, database = rounds[checks][-1]
            bench.log(f"creates, checks {'on' if checks else 'off'}: {rps:.0f}/s, CPU per create: service "
                      f"{service:.0f} µs, PostgreSQL {database:.0f} µs")
    on, off = (statistics.median(r[0] for r in rounds[c]) for c in (True, False))
    cpu = {c: (statistics.median(r[1] for r in rounds[c]), statistics.median(r[2] for r in rounds[c]))
           for c in (True, False)}
    pairs = [a[0] / b[0] for a, b in zip(rounds[True], rounds[False])]
    spread = statistics.stdev(pairs) / len(pairs) ** 0.5 if len(pairs) > 1 else 0.0
    return [
        ("creates/s, 32 connections, automatic checks on (each failing on DNS)",
         f"{on:.0f} (rounds {', '.join(f'{r[0]:.0f}' for r in rounds[True])})"),
        ("creates/s, 32 connections, `--pbx-checks=false`",
         f"{off:.0f} (rounds {', '.join(f'{r[0]:.0f}' for r in rounds[False])})"),
        ("ratio on / off", f"{on / off:.2f} of the medians; per round pair {', '.join(f'{r:.2f}' for r in pairs)}: "
                           f"mean {statistics.mean(pairs):.2f} ± {spread:.2f} (standard error)"),
        ("CPU per create, checks on / off: the service", f"{cpu[True][0]:.0f} µs / {cpu[False][0]:.0f} µs"),
        ("CPU per create, checks on / off: PostgreSQL", f"{cpu[True][1]:.0f} µs / {cpu[False][1]:.0f} µs"),
    ]


def main():
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    bench.log("building the release binary and the fake PBX")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx-server", "--bin", "pbx-server"], check=True,
                   cwd=bench.ROOT)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx-infra", "--example", "fake_pbx"], check=True,
                   cwd=bench.ROOT)
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-checks-"))
    process, fields = fake()
    rows = []
    try:
        if "latency" in PARTS:
            with writes.scratch_database("pbx_bench_k") as database_url:
                bench.log("check latency against the fake Kazoo")
                p50, p99 = check_latency(work, database_url, fields)
            rows.append((f"one check against the fake Kazoo (HTTP + websocket), {CHECKS} in a row",
                         f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"))
        if "creates" in PARTS:
            rows.extend(creates_with_and_without(work))
        if "due" in PARTS:
            with writes.scratch_database("pbx_bench_d") as database_url:
                fields["silent"] = silent_rest()
                bench.log(f"GET p50 while {CHECKS_DUE} profiles come due")
                quiet, busy = get_p50_while_due(work, database_url, fields)
            rows.append((f"another tenant's GET p50, none due / {CHECKS_DUE} due at once",
                         f"{quiet:.2f} ms / {busy:.2f} ms"))
        if "idle" in PARTS:
            with writes.scratch_database("pbx_bench_q") as database_url:
                bench.log(f"idle cost with {CHECKS_QUIET} checked profiles")
                rows.extend(idle_cost(work, database_url, fields))
    finally:
        process.terminate()
    table = "\n".join([
        "### Connection checks (bench/checks.py, PostgreSQL)",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
    ])
    print(table)
    output = Path(os.environ.get("BENCH_OUTPUT", bench.TARGET / "bench-results.md"))
    with output.open("a") as f:
        f.write(table + "\n")


def silent_rest():
    """A REST host that accepts connections and never answers: a listening socket nobody reads."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    silent_rest.keep = listener  # kept open for the run
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


if __name__ == "__main__":
    main()
