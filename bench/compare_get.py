"""Get one profile on PostgreSQL, several builds of the service against the floor, interleaved rounds, with the CPU
time and context switches each server process spends per request (`perf stat -p`).

Usage: python3 bench/compare_get.py [BINARY …]   (default: the release build of `make bench`)
Environment: BENCH_DURATION (10 s), COMPARE_ROUNDS (3), COMPARE_CONNECTIONS (32), COMPARE_FLOOR_PER_WORKER=1 adds the
floor with a pool per HTTP worker. Build the floor first (`make bench` does; or
`cargo build --release -p pbx-server --example floor`). An old build to compare: `git worktree add`, build it with
its own CARGO_TARGET_DIR, pass its binary.
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the helpers of make bench)

CONNECTIONS = int(os.environ.get("COMPARE_CONNECTIONS", "32"))
ROUNDS = int(os.environ.get("COMPARE_ROUNDS", "3"))


def start(server):
    run.BINARY = Path(server.binary)
    return server.start()


def create_profile(url, token, customer):
    body = {"_type": "KazooPbxConnectionProfile", "name": "Read me", "hostRest": "https://rest.example.com",
            "hostWebsocket": "wss://ws.example.com", "accountId": f"read-{uuid.uuid4()}", "apiKey": "k"}
    request = urllib.request.Request(
        f"{url}/api/v1.0/customers/{customer}/pbxs", method="POST", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "accept-charges": "true"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["data"]["id"]


def measured(name, pid, url, path, token):
    """One wrk run, with perf stat on the server process meanwhile."""
    perf = subprocess.Popen(["perf", "stat", "-x,", "-e", "task-clock,context-switches,cpu-migrations", "-p", str(pid)],
                            stderr=subprocess.PIPE, text=True)
    result = run.wrk(url, "get.lua", path, token, CONNECTIONS)
    perf.send_signal(2)
    counters = {line.split(",")[2]: float(line.split(",")[0])
                for line in perf.communicate()[1].strip().splitlines() if line and line[0].isdigit()}
    requests = result["rps"] * run.DURATION
    print(f"  {name}: {result['rps']:.0f} req/s, p99 {result['p99']} ms; "
          f"{counters.get('task-clock', 0) * 1000 / requests:.1f} µs CPU, "
          f"{counters.get('context-switches', 0) / requests:.2f} context switches, "
          f"{counters.get('cpu-migrations', 0) / requests:.3f} migrations a request", flush=True)
    return result


def main():
    binaries = sys.argv[1:] or [str(run.BINARY)]
    database = f"pbx_compare_{uuid.uuid4().hex[:8]}"
    run.run(["psql", run.PG_URL, "-qc", f"CREATE DATABASE {database}"])
    url = run.PG_URL.rsplit("/", 1)[0] + "/" + database
    work = Path(tempfile.mkdtemp(prefix="pbx-compare-"))
    servers = []
    for index, binary in enumerate(binaries):
        server = run.Server(f"service {index} ({Path(binary).name})", work / "data", url)
        server.binary = binary
        servers.append(server)
    start(servers[0])
    token = servers[0].token()
    customer = run.request("POST", f"{servers[0].url}/api/v1.0/customers", token, {"name": "Bench"})["data"]["id"]
    path = f"/api/v1.0/customers/{customer}/pbxs/{create_profile(servers[0].url, token, customer)}"
    for server in servers[1:]:
        start(server)
    floors = {"floor": run.Floor(url)}
    if os.environ.get("COMPARE_FLOOR_PER_WORKER"):
        os.environ["FLOOR_POOL_PER_WORKER"] = "1"
        floors["floor, a pool per worker"] = run.Floor(url)
        del os.environ["FLOOR_POOL_PER_WORKER"]
    results = {}
    try:
        for number in range(1, ROUNDS + 1):
            print(f"round {number}", flush=True)
            for server in servers:
                results.setdefault(server.name, []).append(
                    measured(server.name, server.process.pid, server.url, path, token))
            for name, floor in floors.items():
                results.setdefault(name, []).append(measured(name, floor.process.pid, floor.url, path, token))
        for name, rounds in results.items():
            print(name, run.median(rounds))
    finally:
        for server in servers:
            server.stop()
        for floor in floors.values():
            floor.stop()
        run.run(["psql", run.PG_URL, "-qc", f"DROP DATABASE {database}"])


if __name__ == "__main__":
    main()
