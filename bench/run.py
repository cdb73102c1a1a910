#!/usr/bin/env python3
"""`make bench`: pbx-server on PostgreSQL, SQLite and MySQL against what to compare it with, in the same run.

Drives the release binary over HTTP with wrk (create at 1, 8, 32 and 64 connections; get one profile, list a page of
100 and an instance lookup at 32, get also at 1 on PostgreSQL); BENCH_BACKENDS (postgres,sqlite,mysql) picks the parts. On PostgreSQL, each workload is measured in BENCH_ROUNDS (3) interleaved rounds —
the service, then the floor (bench/floor.rs: the same stack and statements, nothing else), then pgbench with the
service's statements — and the table gives the medians, service / floor beside service / pgbench, and each round.
On SQLite, the service against the sqlite_baseline example (the service's connection settings). Also the server's
peak RSS and its start-up time to ready. On MySQL/MariaDB, creates with and without group commit, interleaved,
each measurement on a server started for it alone.
Writes the tables to target/bench-results.md. Standard library only.
"""
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
MYSQL_URL = os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306")
BACKENDS = os.environ.get("BENCH_BACKENDS", "postgres,sqlite,mysql").split(",")
SCALE_CUSTOMERS = int(os.environ.get("BENCH_SCALE_CUSTOMERS", "10000"))
SCALE_PROFILES = int(os.environ.get("BENCH_SCALE_PROFILES", "1000000"))
CREATE_CONNECTIONS = [1, 8, 32, 64]
READ_CONNECTIONS = 32
BINARY = TARGET / "release" / "pbx-server"
BASELINE = TARGET / "release" / "examples" / "sqlite_baseline"
FLOOR = TARGET / "release" / "examples" / "floor"
PIPELINED_FLOOR = TARGET / "release" / "examples" / "pipelined_floor"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RESELLER = "6f1c3c1e-2b1a-4d7e-9a53-0d5c1b2a3e4f"
RESULT = re.compile(r"RESULT rps=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) errors=(\d+) non2xx=(\d+)")


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs).stdout


def request(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    req.add_header("accept-charges", "true")
    with urllib.request.urlopen(req) as response:
        return json.loads(response.read())


class Server:
    def __init__(self, name, data_dir, database_url, extra_env=None):
        self.name, self.data_dir, self.database_url = name, data_dir, database_url
        self.extra_env = extra_env or {}
        self.process = None
        self.url = None

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_") and k != "DATABASE_URL"}
        env.update({"PBX_RATE_LIMIT": "0", "PBX_SHUTDOWN_DRAIN": "0s", "RUST_LOG": "warn"})
        env.update(self.extra_env)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def start(self):
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [str(BINARY), "--data-dir", str(self.data_dir), "serve", "--bind", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=self.env())
        for line in self.process.stdout:
            if line.startswith("pbx-server listening on "):
                self.url = line.split()[-1]
                break
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz") as response:
                    if response.status == 200:
                        return (time.perf_counter() - started) * 1000
            except OSError:
                time.sleep(0.002)

    def token(self, tenant=RESELLER):
        output = run([str(BINARY), "--data-dir", str(self.data_dir), "token", "--tenant", tenant, "--ttl", "2h"],
                     env=self.env())
        return output.strip().splitlines()[-1]

    def peak_rss_mib(self):
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


class Floor:
    """bench/floor.rs (or another floor binary, bench/pipelined_floor.rs) on the service's PostgreSQL database."""

    def __init__(self, database_url, binary=None):
        self.process = subprocess.Popen([str(binary or FLOOR), database_url, RESELLER], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("floor listening on "):
            raise RuntimeError(f"the floor did not start: {line!r}")
        self.url = line.split()[3]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def median(results):
    """The median of each figure over the rounds (errors summed)."""
    pick = lambda values: sorted(values)[len(values) // 2]
    return {"rps": pick([r["rps"] for r in results]), "p50": pick([r["p50"] for r in results]),
            "p99": pick([r["p99"] for r in results]), "errors": sum(r["errors"] for r in results),
            "rounds": [round(r["rps"]) for r in results]}


def wrk(url, script, path, token, connections, prefix="bench", duration=None):
    env = dict(os.environ, BENCH_PATH=path, BENCH_TOKEN=token, BENCH_DIR=str(BENCH), BENCH_PREFIX=prefix)
    threads = min(2, connections)
    output = run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration or DURATION}s", "--timeout", "10s",
                  "-s", str(BENCH / script), url], env=env)
    rps, p50, p99, errors, non2xx = RESULT.search(output).groups()
    return {"rps": float(rps), "p50": float(p50), "p99": float(p99), "errors": int(errors) + int(non2xx)}


