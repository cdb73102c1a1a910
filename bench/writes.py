#!/usr/bin/env python3
"""`make bench`, second part (PostgreSQL): the write path and the change feed, against two floors doing the same
work (each floor statement writes its event too): bench/floor.rs on the service's own driver (sqlx) and
bench/pipelined_floor.rs on tokio-postgres, pipelined — the driver's share of a gap is the difference between them.

- get one profile, rename (PATCH replace /name), delete and create at 1 and 32 connections: service, floor and
  pipelined floor in BENCH_ROUNDS interleaved rounds; medians and the ratios.
- the feed's delay: a long poll waiting on the replica that commits, and on another replica; commit (the write's
  answer) to the long poll's answer, p50 and p99 over FEED_SAMPLES changes.
- idle long polls: 100 polls of 10 s by tenants with no events; the database transactions they cost
  (pg_stat_database) and another tenant's GET p50 with and without them.
- SIGTERM with 100 long polls open: time to exit.
- a reseller's feed read with 1,000,000 other resellers' events kept: median of 50 reads.

Appends its tables to target/bench-results.md (or BENCH_OUTPUT), its figures to target/bench-writes.json (which
bench/plots.py draws). Standard library only, with wrk and psql. BENCH_WRITES_PARTS=rows measures only the first.
"""
import contextlib
import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import run as bench

ROUNDS = bench.ROUNDS
FEED_SAMPLES = int(os.environ.get("BENCH_FEED_SAMPLES", "200"))
OTHER_EVENTS = int(os.environ.get("BENCH_OTHER_EVENTS", "1000000"))
POLLS = 100
PARTS = os.environ.get("BENCH_WRITES_PARTS", "rows,feed").split(",")
SYSTEMS = ("service", "floor", "pipelined")


def get(url, token, timeout=40):
    req = urllib.request.Request(url)
    req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())


def psql(url, sql):
    return bench.run(["psql", url, "-qtAc", sql]).strip()


@contextlib.contextmanager
def scratch_database(prefix):
    """A new database on the PostgreSQL server of `make bench`, dropped afterwards: its URL."""
    database = f"{prefix}_{uuid.uuid4().hex[:12]}"
    psql(bench.PG_URL, f"CREATE DATABASE {database}")
    try:
        yield bench.PG_URL.rsplit("/", 1)[0] + "/" + database
    finally:
        psql(bench.PG_URL, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def transactions(url):
    return int(psql(url, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"))



def idle_window(url, server, seconds):
    """A measure of what `server` (on the database at `url`) does while idle: PostgreSQL's transactions in the
    database and the service's statements (from the server's log, `log_statement` turned on for the database and the
    server restarted to take it), over 3 × `seconds`; the returned function takes one measure and describes it."""
    database = url.rsplit("/", 1)[1]
    setting = lambda name: psql(url, f"SELECT setting FROM pg_settings WHERE name = '{name}'")  # noqa: E731
    logs = Path(setting("data_directory")) / setting("log_directory") \
        if setting("logging_collector") == "on" else Path("/var/log/postgresql")
    server_log = sorted(logs.glob("postgresql*.log"), key=lambda p: p.stat().st_mtime)[-1:]
    # The service's statements, from the server's log (PostgreSQL's own work in the database, autovacuum's, is in
    # its transaction count but sends no statement).
    psql(url, f"ALTER DATABASE {database} SET log_statement = 'all'")
    server.stop()
    server.start()

    def measure():
        # PostgreSQL counts a backend's transactions when it flushes them (within 10 s of going idle): what came
        # before is left to settle, and the window is three times the figure's, reported per `seconds`.
        time.sleep(12)
        # A count costs transactions of its own (psql's connection, its query): measured, then left out.
        first = transactions(url)
        before = transactions(url)
        own = before - first
        size = server_log[0].stat().st_size if server_log else 0
        time.sleep(3 * seconds)
        counted = transactions(url) - before - own
        statements = "?"
        if server_log:
            with server_log[0].open(errors="replace") as f:
                f.seek(size)
                lines = [line for line in f if f"@{database} LOG:" in line and "pg_stat" not in line
                         and ("execute " in line or "statement: " in line)]
            statements = len(lines)
        return (f"{counted / 3:.1f} transactions ({counted} in {3 * seconds} s); "
                f"the service's statements: {statements} in {3 * seconds} s")

    return measure

def percentile(values, p):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(len(values) * p + 0.5) - 1))]


