#!/usr/bin/env python3
"""`make ha-test`: the service on PostgreSQL under Patroni behind HAProxy, through the faults production meets.

Started inside one temp folder, on free ports, and stopped on the way out (also on failure or Ctrl-C): etcd, two
PostgreSQL 15 nodes under Patroni (synchronous replication), HAProxy routing to the primary by Patroni's REST check
(`/primary`), a `nats-server -js`, and two service replicas (relay to NATS on) reaching the database through HAProxy.

Under load (writers creating, enabling/disabling and deleting profiles on both replicas; a collector following the
feed over HTTP, one over NATS JetStream), in turn: the primary's node dies (SIGKILL of its Patroni and its
postmaster: the standby is promoted), the dead node comes back as the standby, a planned `patronictl switchover`, one
service replica SIGKILLed and restarted, the NATS server restarted.

Checked afterwards: no 5xx but 503, each with `Retry-After`; `/readyz` said 503 while there was no primary; every
acknowledged write reads back (a write is retried on 503 or a cut connection — with its `Idempotency-Key` for a
create — until it is answered, so each one's outcome is known); the feed read whole afterwards is exactly what the HTTP
collector saw (nothing skipped, nothing repeated) and what NATS carried; the profiles the events leave enabled are
the profiles enabled. Prints the figures (docs/reliability.md). Runs as root (PostgreSQL runs as `postgres`).
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
if not TARGET.is_absolute():
    TARGET = ROOT / TARGET
BINARY = TARGET / "debug" / "pbx-server"
PG_BIN = Path(os.environ.get("PBX_HA_PG_BIN", "/usr/lib/postgresql/15/bin"))
WRITERS = int(os.environ.get("PBX_HA_WRITERS", "6"))
RESELLER = str(uuid.uuid4())
PASSWORD = "ha-test"  # the nodes' superuser; the cluster lives and dies with the test


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] ha-test: {message}", flush=True)


def retry_after(headers):
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    return float(value) if value is not None else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, token=None, body=None, headers=None, timeout=10):
    """(status, headers, parsed body) — status 0 when the connection failed."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        kind = "application/json-patch+json" if isinstance(body, list) else "application/json"
        req.add_header("Content-Type", kind)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return e.code, dict(e.headers), parsed
    except (OSError, ValueError):
        return 0, {}, None


class Processes:
    """Every process the test starts, each in its own session, stopped on the way out."""

    def __init__(self, folder):
        self.folder = folder
        self.running = {}

    def start(self, name, argv, env=None, user=None):
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        out = open(self.folder / f"{name}.log", "ab")
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.running[name] = process
        return process

    def kill(self, name, sig=signal.SIGKILL):
        process = self.running.pop(name)
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self):
        for name in list(self.running):
            self.kill(name, signal.SIGTERM)
        # Whatever a process left behind in its session (a postmaster Patroni started).
        subprocess.run(["pkill", "-KILL", "-f", str(self.folder)], check=False)


WRITERS_RUNNING = []  # the writers, once started: a wait gives up as soon as one of them has failed