def pgbench(database_url, script, connections, variables, work):
    log_prefix = work / f"pgbench-{script}-{connections}"
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(connections), "-j", str(min(2, connections)),
               "-T", str(DURATION), "-f", str(BENCH / script), "-l", f"--log-prefix={log_prefix}"]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    output = run(command + [database_url])
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", output).group(1))
    latencies = []
    for file in work.glob(f"{log_prefix.name}*"):
        for line in file.read_text().splitlines():
            latencies.append(int(line.split()[2]) / 1000)
        file.unlink()
    latencies.sort()
    pick = lambda p: latencies[max(0, min(len(latencies) - 1, int(len(latencies) * p + 0.5) - 1))]
    failed = int(re.search(r"number of failed transactions: (\d+)", output).group(1))
    return {"rps": tps, "p50": pick(0.5), "p99": pick(0.99), "errors": failed}


def sqlite_baseline(work, connections):
    output = run([str(BASELINE), str(work / f"sqlite-baseline-{connections}"), str(connections), str(DURATION)])
    rps, p50, p99, errors, _ = RESULT.search(output).groups()
    return {"rps": float(rps), "p50": float(p50), "p99": float(p99), "errors": int(errors)}


def workloads(server, create_connections, record):
    """Create at each of create_connections, then get, list and lookup; record(workload, conns, result)."""
    token = server.token()
    customer = request("POST", f"{server.url}/api/v1.0/customers", token, {"name": "Bench"})["data"]["id"]
    pbxs = f"/api/v1.0/customers/{customer}/pbxs"
    for connections in create_connections:
        log(f"{server.name}: create at {connections} connections")
        record("create", connections, wrk(server.url, "create.lua", pbxs, token, connections, prefix=f"c{connections}"))
    profile = request("POST", f"{server.url}{pbxs}", token, {
        "_type": "KazooPbxConnectionProfile", "name": "Read me", "hostRest": "https://rest.example.com",
        "hostWebsocket": "wss://ws.example.com", "accountId": f"read-{uuid.uuid4()}", "apiKey": "k"})["data"]
    reads = [("get one profile", f"{pbxs}/{profile['id']}"), ("list a page of 100", f"{pbxs}?pageSize=100"),
             ("instance lookup", f"/api/v1.0/pbxs?instanceId={profile['accountId']}")]
    for name, path in reads:
        log(f"{server.name}: {name} at {READ_CONNECTIONS} connections")
        record(name, READ_CONNECTIONS, wrk(server.url, "get.lua", path, token, READ_CONNECTIONS))
    return customer, profile


def bench_backend(server, work, rows, facts):
    ready_ms = server.start()
    rss_after_creates = []

    def record(workload, connections, result):
        rows.append((server.name, workload, connections, result))
        if workload == "create" and connections == CREATE_CONNECTIONS[-1]:
            rss_after_creates.append(server.peak_rss_mib())

    customer, profile = workloads(server, CREATE_CONNECTIONS, record)
    facts[f"{server.name} peak RSS after create at 64 (MiB)"] = round(rss_after_creates[0], 1)
    facts[f"{server.name} peak RSS at the end (MiB)"] = round(server.peak_rss_mib(), 1)
    server.stop()
    # The database is migrated now: this start measures the start-up itself.
    facts[f"{server.name} start-up to ready on a migrated database (ms)"] = round(server.start(), 1)
    server.stop()
    facts[f"{server.name} first start-up (migrating an empty database) to ready (ms)"] = round(ready_ms, 1)
    return customer, profile