def kazoo(n):
    return {"_type": "KazooPbxConnectionProfile", "name": f"Rename me {n}", "hostRest": "https://rest.example.com",
            "hostWebsocket": "wss://ws.example.com", "accountId": f"rename-{uuid.uuid4()}", "apiKey": "k"}


DELETES = int(os.environ.get("BENCH_DELETES", "60000"))


def deletable(database_url, customer, work, name):
    """DELETES Teams profiles of `customer` written straight into the database (a delete reads no secret); the file
    of their ids."""
    ids = psql(database_url, f"""
        INSERT INTO pbx_profiles (id, customer_id, pbx_type, instance_id, instance_key, name, country_code, enabled,
                                  settings, secrets, created_at, version)
        SELECT gen_random_uuid(), '{customer}', 'TeamsPbxConnectionProfile', i, i, 'Delete me', 'US', false, '{{}}',
               'v1:00000000:AAAA', now(), 1
        FROM (SELECT gen_random_uuid()::text AS i FROM generate_series(1, {DELETES})) g
        RETURNING id""")
    path = work / f"delete-{name}.txt"
    path.write_text(ids + "\n")
    return path


def profiles_to_rename(server, token, work):
    """A customer with 256 Kazoo profiles: its id, its profiles' path, their ids and the file listing them (for
    rename.lua)."""
    customer = bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": "Bench"})["data"]["id"]
    pbxs = f"/api/v1.0/customers/{customer}/pbxs"
    ids = [bench.request("POST", f"{server.url}{pbxs}", token, kazoo(n))["data"]["id"] for n in range(256)]
    ids_file = work / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    return customer, pbxs, ids, ids_file


def write_rows(urls, token, pbxs, get_path, rows, database_url=None, customer=None, work=None):
    """Each workload at 1 and 32 connections on each system of `urls` (name → base URL), rounds interleaved."""
    measured = {}
    for round_number in range(1, ROUNDS + 1):
        for connections in (1, 32):
            for system, url in urls.items():
                bench.log(f"writes round {round_number}: delete at {connections} ({system})")
                ids = os.environ["BENCH_IDS"]
                os.environ["BENCH_IDS"] = str(deletable(database_url, customer, work, f"{system}-{round_number}-{connections}"))
                os.environ["BENCH_THREADS"] = str(min(2, connections))
                measured.setdefault(("delete", connections, system), []).append(
                    bench.wrk(url, "delete.lua", pbxs, token, connections))
                os.environ["BENCH_IDS"] = ids
            for system, url in urls.items():
                bench.log(f"writes round {round_number}: get, rename and create at {connections} ({system})")
                measured.setdefault(("get one profile", connections, system), []).append(
                    bench.wrk(url, "get.lua", get_path, token, connections))
                measured.setdefault(("rename", connections, system), []).append(
                    bench.wrk(url, "rename.lua", pbxs, token, connections))
                measured.setdefault(("create", connections, system), []).append(
                    bench.wrk(url, "create.lua", pbxs, token, connections, prefix=f"w{system}{round_number}c{connections}"))
    for (workload, connections, system), results in measured.items():
        rows.setdefault((workload, connections), {})[system] = bench.median(results)


def tenant_token(server):
    output = bench.run([str(bench.BINARY), "--data-dir", str(server.data_dir), "token", "--tenant", str(uuid.uuid4()),
                        "--ttl", "2h"], env=server.env())
    return output.strip().splitlines()[-1]


def feed_delay(server, replica, token, pbxs, profile_ids):
    """Commit (the rename's 200) to the answer of a long poll waiting on `replica`; `token`'s tenant has only the
    events of `profile_ids` (a short feed to catch up with)."""
    delays = []
    cursor = get(f"{replica.url}/api/v1.0/events?limit=1000", token)["next"]
    for n in range(FEED_SAMPLES):
        answer = {}

        def poll():
            answer["page"] = get(f"{replica.url}/api/v1.0/events?after={cursor}&wait=10", token)
            answer["at"] = time.perf_counter()

        waiter = threading.Thread(target=poll)
        waiter.start()
        time.sleep(0.02)  # the poll is waiting
        pbx = profile_ids[n % len(profile_ids)]
        body = json.dumps([{"op": "replace", "path": "/name", "value": f"Delay {n}"}]).encode()
        req = urllib.request.Request(f"{server.url}{pbxs}/{pbx}", data=body, method="PATCH")
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Content-Type", "application/json-patch+json")
        with urllib.request.urlopen(req) as response:
            response.read()
        committed = time.perf_counter()
        waiter.join()
        delays.append(max(0.0, answer["at"] - committed) * 1000)
        cursor = answer["page"]["next"]
    return {"p50": percentile(delays, 0.5), "p99": percentile(delays, 0.99), "samples": len(delays), "delays": delays}