def wait_until(what, check, timeout=60, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        failed = [writer.failure for writer in WRITERS_RUNNING if writer.failure]
        if failed:
            raise SystemExit("ha-test: " + "; ".join(failed))
        time.sleep(every)
    raise SystemExit(f"ha-test: timed out waiting for {what}")


class Cluster:
    def __init__(self, folder, processes):
        self.folder, self.processes = folder, processes
        self.etcd = (free_port(), free_port())
        self.nodes = {name: {"pg": free_port(), "api": free_port()} for name in ("node1", "node2")}
        self.haproxy = free_port()
        self.nats = free_port()

    # etcd, then both nodes, then HAProxy.
    def start(self):
        client, peer = self.etcd
        self.processes.start("etcd", [
            "etcd", "--name", "ha", "--data-dir", str(self.folder / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"ha=http://127.0.0.1:{peer}"])
        wait_until("etcd", lambda: http("GET", f"http://127.0.0.1:{client}/health")[0] == 200)
        for name in self.nodes:
            self.write_patroni_config(name)
        self.start_node("node1")
        wait_until("node1 to bootstrap as the primary", lambda: self.role("node1") == "primary", timeout=90)
        self.start_node("node2")
        wait_until("node2 to stream as the synchronous standby", lambda: self.synchronous("node2"), timeout=120)
        self.write_haproxy_config()
        self.processes.start("haproxy", ["haproxy", "-db", "-f", str(self.folder / "haproxy.cfg")])
        wait_until("HAProxy to reach the primary", lambda: self.pg_ready(), timeout=30)

    def write_patroni_config(self, name):
        node = self.nodes[name]
        home = self.folder / name
        home.mkdir()
        shutil.chown(home, "postgres", "postgres")
        config = Template((HERE / "patroni.yml").read_text()).substitute(
            name=name, api_port=node["api"], pg_port=node["pg"], etcd_port=self.etcd[0], home=home, pg_bin=PG_BIN,
            password=PASSWORD)
        (self.folder / f"{name}.yml").write_text(config)

    def start_node(self, name):
        self.processes.start(f"patroni-{name}", ["patroni", str(self.folder / f"{name}.yml")], user="postgres")

    def write_haproxy_config(self):
        servers = "\n".join(
            f"  server {name} 127.0.0.1:{node['pg']} check port {node['api']}" for name, node in self.nodes.items())
        config = Template((HERE / "haproxy.cfg").read_text()).substitute(listen_port=self.haproxy, servers=servers)
        (self.folder / "haproxy.cfg").write_text(config)

    def role(self, name):
        status, _, body = http("GET", f"http://127.0.0.1:{self.nodes[name]['api']}/patroni", timeout=2)
        role = body.get("role") if status == 200 and isinstance(body, dict) else None
        return "primary" if role == "master" else role  # Patroni 3.0 still says "master"

    def synchronous(self, name):
        return http("GET", f"http://127.0.0.1:{self.nodes[name]['api']}/sync", timeout=2)[0] == 200

    def primary(self):
        return next((name for name in self.nodes if self.role(name) == "primary"), None)

    def pg_ready(self):
        done = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.haproxy)],
                              capture_output=True, check=False)
        return done.returncode == 0

    def database_url(self):
        return f"postgres://postgres:{PASSWORD}@127.0.0.1:{self.haproxy}/postgres"

    def kill_node(self, name):
        """The node dies: its Patroni and its postmaster, SIGKILL both."""
        postmaster = (self.folder / name / "data" / "postmaster.pid").read_text().split()[0]
        self.processes.kill(f"patroni-{name}")
        os.kill(int(postmaster), signal.SIGKILL)

    def switchover(self, leader, candidate):
        return subprocess.run(["patronictl", "-c", str(self.folder / f"{leader}.yml"), "switchover", "--leader", leader,
                               "--candidate", candidate, "--force"], capture_output=True, text=True, check=False)

    def start_nats(self):
        self.processes.start("nats", ["nats-server", "-a", "127.0.0.1", "-p", str(self.nats), "-js", "-sd",
                                      str(self.folder / "nats")])
        wait_until("NATS", lambda: port_open(self.nats))


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Replica:
    def __init__(self, name, processes, data_dir, env):
        self.name, self.processes, self.data_dir, self.env = name, processes, data_dir, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        self.processes.start(self.name, [str(BINARY), "--data-dir", str(self.data_dir), "serve", "--bind",
                                         f"127.0.0.1:{self.port}"], env=self.env)
        wait_until(f"{self.name} to be ready", lambda: http("GET", f"{self.url}/readyz", timeout=2)[0] == 200, 60)