def bench_postgres(server, database_url, work, rows, facts):
    """Each workload in ROUNDS interleaved rounds of service, floor and pgbench; rows get the medians."""
    ready_ms = server.start()
    floor = Floor(database_url)
    # The same service, same data folder and database, writing each create on its own: what grouping brings. It
    # runs only while measured, so that its pool and pgbench's 64 connections fit PostgreSQL's 100.
    ungrouped = Server("PostgreSQL (no group commit)", server.data_dir, database_url, {"PBX_NO_GROUP_COMMIT": "true"})
    token = server.token()
    customer = request("POST", f"{server.url}/api/v1.0/customers", token, {"name": "Bench"})["data"]["id"]
    pbxs = f"/api/v1.0/customers/{customer}/pbxs"
    profile = request("POST", f"{server.url}{pbxs}", token, {
        "_type": "KazooPbxConnectionProfile", "name": "Read me", "hostRest": "https://rest.example.com",
        "hostWebsocket": "wss://ws.example.com", "accountId": f"read-{uuid.uuid4()}", "apiKey": "k"})["data"]
    variables = {"customer": customer, "reseller": RESELLER}
    get_path = f"{pbxs}/{profile['id']}"
    measured = {}
    rss_after_creates = 0.0
    for round_number in range(1, ROUNDS + 1):
        for connections in CREATE_CONNECTIONS:
            log(f"PostgreSQL round {round_number}: create at {connections} (service, floor, pgbench)")
            prefix = f"r{round_number}c{connections}"
            measured.setdefault(("create", connections, "service"), []).append(
                wrk(server.url, "create.lua", pbxs, token, connections, prefix=prefix))
            measured.setdefault(("create", connections, "floor"), []).append(
                wrk(floor.url, "create.lua", pbxs, token, connections, prefix=f"floor-{prefix}"))
            ungrouped.start()
            measured.setdefault(("create", connections, "ungrouped"), []).append(
                wrk(ungrouped.url, "create.lua", pbxs, token, connections, prefix=f"ungrouped-{prefix}"))
            ungrouped.stop()
            measured.setdefault(("create", connections, "baseline"), []).append(
                pgbench(database_url, "pg_create.sql", connections, variables, work))
        rss_after_creates = max(rss_after_creates, server.peak_rss_mib())
        for connections in (1, READ_CONNECTIONS):
            log(f"PostgreSQL round {round_number}: get one profile at {connections} (service, floor, pgbench)")
            measured.setdefault(("get one profile", connections, "service"), []).append(
                wrk(server.url, "get.lua", get_path, token, connections))
            measured.setdefault(("get one profile", connections, "floor"), []).append(
                wrk(floor.url, "get.lua", get_path, token, connections))
            measured.setdefault(("get one profile", connections, "baseline"), []).append(
                pgbench(database_url, "pg_get.sql", connections, dict(variables, pbx=profile["id"]), work))
        for name, path in [("list a page of 100", f"{pbxs}?pageSize=100"),
                           ("instance lookup", f"/api/v1.0/pbxs?instanceId={profile['accountId']}")]:
            log(f"PostgreSQL round {round_number}: {name} at {READ_CONNECTIONS}")
            measured.setdefault((name, READ_CONNECTIONS, "service"), []).append(
                wrk(server.url, "get.lua", path, token, READ_CONNECTIONS))
    floor.stop()
    for (workload, connections, system), results in measured.items():
        row = ("PostgreSQL", workload, connections, median(results))
        rows.append(row if system == "service" else row + (system,))
    facts["PostgreSQL peak RSS after the creates (MiB)"] = round(rss_after_creates, 1)
    facts["PostgreSQL peak RSS at the end (MiB)"] = round(server.peak_rss_mib(), 1)
    server.stop()
    facts["PostgreSQL start-up to ready on a migrated database (ms)"] = round(server.start(), 1)
    server.stop()
    facts["PostgreSQL first start-up (migrating an empty database) to ready (ms)"] = round(ready_ms, 1)