def idle_polls(server, database_url, token, get_path):
    """POLLS long polls of 10 s by tenants with no events: the transactions they cost (nothing else running), then
    another tenant's GET p50 without and with them."""
    tokens = [tenant_token(server) for _ in range(POLLS)]

    def polls():
        threads = [threading.Thread(target=get, args=(f"{server.url}/api/v1.0/events?wait=10", t)) for t in tokens]
        for t in threads:
            t.start()
        return threads

    time.sleep(1)
    # The service's own background work in the same span (the connection checks of the profiles the write rows
    # created may still be running): the polls' cost is what they add to it.
    before = transactions(database_url)
    time.sleep(10)
    background = transactions(database_url) - before
    before = transactions(database_url)
    for t in polls():
        t.join()
    after = transactions(database_url)
    quiet = bench.wrk(server.url, "get.lua", get_path, token, 8)
    waiting = polls()
    time.sleep(0.5)
    busy = bench.wrk(server.url, "get.lua", get_path, token, 8)
    for t in waiting:
        t.join()
    return {"transactions": after - before, "background": background, "get_p50_quiet": quiet["p50"],
            "get_p50_polls": busy["p50"]}


def sigterm_with_polls(database_url, work, token):
    server = bench.Server("PostgreSQL (stop)", work / "pg-stop", database_url)
    server.start()
    token = server.token()
    threads = [threading.Thread(target=lambda: get(f"{server.url}/api/v1.0/events?wait=30", token))
               for _ in range(POLLS)]
    for t in threads:
        t.start()
    time.sleep(1)
    started = time.perf_counter()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=60)
    stopped = time.perf_counter() - started
    for t in threads:
        t.join()
    return stopped


def feed_read(server, database_url):
    """A reseller reads its feed after its first event while OTHER_EVENTS of 5,000 other resellers, written after
    that event (numbered after it, as a busy week would), are kept; and the same read of another reseller before
    they were written: (median ms with them, median ms without)."""

    def reseller_with_a_first_event():
        token = tenant_token(server)
        first = bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": "Feed 0"})["data"]["id"]
        page = get(f"{server.url}/api/v1.0/events?limit=1000", token)
        assert page["data"][-1]["customerId"] == first
        return token, page["data"][-1]["cursor"]

    def more(token):
        for n in range(1, 100):
            bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": f"Feed {n}"})

    def timed(token, cursor):
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            page = get(f"{server.url}/api/v1.0/events?after={cursor}&limit=100", token)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(page["data"]) == 99, len(page["data"])
        return statistics.median(timings)

    alone = reseller_with_a_first_event()
    more(alone[0])
    without = timed(*alone)
    busy = reseller_with_a_first_event()
    bench.log(f"writing {OTHER_EVENTS} events of 5,000 other resellers")
    psql(database_url, f"""
        INSERT INTO pbx_events (seq, id, event_type, occurred_at, reseller_id, customer_id, pbx_id, actor_tenant_id,
                                actor_subject, changed, data)
        SELECT pg_current_xact_id()::text::bigint * 1048576 + g, gen_random_uuid(), 'customer.updated', now(), r.id,
               gen_random_uuid(), NULL, r.id, 'seed', NULL, NULL
        FROM generate_series(1, {OTHER_EVENTS}) g
        JOIN (SELECT n, ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid AS id
              FROM generate_series(0, 4999) n) r ON r.n = g % 5000;
        ANALYZE pbx_events;""")
    more(busy[0])
    return timed(*busy), without


def main():
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    bench.log("building the release binary and the floors")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx-server", "--bin", "pbx-server", "--example", "floor",
                    "--example", "pipelined_floor", "--features", "pipelined-floor"], check=True, cwd=bench.ROOT)
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-writes-"))
    with scratch_database("pbx_bench_w") as database_url:
        measure(work, database_url)