class Tally:
    """What the clients saw, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = {}
        self.bad = []  # a 5xx other than 503, or a 503 without Retry-After
        self.last_success = 0.0
        self.successes = []  # (sent, answered) instants of each acknowledged write
        self.unavailable = []  # instants of 503s and cut connections
        self.longest = 0.0  # the longest write, from its first attempt to its answer
        self.longest_write = None

    def saw(self, status, headers, what):
        now = time.monotonic()
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500 and (status != 503 or retry_after(headers) is None):
                self.bad.append((status, what))
            if status in (0, 503):
                self.unavailable.append(now)

    def succeeded(self, sent, first, what):
        now = time.monotonic()
        with self.lock:
            self.successes.append((sent, now))
            if now - first > self.longest:
                started = time.strftime("%H:%M:%S", time.localtime(time.time() - (now - first)))
                self.longest, self.longest_write = now - first, f"{what} first sent at {started}"


class Writer(threading.Thread):
    """Creates profiles of its own customer, turns them on and off, deletes some; each write retried until answered."""

    def __init__(self, index, replicas, token, tally, stop):
        super().__init__(daemon=True)
        self.index, self.replicas, self.token, self.tally, self.stop = index, replicas, token, tally, stop
        self.random = random.Random(index)
        self.profiles = {}  # id -> enabled, for those acknowledged and not deleted
        self.deleted = set()
        self.failure = None  # why the thread stopped early: an answer it must not get

    def write(self, method, path, body=None, done=(200, 201), key=None):
        headers = {"accept-charges": "true"}
        if key:
            headers["Idempotency-Key"] = key
        first = time.monotonic()
        while True:
            replica = self.random.choice(self.replicas)
            sent = time.monotonic()
            status, answered, parsed = http(method, f"{replica.url}/api/v1.0{path}", self.token, body, headers)
            self.tally.saw(status, answered, f"{method} {path}")
            if status in done:
                self.tally.succeeded(sent, first, method)
                return status, parsed
            if status in (0, 503):
                time.sleep(0.1)
                continue
            raise SystemExit(f"ha-test: {method} {path} answered {status}: {parsed}")

    def run(self):
        try:
            self.work()
        except BaseException as e:  # noqa: BLE001 — reported by main, a thread's SystemExit is otherwise silent
            self.failure = f"writer {self.index}: {e}"

    def work(self):
        _, customer = self.write("POST", "/customers", {"name": f"HA {self.index}"}, key=str(uuid.uuid4()))
        customer = self.customer = customer["data"]["id"]
        n = 0
        while not self.stop.is_set():
            choice = self.random.random()
            live = sorted(self.profiles)
            if choice < 0.5 or not live:
                n += 1
                body = {"_type": "KazooPbxConnectionProfile", "name": f"HA {self.index}-{n}",
                        "hostRest": "https://rest.example.com", "hostWebsocket": "wss://ws.example.com",
                        "accountId": f"ha-{uuid.uuid4()}", "apiKey": "k"}
                _, created = self.write("POST", f"/customers/{customer}/pbxs", body, key=str(uuid.uuid4()))
                self.profiles[created["data"]["id"]] = created["data"]["enabled"]
            elif choice < 0.85:
                pbx = self.random.choice(live)
                enabled = not self.profiles[pbx]
                patch = [{"op": "replace", "path": "/enabled", "value": enabled}]
                self.write("PATCH", f"/customers/{customer}/pbxs/{pbx}", patch)
                self.profiles[pbx] = enabled
            else:
                pbx = self.random.choice(live)
                # A retried delete whose first attempt committed finds nothing: 404 is its answer then.
                self.write("DELETE", f"/customers/{customer}/pbxs/{pbx}", done=(200, 204, 404))
                del self.profiles[pbx]
                self.deleted.add(pbx)


class HttpCollector(threading.Thread):
    """Follows the feed with long polls, moving to the other replica when one does not answer."""

    def __init__(self, replicas, token, stop):
        super().__init__(daemon=True)
        self.replicas, self.token, self.stop = replicas, token, stop
        self.seen = []
        self.switches = 0

    def run(self):
        cursor, at = None, 0
        quiet_since = None
        while True:
            query = "limit=1000&wait=2" + (f"&after={cursor}" if cursor else "")
            status, _, page = http("GET", f"{self.replicas[at].url}/api/v1.0/events?{query}", self.token, timeout=15)
            if status != 200:
                at, self.switches = (at + 1) % len(self.replicas), self.switches + 1
                time.sleep(0.2)
                continue
            self.seen.extend(page["data"])
            cursor = page["next"]
            if page["data"]:
                quiet_since = None
            elif self.stop.is_set():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 3:
                    return


def nats_collector(port, out, stop):
    """Reads stream PBX_EVENTS from its start with an ordered consumer, across a restart of the server."""
    import asyncio

    import nats

    async def follow():
        async def quiet(_error):  # the restart's refused reconnects, expected: not a traceback each
            pass

        connection = await nats.connect(f"nats://127.0.0.1:{port}", max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                                        error_cb=quiet)
        stream = connection.jetstream()
        while True:
            try:
                subscription = await stream.subscribe("pbx.events.>", ordered_consumer=True)
                break
            except Exception:  # the relay has not made the stream yet
                await asyncio.sleep(0.5)
        quiet_since = None
        while True:
            try:
                message = await subscription.next_msg(timeout=1)
                out.append(json.loads(message.data))
                quiet_since = None
            except Exception:
                if stop.is_set():
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since > 5:
                        break
        await connection.close()

    asyncio.run(follow())


def enabled_by(events):
    """The profiles a collector takes for enabled: each profile's last event in the order received, the first copy of
    an event counting (JetStream may deliver one again)."""
    state, seen = {}, set()
    for event in events:
        if event["id"] in seen or not event.get("pbxId") or event["type"] == "pbx.credentials_read":
            continue
        seen.add(event["id"])
        state[event["pbxId"]] = event["type"] != "pbx.deleted" and bool((event.get("data") or {}).get("enabled"))
    return {pbx for pbx, on in state.items() if on}


def readiness_monitor(replicas, stop, samples):
    while not stop.is_set():
        for replica in replicas:
            samples.append((time.monotonic(), replica.name, http("GET", f"{replica.url}/readyz", timeout=2)[0]))
        time.sleep(0.2)


def first_write(tally, since):
    """Seconds from `since` to the first write acknowledged once the fault took effect (sent after the first 503 or cut
    connection since `since`: a commit under way when the postmaster is killed can still finish), or None."""
    with tally.lock:
        refused = min((t for t in tally.unavailable if t >= since), default=None)
        if refused is None:
            return None
        first = min((answered for sent, answered in tally.successes if sent > refused), default=None)
    return first - since if first else None


def pause(tally, start, end):
    """Over [start, end]: the longest time without an acknowledged write (where it ended, from `start`), and how many
    answers were 503 or a cut connection."""
    with tally.lock:
        answers = sorted(answered for _, answered in tally.successes if start <= answered <= end)
        refused = sum(1 for t in tally.unavailable if start <= t <= end)
    longest, ended = 0.0, start
    for before, after in zip([start, *answers], answers):
        if after - before > longest:
            longest, ended = after - before, after
    return longest, ended - start, refused


def main():
    if os.geteuid() != 0:
        raise SystemExit("ha-test: run as root (PostgreSQL runs as the postgres user, started by runuser)")
    for tool in ("etcd", "patroni", "patronictl", "haproxy", "nats-server"):
        if not shutil.which(tool):
            raise SystemExit(f"ha-test: {tool} is not installed (apt-get install etcd-server patroni haproxy)")
    folder = Path(tempfile.mkdtemp(prefix="pbx-ha-"))
    folder.chmod(0o755)
    processes = Processes(folder)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        figures = run(folder, processes)
    except BaseException:
        for name in sorted(folder.glob("*.log")):
            print(f"---- {name.name} (last lines)\n" + "\n".join(name.read_text(errors="replace").splitlines()[-25:]))
        raise
    finally:
        processes.stop_all()
        shutil.rmtree(folder, ignore_errors=True)
    print("\nha-test figures:")
    for line in figures:
        print(f"  {line}")


def run(folder, processes):
    cluster = Cluster(folder, processes)
    started = time.monotonic()
    cluster.start()
    cluster.start_nats()
    log(f"cluster up in {time.monotonic() - started:.1f} s: primary {cluster.primary()}, HAProxy :{cluster.haproxy}")

    data_dir = folder / "service"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_") and k != "DATABASE_URL"}
    env.update({"DATABASE_URL": cluster.database_url(), "PBX_NATS_URL": f"nats://127.0.0.1:{cluster.nats}",
                "PBX_RATE_LIMIT": "0", "PBX_DB_ACQUIRE_TIMEOUT": "2s", "PBX_DB_STATEMENT_TIMEOUT": "10s",
                "PBX_SHUTDOWN_DRAIN": "0s", "RUST_LOG": "warn",
                # The test compares the feed read once the load stops with what the collectors saw: the service's
                # own connection checks (§15) would go on recording events after that (each profile's hosts fail
                # on DNS here), so they are off; the check routes are not part of this load.
                "PBX_PBX_CHECKS": "false"})
    replicas = [Replica(f"replica{i}", processes, data_dir, env) for i in (1, 2)]
    for replica in replicas:
        replica.start()
    token = subprocess.run([str(BINARY), "--data-dir", str(data_dir), "token", "--tenant", RESELLER, "--ttl", "2h"],
                           capture_output=True, text=True, check=True, env=env).stdout.strip().splitlines()[-1]

    tally, stop, stop_collectors = Tally(), threading.Event(), threading.Event()
    writers = [Writer(i, replicas, token, tally, stop) for i in range(WRITERS)]
    collector = HttpCollector(replicas, token, stop_collectors)
    nats_seen = []
    nats_thread = threading.Thread(target=nats_collector, args=(cluster.nats, nats_seen, stop_collectors), daemon=True)
    readiness = []
    monitor = threading.Thread(target=readiness_monitor, args=(replicas, stop_collectors, readiness), daemon=True)
    WRITERS_RUNNING.extend(writers)
    for thread in [*writers, collector, nats_thread, monitor]:
        thread.start()
    time.sleep(5)

    figures = []
    # 1. The primary's node dies.
    primary = cluster.primary()
    standby = next(name for name in cluster.nodes if name != primary)
    log(f"SIGKILL of {primary} (Patroni and postmaster)")
    cluster.kill_node(primary)
    killed = time.monotonic()
    wait_until(f"{standby} to be promoted", lambda: cluster.role(standby) == "primary", timeout=60)
    promoted = time.monotonic() - killed
    wait_until("a write after the failover", lambda: first_write(tally, killed) is not None, timeout=60)
    seconds = first_write(tally, killed)
    time.sleep(5)
    _, _, refused = pause(tally, killed, killed + seconds)
    with tally.lock:
        outage = min(t for t in tally.unavailable if t >= killed)
        late = sum(1 for sent, answered in tally.successes if sent > killed and answered <= outage)
    no_primary = [s for t, _, s in readiness if killed <= t <= killed + seconds]
    figures.append(f"primary killed: {standby} promoted after {promoted:.1f} s; the first write acknowledged after "
                   f"the outage: {seconds:.1f} s after the kill; {refused} answers 503 (or cut) meanwhile; /readyz: "
                   f"{no_primary.count(503)} of {len(no_primary)} samples 503; {late} writes sent after the SIGKILL acknowledged "
                   "before the first refusal (the dead postmaster's backends finishing, read back like every other)")
    log(figures[-1])
    if 503 not in no_primary:
        raise SystemExit("ha-test: /readyz never said 503 while there was no primary")
    log(f"{primary} comes back")
    cluster.start_node(primary)
    wait_until(f"{primary} to stream as the synchronous standby", lambda: cluster.synchronous(primary), timeout=120)
    time.sleep(3)

    # 2. A planned switchover, back to the first node.
    log(f"patronictl switchover {standby} -> {primary}")
    switched = time.monotonic()
    done = cluster.switchover(standby, primary)
    if done.returncode != 0:
        raise SystemExit(f"ha-test: switchover failed: {done.stdout}{done.stderr}")
    wait_until(f"{primary} to be the primary", lambda: cluster.role(primary) == "primary", timeout=60)
    promoted = time.monotonic() - switched
    wait_until("a write after the switchover", lambda: any(sent > switched + promoted for sent, _ in tally.successes), 60)
    time.sleep(5)
    longest, ended, refused = pause(tally, switched, time.monotonic())
    figures.append(f"switchover: {primary} primary after {promoted:.1f} s; writes paused {longest:.1f} s at most "
                   f"(resumed {ended:.1f} s after the command); {refused} answers 503 (or cut) meanwhile")
    log(figures[-1])

    # 3. One service replica dies; the clients go to the other; it comes back.
    log("SIGKILL of replica1")
    processes.kill("replica1")
    time.sleep(2)
    replicas[0].start()
    time.sleep(3)

    # 4. The NATS server restarts.
    log("NATS restarts")
    processes.kill("nats", signal.SIGTERM)
    time.sleep(2)
    cluster.start_nats()
    time.sleep(5)

    stop.set()
    for writer in writers:
        writer.join(timeout=120)
    log("load stopped; reading everything back")

    # Every acknowledged write reads back.
    lost = []
    enabled_now = set()
    for writer in writers:
        for pbx, enabled in writer.profiles.items():
            status, _, body = http("GET", f"{replicas[1].url}/api/v1.0/customers/{writer.customer}/pbxs/{pbx}", token)
            if status != 200 or body["data"]["enabled"] != enabled:
                lost.append((pbx, status, enabled))
            elif enabled:
                enabled_now.add(pbx)
        for pbx in writer.deleted:
            status, _, _ = http("GET", f"{replicas[1].url}/api/v1.0/customers/{writer.customer}/pbxs/{pbx}", token)
            if status != 404:
                lost.append((pbx, status, "deleted"))

    # The feed read whole, against what the HTTP collector saw and what NATS carried.
    feed, cursor = [], None
    while True:
        query = "limit=1000" + (f"&after={cursor}" if cursor else "")
        status, _, page = http("GET", f"{replicas[1].url}/api/v1.0/events?{query}", token)
        if status != 200:
            raise SystemExit(f"ha-test: the feed read afterwards answered {status}")
        feed.extend(page["data"])
        cursor = page["next"]
        if not page["data"]:
            break
    stop_collectors.set()
    collector.join(timeout=60)
    ids = [event["id"] for event in feed]
    wait_until("NATS to carry every event", lambda: {event["id"] for event in nats_seen} >= set(ids), timeout=60)
    nats_thread.join(timeout=30)
    monitor.join(timeout=10)

    seen_ids = [event["id"] for event in collector.seen]
    nats_ids = [event["id"] for event in nats_seen]

    problems = [writer.failure for writer in writers if writer.failure]
    if tally.bad:
        problems.append(f"answers other than 503 among the 5xx, or a 503 without Retry-After: {tally.bad[:10]}")
    if lost:
        problems.append(f"acknowledged writes that do not read back: {lost[:10]}")
    if len(set(ids)) != len(ids):
        problems.append("the feed holds an event twice")
    if seen_ids != ids:
        missing = len(set(ids) - set(seen_ids))
        repeated = len(seen_ids) - len(set(seen_ids))
        problems.append(f"the HTTP collector saw {len(seen_ids)} events, the feed has {len(ids)} "
                        f"({missing} skipped, {repeated} repeated, the same events in another order: {sorted(seen_ids) == sorted(ids)})")
    if set(nats_ids) != set(ids):
        problems.append(f"NATS carried {len(set(nats_ids))} distinct events, the feed has {len(ids)}")
    for who, events in (("the feed read afterwards", feed), ("the HTTP collector", collector.seen),
                        ("the NATS collector", nats_seen)):
        if enabled_by(events) != enabled_now:
            problems.append(f"{who}'s events leave {len(enabled_by(events))} profiles enabled, {len(enabled_now)} are")

    acknowledged = len(tally.successes)
    figures.append(f"writes acknowledged: {acknowledged} (the longest, a {tally.longest_write}, took "
                   f"{tally.longest:.1f} s from its first attempt, retries included); answers by status (0: connection cut): {dict(sorted(tally.statuses.items()))}")
    figures.append(f"feed: {len(ids)} events, the HTTP collector saw {len(collector.seen)} (moved replica "
                   f"{collector.switches} times), NATS carried {len(nats_ids)} ({len(nats_ids) - len(set(nats_ids))}"
                   f" repeated by JetStream's at-least-once, deduplicated by id); enabled profiles {len(enabled_now)}")
    if problems:
        for line in figures:
            log(line)
        raise SystemExit("ha-test FAILED:\n  " + "\n  ".join(problems))
    return figures


if __name__ == "__main__":
    main()