def bench_mysql(work, rows):
    """MySQL/MariaDB: creates with and without group commit, in ROUNDS interleaved rounds (no floor or baseline)."""
    database = f"pbx_bench_{uuid.uuid4().hex[:12]}"
    host = MYSQL_URL.split("@", 1)[1].split("/", 1)[0]
    mysql = ["mariadb", "-uroot", f"-h{host.split(':')[0]}", f"-P{host.split(':')[1] if ':' in host else '3306'}"]
    run(mysql + ["-e", f"CREATE DATABASE {database}"])
    url = f"{MYSQL_URL}/{database}"
    try:
        server = Server("MySQL", work / "mysql", url)
        server.start()
        ungrouped = Server("MySQL (no group commit)", server.data_dir, url, {"PBX_NO_GROUP_COMMIT": "true"})
        token = server.token()
        customer = request("POST", f"{server.url}/api/v1.0/customers", token, {"name": "Bench"})["data"]["id"]
        server.stop()
        pbxs = f"/api/v1.0/customers/{customer}/pbxs"
        measured = {}
        for round_number in range(1, ROUNDS + 1):
            for connections in CREATE_CONNECTIONS:
                log(f"MySQL round {round_number}: create at {connections} (grouped, ungrouped)")
                prefix = f"my-r{round_number}c{connections}"
                # Each measurement on a server started for it, alone: a server that ran on would follow every create
                # of the other's too (the connection check of each new profile, and its event, in the background),
                # which on MySQL takes the event counter's row from the creates measured (run 27).
                for system, measured_server in (("service", server), ("ungrouped", ungrouped)):
                    measured_server.start()
                    measured.setdefault((connections, system), []).append(wrk(
                        measured_server.url, "create.lua", pbxs, token, connections,
                        prefix=prefix if system == "service" else f"ungrouped-{prefix}"))
                    measured_server.stop()
        for (connections, system), results in measured.items():
            row = ("MySQL", "create", connections, median(results))
            rows.append(row if system == "service" else row + (system,))
    finally:
        run(mysql + ["-e", f"DROP DATABASE IF EXISTS {database}"])


def bench_scale(server, rows, facts):
    """Seeds SCALE_PROFILES profiles over SCALE_CUSTOMERS customers, prints the query plans, reruns the workloads."""
    log(f"{server.name}: seeding {SCALE_PROFILES} profiles over {SCALE_CUSTOMERS} customers")
    started = time.perf_counter()
    run([str(BINARY), "--data-dir", str(server.data_dir), "seed", "--tenant", RESELLER,
         "--customers", str(SCALE_CUSTOMERS), "--profiles", str(SCALE_PROFILES)], env=server.env())
    facts[f"{server.name} seeding {SCALE_PROFILES} profiles (s)"] = round(time.perf_counter() - started, 1)
    explain = subprocess.run([str(BINARY), "--data-dir", str(server.data_dir), "explain"], text=True,
                             capture_output=True, env=server.env())
    output = Path(os.environ.get("BENCH_OUTPUT", ROOT / "target" / "bench-results.md"))
    plans = output.with_name(f"bench-explain-{server.name.lower()}.txt")
    plans.parent.mkdir(parents=True, exist_ok=True)
    plans.write_text(explain.stdout + explain.stderr)
    served = explain.stdout.count(" (index)\n")
    facts[f"{server.name} read queries served by an index at scale (pbx-server explain)"] = \
        f"{served} of {served + explain.stdout.count(' (TABLE SCAN)')}"
    server.start()
    workloads(server, [32], lambda workload, connections, result:
              rows.append((server.name, workload, connections, result, "scale")))
    facts[f"{server.name} peak RSS at scale (MiB)"] = round(server.peak_rss_mib(), 1)
    server.stop()