def measure(work, database_url):
    rows, facts, delays = {}, {}, {}
    try:
        server = bench.Server("PostgreSQL", work / "pg", database_url)
        server.start()
        token = server.token()
        customer, pbxs, ids, ids_file = profiles_to_rename(server, token, work)
        os.environ["BENCH_IDS"] = str(ids_file)
        if "rows" in PARTS:
            floor = bench.Floor(database_url)
            pipelined = bench.Floor(database_url, bench.PIPELINED_FLOOR)
            urls = {"service": server.url, "floor": floor.url, "pipelined": pipelined.url}
            write_rows(urls, token, pbxs, f"{pbxs}/{ids[-1]}", rows, database_url, customer, work)
            floor.stop()
            pipelined.stop()
        if "feed" not in PARTS:
            server.stop()
            return
        replica = bench.Server("PostgreSQL (replica)", work / "pg", database_url)
        replica.start()

        def fact(name, value):
            facts[name] = value
            bench.log(f"{name}: {value}")

        bench.log("feed delay: same replica, then another")
        quiet = tenant_token(server)
        own = bench.request("POST", f"{server.url}/api/v1.0/customers", quiet, {"name": "Delay"})["data"]["id"]
        own_pbxs = f"/api/v1.0/customers/{own}/pbxs"
        own_ids = [bench.request("POST", f"{server.url}{own_pbxs}", quiet, kazoo(n))["data"]["id"] for n in range(8)]
        same = delays["same replica"] = feed_delay(server, server, quiet, own_pbxs, own_ids)
        fact("feed delay, long poll on the same replica (ms)", f"p50 {same['p50']:.1f}, p99 {same['p99']:.1f}")
        other = delays["another replica"] = feed_delay(server, replica, quiet, own_pbxs, own_ids)
        fact("feed delay, long poll on another replica (ms)", f"p50 {other['p50']:.1f}, p99 {other['p99']:.1f}")
        replica.stop()
        bench.log("idle long polls")
        idle = idle_polls(server, database_url, token, f"{pbxs}/{ids[0]}")
        fact(f"{POLLS} idle long polls of 10 s: database transactions in all / in 10 s without them",
             f"{idle['transactions']} / {idle['background']}")
        fact("another tenant's GET p50 without / with those polls (ms)",
             f"{idle['get_p50_quiet']:.2f} / {idle['get_p50_polls']:.2f}")
        busy, alone = feed_read(server, database_url)
        fact(f"a reseller's read of 99 events, {OTHER_EVENTS:,} other resellers' events kept between them / none: "
             "median (ms)", f"{busy:.2f} / {alone:.2f}")
        server.stop()
        bench.log("SIGTERM with long polls open")
        fact(f"SIGTERM with {POLLS} long polls open: time to exit (s)",
             round(sigterm_with_polls(database_url, work, token), 2))
    finally:
        report(rows, facts)
        figures = {"rows": [{"workload": w, "connections": c, **{k: v["rps"] for k, v in systems.items()}}
                            for (w, c), systems in rows.items()],
                   "feed_delays_ms": {name: d["delays"] for name, d in delays.items()}}
        (bench.ROOT / "target" / "bench-writes.json").write_text(json.dumps(figures, indent=1))


def report(rows, facts):
    lines = ["", "Writes and the change feed (PostgreSQL, bench/writes.py; the floor writes each change's event in the "
             "same statement):", "",
             "| Workload | Conns | Service req/s | p50 ms | p99 ms | Errors | Floor (sqlx) req/s | p50 ms | "
             "Pipelined floor req/s | p50 ms | Service / floor | Service / pipelined | Floor / pipelined | "
             "Rounds (service / floor / pipelined) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for (workload, connections), systems in rows.items():
        s, f, p = (systems[name] for name in SYSTEMS)
        cells = " ".join(f"{a}/{b}/{c}" for a, b, c in zip(s["rounds"], f["rounds"], p["rounds"]))
        lines.append(f"| {workload} | {connections} | {s['rps']:.0f} | {s['p50']:.2f} | {s['p99']:.2f} | {s['errors']} "
                     f"| {f['rps']:.0f} | {f['p50']:.2f} | {p['rps']:.0f} | {p['p50']:.2f} "
                     f"| **{s['rps'] / f['rps']:.2f}** | **{s['rps'] / p['rps']:.2f}** | {f['rps'] / p['rps']:.2f} "
                     f"| {cells} |")
    lines.append("")
    lines += [f"- {name}: **{value}**" for name, value in facts.items()]
    text = "\n".join(lines) + "\n"
    output = Path(os.environ.get("BENCH_OUTPUT", bench.ROOT / "target" / "bench-results.md"))
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("a") as out:
        out.write(text)
    print(text)


if __name__ == "__main__":
    main()