def main():
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        log("installing wrk (Debian package)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    log("building the release binary and the SQLite baseline")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx-server"], check=True, cwd=ROOT)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx-infra", "--example", "sqlite_baseline"],
                   check=True, cwd=ROOT)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx-server", "--example", "floor"], check=True, cwd=ROOT)
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    database = f"pbx_bench_{uuid.uuid4().hex[:12]}"
    run(["psql", PG_URL, "-qc", f"CREATE DATABASE {database}"])
    databases = [database]
    pg_database_url = PG_URL.rsplit("/", 1)[0] + "/" + database
    rows, facts = [], {}
    try:
        if "postgres" in BACKENDS:
            pg = Server("PostgreSQL", work / "pg", pg_database_url)
            bench_postgres(pg, pg_database_url, work, rows, facts)
        if "sqlite" in BACKENDS:
            sqlite = Server("SQLite", work / "sqlite", None)
            bench_backend(sqlite, work, rows, facts)
            for connections in CREATE_CONNECTIONS:
                log(f"SQLite baseline: create at {connections}")
                rows.append(("SQLite", "create", connections, sqlite_baseline(work, connections), "baseline"))
        if "mysql" in BACKENDS:
            bench_mysql(work, rows)
        if SCALE_PROFILES and {"postgres", "sqlite"} <= set(BACKENDS):
            scale_database = f"{database}_scale"
            run(["psql", PG_URL, "-qc", f"CREATE DATABASE {scale_database}"])
            databases.append(scale_database)
            bench_scale(Server("PostgreSQL", work / "pg-scale", PG_URL.rsplit("/", 1)[0] + "/" + scale_database),
                        rows, facts)
            bench_scale(Server("SQLite", work / "sqlite-scale", None), rows, facts)
    finally:
        for name in databases:
            run(["psql", PG_URL, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    write_report(rows, facts)


def write_report(rows, facts):
    service = {(r[0], r[1], r[2]): r[3] for r in rows if len(r) == 4}
    baseline = {(r[0], r[1], r[2]): r[3] for r in rows if len(r) == 5 and r[4] == "baseline"}
    floor = {(r[0], r[1], r[2]): r[3] for r in rows if len(r) == 5 and r[4] == "floor"}
    ungrouped = {(r[0], r[1], r[2]): r[3] for r in rows if len(r) == 5 and r[4] == "ungrouped"}
    scale = {(r[0], r[1], r[2]): r[3] for r in rows if len(r) == 5 and r[4] == "scale"}
    raw = Path(os.environ.get("BENCH_OUTPUT", ROOT / "target" / "bench-results.md")).with_suffix(".json")
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"rows": rows, "facts": facts}, indent=1))
    figures = lambda r: f"{r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f}" if r else "– | – | –"
    ratio = lambda a, b: f"**{a['rps'] / b['rps']:.2f}**" if b else "–"
    lines = ["| Backend | Workload | Conns | Service req/s | p50 ms | p99 ms | Errors | Floor req/s | p50 ms | p99 ms"
             " | Baseline req/s | p50 ms | p99 ms | Service / floor | Service / baseline |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, s in service.items():
        f, b = floor.get(key), baseline.get(key)
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {figures(s)} | {s['errors']} | {figures(f)} | "
                     f"{figures(b)} | {ratio(s, f)} | {ratio(s, b)} |")
    notes = []
    for key, u in ungrouped.items():
        s = service[key]
        notes.append(f"- {key[0]} create at {key[2]} without group commit (`PBX_NO_GROUP_COMMIT`): {u['rps']:.0f} req/s, "
                     f"p50 {u['p50']:.2f} ms, p99 {u['p99']:.2f} ms (rounds {u['rounds']}); grouped / ungrouped "
                     f"**{s['rps'] / u['rps']:.2f}**")
    if notes:
        lines += [""] + notes
    rounds = ["", "Each round's req/s (service / floor / baseline), PostgreSQL:", "",
              "| Workload | Conns | " + " | ".join(f"Round {n}" for n in range(1, ROUNDS + 1)) + " |",
              "|---|---:|" + "---|" * ROUNDS]
    for key, s in service.items():
        if key[0] != "PostgreSQL" or "rounds" not in s:
            continue
        f, b = floor.get(key, {}), baseline.get(key, {})
        cells = [f"{s['rounds'][n]} / {f['rounds'][n] if f else '–'} / {b['rounds'][n] if b else '–'}"
                 for n in range(len(s["rounds"]))]
        rounds.append(f"| {key[1]} | {key[2]} | " + " | ".join(cells) + " |")
    lines += rounds
    table = "\n".join(lines)
    if scale:
        lines = [f"At scale ({SCALE_PROFILES:,} profiles over {SCALE_CUSTOMERS:,} customers, seeded before the run):",
                 "", "| Backend | Workload | Conns | Empty req/s | p50 ms | p99 ms | At scale req/s | p50 ms | p99 ms"
                 " | Errors | Scale / empty |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for key, s in scale.items():
            e = service[key]
            lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {e['rps']:.0f} | {e['p50']:.2f} | {e['p99']:.2f} | "
                         f"{s['rps']:.0f} | {s['p50']:.2f} | {s['p99']:.2f} | {s['errors']} | "
                         f"**{s['rps'] / e['rps']:.2f}** |")
        table += "\n\n" + "\n".join(lines)
    facts_text = "\n".join(f"- {name}: **{value}**" for name, value in facts.items())
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    memory = next(l.split(":", 1)[1].strip() for l in Path("/proc/meminfo").read_text().splitlines()
                  if l.startswith("MemTotal"))
    machine = f"{os.cpu_count()} cores ({cpu}), {memory} memory, {platform.system()} {platform.release()}"
    output = Path(os.environ.get("BENCH_OUTPUT", ROOT / "target" / "bench-results.md"))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine}; "
                      f"{DURATION} s a measurement.\n\n{table}\n\n{facts_text}\n")
    print(output.read_text())


if __name__ == "__main__":
    main()
