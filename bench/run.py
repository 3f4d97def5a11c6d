"""The whole benchmark in one command (`make bench`): every figure side by side in one run.

1. Pages a user waits for — filtered project list, project page, name search, dashboard, an
   officer's queue — p50/p95 at each PostgreSQL size and on SQLite, and the app workers' peak
   memory; measured first, before the write-heavy runs below.
2. PostgreSQL's own limit: pgbench TPC-B on the same server (a reference).
3. Transitions under concurrent clients on PostgreSQL, served by gunicorn with the repo's
   settings, in alternating rounds (median reported): a bare Flask endpoint doing the SQL of
   a transition (the floor), then one server of the application measuring the API's minimal
   step (tokens, role and jurisdiction checks, guards, audit hash chain, deadlines, rollup),
   the API answering with the whole project, and the web decision a person makes (form POST
   with CSRF, step, redirect, project page: bench/web.lua) — each with the CPU per step its
   workers and PostgreSQL spent, read from /proc.
4. Bulk decisions, where bench/bulk.py exists.
5. SQLite with concurrent writers: transitions per second and "database is locked" errors.
6. SQLite writers during a batch import: API creates' p95 while the job worker imports a
   10,000-row workbook (bench/imports.py; `--import-rows 0` leaves it out).
7. The declaration deadline day (bench/deadline.py): 10,000 enterprises declare, attach two
   1 MB PDFs and submit, 32 at a time, while an officer opens the queue.
8. Cold project pages after a PostgreSQL restart and a dropped page cache (bench/cold.py;
   root only, last, as it restarts the server).

`--quick` runs the whole set at 10,000 projects in a few minutes (short runs, fewer requests,
a small deadline day, no cold pages) and writes instance/bench-quick.md.

The table is printed and written to bench/RESULTS.md with the machine and the command.
Generated data is kept between runs (one database per size, `jigai_bench_<size>`, and
instance/bench-<size>.sqlite3), so a run reuses what earlier runs made; `--fresh` starts over.
"""

import argparse
import json
import os
import platform
import random
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import cold as bench_cold
from bench import deadline as bench_deadline
from bench import imports as bench_imports
from bench import wrk
from bench.load import Client, Outcome, run_clients, sample_latencies

try:  # target 2, bulk decisions: bench/bulk.py, where it exists, measures them; its
    # `measure(pg_url=, sqlite_url=, args=)` returns (figure, value, target, met) rows
    from bench import bulk as bench_bulk
except ImportError:
    bench_bulk = None

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PGBENCH_DB = "jigai_pgbench"
ADMIN, PASSWORD = "bench-admin", "jigai-bench-admin"
LIBRARY = ("declared", "commitment_filing", "financing_matchmaking", "lead_bank_designated",
           "completed")


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------- databases and data


def psql(database: str, sql: str) -> str:
    return subprocess.run(["psql", f"{PG_SERVER}/{database}", "-Atqc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def bin_of(code: Path) -> Path:
    """The environment that runs the checkout at `code`: its own where it has one."""
    own = code / ".venv" / "bin"
    return own if code != ROOT and (own / "python").exists() else BIN


def flask(url: str, *args: str, code: Path = ROOT) -> str:
    """A flask command of the checkout at `code` (this repo, or an earlier commit's)."""
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run([str(bin_of(code) / "flask"), "--app", "wsgi", *args], cwd=code, env=env,
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def postgres_url(size: int) -> str:
    return f"{PG_SERVER}/jigai_bench_{size}"


def sqlite_url(size: int) -> str:
    return f"sqlite:///{ROOT / 'instance' / f'bench-{size}.sqlite3'}"


def project_count(url: str) -> int:
    """Projects in the benchmark database at `url`; -1 when it is missing or incomplete."""
    try:
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if not Path(path).exists():
                return -1
            with sqlite3.connect(path) as conn:
                return conn.execute("SELECT COUNT(*) FROM projects").fetchone()[0]
        return int(psql(url.rsplit("/", 1)[1], "SELECT COUNT(*) FROM projects"))
    except (sqlite3.OperationalError, subprocess.CalledProcessError):
        return -1


def ensure_data(url: str, size: int, fresh: bool, code: Path = ROOT) -> None:
    """Make the database at `url` hold exactly `size` projects generated by the checkout at
    `code`, at that checkout's schema."""
    if not fresh and project_count(url) == size:
        flask(url, "db", "upgrade", code=code)  # data from an earlier run, at today's schema
        return
    name = url.rsplit("/", 1)[1]
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        psql("postgres", f"DROP DATABASE IF EXISTS {name}")
        psql("postgres", f"CREATE DATABASE {name}")
    flask(url, "db", "upgrade", code=code)
    say(f"generating {size:,} projects into {name}")
    began = time.monotonic()
    say("  " + flask(url, "bench-data", "--projects", str(size), code=code))
    say(f"  generated in {time.monotonic() - began:.0f} s")
    if not url.startswith("sqlite"):
        psql(name, "VACUUM ANALYZE")


@dataclass
class Actors:
    """Who acts in the transition benchmarks, and on which projects."""
    cycles: list[dict]  # per client: project id, version, agency and enterprise tokens
    bare: list[dict]  # per client: project row id and version, for the bare endpoint
    samples: dict  # ids, names, provinces for the page samples


def prepare(url: str, clients: int) -> Actors:
    """Tokens and projects for a run, chosen with the application's own rules."""
    os.environ["DATABASE_URL"] = url
    from sqlalchemy import select

    from app import create_app
    from app.accounts import operations as accounts
    from app.extensions import db
    from app.models import OrgKind, Project, Status, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if db.session.scalar(select(User).where(User.username == ADMIN)) is None:
            operator = accounts.create_organization(
                kind=OrgKind.OPERATOR, name="基准运营中心", jurisdiction_code="000000")
            accounts.create_user(username=ADMIN, password=PASSWORD, organization=operator,
                                 is_admin=True, display_name="基准管理员")
        declared = list(db.session.scalars(
            select(Project).where(Project.status == Status.DECLARED)
            .order_by(Project.id.desc()).limit(clients * 40)))
        random.Random(7).shuffle(declared)
        cycles = choose_cycles(declared, clients, tokens=True)
        chosen = {c["project"] for c in cycles}
        bare = [{"id": p.id, "version": p.version, "status": "declared"}
                for p in declared if str(p.public_id) not in chosen][:clients]
        rng = random.Random(11)
        top = db.session.scalar(select(Project.id).order_by(Project.id.desc()))
        picks = rng.sample(range(1, top + 1), 400)
        rows = db.session.execute(select(Project.public_id, Project.name, Project.id)
                                  .where(Project.id.in_(picks))).all()
        provinces = sorted(set(db.session.scalars(select(Project.province_code).distinct())))
        samples = {"projects": [str(r[0]) for r in rows], "names": [r[1] for r in rows],
                   "ids": [r[2] for r in rows], "provinces": provinces}
        db.session.remove()
        for engine in db.engines.values():  # none left open (a copy is made of it later)
            engine.dispose()
    if len(cycles) < clients:
        raise SystemExit(f"only {len(cycles)} declared projects with distinct enterprises")
    # the officers who decide these projects, for their queue page (a clerk's first page)
    samples["officers"] = list(dict.fromkeys(c["agency_user"] for c in cycles))[:4]
    return Actors(cycles, bare, samples)


def choose_cycles(candidates: list, clients: int, *, tokens: bool) -> list[dict]:
    """Up to `clients` of the declared projects `candidates`, of distinct enterprises, each
    with an officer who may return it and its enterprise's user (and their API tokens)."""
    from sqlalchemy import select

    from app.accounts import operations as accounts
    from app.extensions import db
    from app.models import Organization, OrgKind, User
    from app.workflow import workflows

    agencies: dict[tuple[str, str], list] = {}
    cycles, used = [], set()
    for project in candidates:
        if len(cycles) == clients:
            break
        if project.enterprise_id in used:
            continue
        places = (project.province_code, project.city_code)  # the seed areas' agencies
        if places not in agencies:
            agencies[places] = list(db.session.scalars(
                select(User).join(Organization, User.organization_id == Organization.id)
                .where(Organization.kind == OrgKind.AGENCY,
                       Organization.jurisdiction_code.in_(places))))
        officer = next((u for u in agencies[places] if any(
            a.trigger == "return" and a.ready
            for a in workflows().available_triggers(project, u))), None)
        owner = db.session.scalar(select(User).where(
            User.organization_id == project.enterprise_id))
        if officer is None or owner is None:
            continue
        used.add(project.enterprise_id)
        cycle = {"project": str(project.public_id), "version": project.version,
                 "status": "declared",
                 # for the web decisions, which sign in as people do
                 "agency_user": officer.username, "enterprise_user": owner.username}
        if tokens:
            cycle.update(agency=accounts.issue_token(officer),
                         enterprise=accounts.issue_token(owner))
        cycles.append(cycle)
    return cycles


def web_sets(url: str, clients: int, sets: int, taken: Actors) -> list[list[dict]]:
    """`sets` sets of `clients` declared projects for the web decisions, of the shortest
    audit trails (the project page shows its whole timeline, so a project stepped back and
    forth thousands of times by earlier runs would measure its trail, not the decision);
    none of the API's or the bare endpoint's in `taken`."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Project, Status

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        busy = [uuid.UUID(c["project"]) for c in taken.cycles]
        declared = list(db.session.scalars(
            select(Project).where(Project.status == Status.DECLARED,
                                  Project.public_id.not_in(busy),
                                  Project.id.not_in([row["id"] for row in taken.bare]))
            .order_by(Project.version, Project.id.desc()).limit(clients * sets * 20)))
        cycles = choose_cycles(declared, clients * sets, tokens=False)
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    if len(cycles) < clients * sets:
        raise SystemExit(f"only {len(cycles)} declared projects for the web decisions")
    return [cycles[i * clients:(i + 1) * clients] for i in range(sets)]


# ---------------------------------------------------------------- servers


@contextmanager
def server(app: str, port: int, env: dict, workers: int, threads: int, code: Path = ROOT,
           nice: int = 0):
    """A gunicorn serving `app` with the gunicorn.conf.py of the checkout at `code` (this
    repo, or an earlier commit's, to compare with), until the block ends; `nice`: at that
    lower CPU priority (a pool that yields to another, see deploy/portals.md)."""
    port_free(port)
    log = open(ROOT / "instance" / f"bench-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [*(["nice", "-n", str(nice)] if nice else []),
         str(bin_of(code) / "gunicorn"), "-c", str(code / "gunicorn.conf.py"), app],
        cwd=code, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, **env, "JIGAI_BIND": f"127.0.0.1:{port}",
             "WEB_CONCURRENCY": str(workers), "JIGAI_THREADS": str(threads),
             "JIGAI_MAX_REQUESTS": "0"})
    try:
        wait_until_up(port, process)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


def port_free(port: int) -> None:
    """Refuse a port another server holds: its answers would be measured as ours."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} is in use (another benchmark?); choose --port") \
                from None


def wait_until_up(port: int, process, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited; see instance/bench-{port}.log")
        try:
            Client("127.0.0.1", port).request("GET", "/login")
            return
        except OSError:
            time.sleep(0.2)  # polling a starting server, not synchronising a test
    raise SystemExit(f"server on {port} did not start")


def worker_peak_rss_mb(master) -> float:
    """The largest peak resident set (VmHWM) among the master's worker processes."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return max(peaks)


def log_mentions(port: int, text: str) -> int:
    return (ROOT / "instance" / f"bench-{port}.log").read_text(errors="replace").count(text)


# ---------------------------------------------------------------- measurements


def pgbench(clients: int, seconds: int) -> float:
    psql("postgres", f"DROP DATABASE IF EXISTS {PGBENCH_DB}")
    psql("postgres", f"CREATE DATABASE {PGBENCH_DB}")
    url = f"{PG_SERVER}/{PGBENCH_DB}"
    subprocess.run(["pgbench", "-i", "-q", "-s", str(clients), url], check=True,
                   capture_output=True)
    done = subprocess.run(["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds), url],
                          check=True, capture_output=True, text=True).stdout
    psql("postgres", f"DROP DATABASE IF EXISTS {PGBENCH_DB}")
    psql("postgres", "CHECKPOINT")  # write out what pgbench dirtied before the next run
    return float(re.search(r"tps = ([\d.]+) \(without initial", done).group(1))


def stored_states(url: str, key: str, values: list) -> dict:
    """Each project's (version, status) now, by `key` (id or public_id)."""
    listed = ", ".join(f"'{v}'" for v in values)
    sql = f"SELECT {key}, version, status FROM projects WHERE {key} IN ({listed})"
    if url.startswith("sqlite"):
        if key == "public_id":  # stored without dashes there
            sql = sql.replace("-", "")
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            found = conn.execute(sql).fetchall()
    else:
        found = [line.split("|") for line in psql(url.rsplit("/", 1)[1], sql).splitlines()]
    return {str(k).replace("-", ""): (int(v), st) for k, v, st in found}


def resync(url: str, clients: list[dict], key: str, field: str) -> None:
    """wrk stops with requests in flight, which the server still completes: each run starts
    from the versions stored once they stop changing, not from the last answers wrk saw."""
    keys = [c[field] for c in clients]
    states, settled = stored_states(url, key, keys), 0
    while settled < 3:  # unchanged over three looks, 0.3 s apart: nothing left in flight
        time.sleep(0.3)  # a benchmark harness waiting for a server to go quiet, not a test
        now = stored_states(url, key, keys)
        settled = settled + 1 if now == states else 0
        states = now
    for client in clients:
        client["version"], client["status"] = states[str(client[field]).replace("-", "")]


def bare_transitions(port: int, rows: list[dict], seconds: int, url: str,
                     meter: "CpuMeter | None" = None) -> Outcome:
    if wrk.available():
        resync(url, rows, "id", "id")
        clients = [{**row, "path": f"/bare/{row['id']}"} for row in rows]
        with metered(meter) as spent:
            outcome = wrk.run(port, clients, seconds, kind="bare")
        outcome.cpu = spent or None
        for row, client in zip(rows, clients, strict=True):
            row.update(version=client["version"], status=client["status"])
        return outcome

    def script_for(row):
        client = Client("127.0.0.1", port)

        def script():
            status, body = client.json("POST", f"/bare/{row['id']}", row)
            if status != 200:
                return f"{status}"
            row["version"], row["status"] = body["version"], body["status"]
            return None
        return script
    return run_clients([script_for(r) for r in rows], seconds)


def api_transitions(port: int, cycles: list[dict], seconds: int, minimal: bool,
                    url: str, meter: "CpuMeter | None" = None) -> Outcome:
    """Each client returns its project (agency) and resubmits it (enterprise), in turn;
    `minimal` asks for the new state only (Prefer: return=minimal), else the whole project
    comes back with each answer."""
    if wrk.available():
        resync(url, cycles, "public_id", "project")
        clients = [{**c, "path": f"/api/v1/projects/{c['project']}/transitions"}
                   for c in cycles]
        with metered(meter) as spent:
            outcome = wrk.run(port, clients, seconds, kind="api",
                              prefer="return=minimal" if minimal else "return=representation")
        outcome.cpu = spent or None
        for cycle, client in zip(cycles, clients, strict=True):
            cycle.update(version=client["version"], status=client["status"])
        return outcome

    def script_for(cycle):
        client = Client("127.0.0.1", port)
        if minimal:
            client.headers["Prefer"] = "return=minimal"

        def script():
            returning = cycle["status"] == "declared"
            token = cycle["agency"] if returning else cycle["enterprise"]
            body = {"trigger": "return" if returning else "submit", "version": cycle["version"]}
            if returning:
                body["comment"] = "请补充设备清单"
            client.headers["Authorization"] = f"Bearer {token}"
            status, answer = client.json("POST", f"/api/v1/projects/{cycle['project']}"
                                         "/transitions", body)
            if status != 200:
                return f"{status} {answer.get('message', '')[:60]}"
            cycle["version"], cycle["status"] = answer["version"], answer["status"]
            return None
        return script
    return run_clients([script_for(c) for c in cycles], seconds)


def signed_in(port: int, username: str = ADMIN, password: str = PASSWORD) -> Client:
    """A client signed in through the sign-in form, as a person is."""
    client = Client("127.0.0.1", port)
    _status, page = client.request("GET", "/login")
    status, _body = client.request("POST", "/login", urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": csrf_in(page)}))
    if status != 302:
        raise SystemExit(f"{username} could not sign in ({status})")
    return client


def csrf_in(page: bytes) -> str:
    return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


def page_latencies(port: int, samples: dict, requests: int) -> dict[str, tuple[float, float]]:
    """p50/p95 of each page kind, one request after another, in steady state: after one
    unmeasured pass over the same requests, so that every worker has compiled its templates
    and SQL and the rows read are in memory, as in a system that has been running. (On this
    machine's disk a cold first pass is several times slower at the tail; see the notes.)"""
    rng = random.Random(5)
    client = signed_in(port)
    provinces = samples["provinces"]
    lists = [f"/projects?status={rng.choice(LIBRARY)}&jurisdiction={rng.choice(provinces)}"
             for _ in range(requests)]
    pages = [f"/projects/{rng.choice(samples['projects'])}" for _ in range(requests)]
    terms = [rng.choice([name[-6:], name[2:7], str(pid)[-4:], name[:4]])
             for name, pid in zip(samples["names"], samples["ids"], strict=True)]
    searches = [f"/projects?q={urllib.parse.quote(rng.choice(terms))}" for _ in range(requests)]
    dashboards = ["/dashboard" if i % 3 == 0 else f"/dashboard?jurisdiction={rng.choice(provinces)}"
                  for i in range(requests)]
    found = {}
    for name, paths in (("list", lists), ("project", pages), ("search", searches),
                        ("dashboard", dashboards)):
        sample_latencies(client, paths)
        found[name] = sample_latencies(client, paths)
    # the queue, as the officers deciding the benchmark's projects see it (their own owed
    # steps: each officer's page differs), all of it or what is overdue
    officers = [signed_in(port, name, BENCH_PASSWORD) for name in samples["officers"]]
    queues = [(officers[i % len(officers)], "/queue" if i % 2 else "/queue?overdue=1")
              for i in range(requests)]
    sample_latencies(None, queues)
    found["queue"] = sample_latencies(None, queues)
    return found


def transitions_on(url: str, actors: Actors, args, port: int, workers: int, threads: int,
                   bare: bool) -> tuple[Outcome, Outcome, Outcome | None]:
    """(API with minimal answers, API with full answers, bare endpoint if asked)."""
    env = {"DATABASE_URL": url}
    bare_outcome = None
    if bare:
        bare_outcome = bare_endpoint(url, actors, args, port, workers, threads)
    with server("wsgi:app", port, env, workers, threads):
        api_transitions(port, actors.cycles, args.warm_up, True, url)  # imports, pools, caches
        minimal = api_transitions(port, actors.cycles, args.seconds, True, url)
        full = api_transitions(port, actors.cycles, args.seconds, False, url)
    return minimal, full, bare_outcome


def bare_endpoint(url: str, actors: Actors, args, port: int, workers: int,
                  threads: int, *, meter: bool = False) -> Outcome:
    with server("bench.bare:app", port + 1, {"BARE_DATABASE_URL": normalise(url)},
                workers, threads) as master:
        bare_transitions(port + 1, actors.bare, args.warm_up, url)
        return bare_transitions(port + 1, actors.bare, args.seconds, url,
                                CpuMeter(master, url) if meter else None)


# ---------------------------------------------------------------- CPU per step, from /proc


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str) -> float:
    """user + system CPU time of a process (all its threads) so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


@dataclass
class CpuMeter:
    """Where the CPU of a run goes: the app server's workers (children of the gunicorn
    master) and PostgreSQL — the backends serving the benchmark's database and the server's
    own background processes (WAL writer, checkpointer …), not other databases' backends."""
    master: object
    url: str

    def postgres_pids(self) -> list[str]:
        if self.url.startswith("sqlite"):
            return []
        database = self.url.rsplit("/", 1)[1]
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace")
            except (FileNotFoundError, ProcessLookupError):
                continue
            client = "127.0.0.1(" in title or "[local]" in title
            if f" {database} " in f"{title} " or not client:
                found.append(entry.name)
        return found

    def now(self) -> dict[str, float]:
        workers = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children")
        return {"workers": sum(cpu_seconds(pid) for pid in workers.read_text().split()),
                "postgres": sum(cpu_seconds(pid) for pid in self.postgres_pids())}


@contextmanager
def metered(meter: CpuMeter | None):
    """The CPU seconds spent while the block runs, by group, filled in when it ends."""
    spent: dict[str, float] = {}
    if meter is None:
        yield spent
        return
    before = meter.now()
    yield spent
    after = meter.now()
    spent.update({group: after[group] - before[group] for group in after})


# ---------------------------------------------------------------- the people's path


BENCH_PASSWORD = "jigai-bench"  # every generated user's (bench/datagen.py)
RETURN_COMMENT = "请补充设备清单"


def web_sessions(port: int, cycles: list[dict]) -> None:
    """Each cycle's officer and enterprise signed in through the sign-in form, once per
    person: their session cookies and CSRF tokens, as the project page gives them."""
    sessions: dict[str, tuple[str, str]] = {}
    for cycle in cycles:
        for side in ("agency", "enterprise"):
            name = cycle[f"{side}_user"]
            if name not in sessions:
                client = signed_in(port, name, BENCH_PASSWORD)
                status, page = client.request("GET", f"/projects/{cycle['project']}")
                if status != 200:
                    raise SystemExit(f"{name} cannot open project {cycle['project']} ({status})")
                cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                sessions[name] = (cookie, csrf_in(page))
            cycle[f"{side}_cookie"], cycle[f"{side}_csrf"] = sessions[name]


def web_decisions(port: int, cycles: list[dict], seconds: float, url: str,
                  meter: CpuMeter | None = None) -> Outcome:
    """Decisions through the project page's forms (bench/web.lua): the officer returns the
    project, the enterprise resubmits it, each a form POST, the step, the redirect and the
    project page rendered."""
    resync(url, cycles, "public_id", "project")
    if "agency_cookie" not in cycles[0]:
        web_sessions(port, cycles)
    with metered(meter) as spent:
        outcome = wrk.run_web(port, cycles, seconds, RETURN_COMMENT)
    outcome.cpu = spent or None
    return outcome


@dataclass
class Round:
    bare: Outcome
    minimal: Outcome
    full: Outcome
    web: Outcome | None


def peoples_rounds(url: str, actors: Actors, args, workers: int, threads: int) -> list[Round]:
    """Alternating rounds on PostgreSQL, so that a drift of the machine during the run cannot
    favour one side: the bare endpoint, then one server of the app measuring the API's
    minimal step, its full answer and the web decision in turn — each with the CPU its
    workers and PostgreSQL spent, read from /proc."""
    rounds = []
    fresh = web_sets(url, args.clients, args.rounds, actors) if wrk.available() else []
    for number in range(1, args.rounds + 1):
        say(f"round {number} of {args.rounds}: bare endpoint, API minimal, API full answer, "
            "web decisions")
        bare = bare_endpoint(url, actors, args, args.port, workers, threads, meter=True)
        with server("wsgi:app", args.port, {"DATABASE_URL": url}, workers, threads) as master:
            meter = CpuMeter(master, url)
            api_transitions(args.port, actors.cycles, args.warm_up, True, url)
            minimal = api_transitions(args.port, actors.cycles, args.seconds, True, url, meter)
            full = api_transitions(args.port, actors.cycles, args.seconds, False, url, meter)
            web = None
            if wrk.available():  # the web script needs wrk; the Python client would measure itself
                cycles = fresh[number - 1]  # projects of short trails, one set a round
                web_decisions(args.port, cycles, args.warm_up, url)  # templates compiled
                web = web_decisions(args.port, cycles, args.seconds, url, meter)
        rounds.append(Round(bare, minimal, full, web))
    return rounds


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def median_round(rounds: list[Round], key) -> Round:
    """The round whose `key` is the median of the rounds'."""
    return sorted(rounds, key=key)[len(rounds) // 2]


def minimal_steps(url: str, actors: Actors, args, port: int, workers: int, threads: int,
                  code: Path = ROOT) -> Outcome:
    """The API's minimal step served by the checkout at `code`."""
    with server("wsgi:app", port, {"DATABASE_URL": url}, workers, threads, code):
        api_transitions(port, actors.cycles, args.warm_up, True, url)
        return api_transitions(port, actors.cycles, args.seconds, True, url)


@contextmanager
def checkout_of(ref: str):
    """The code of commit `ref`, unpacked beside this repo's (it runs on this repo's
    environment, on a database of its own: see `compared`), its catalogue compiled."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    where = ROOT / "instance" / f"compare-{sha}"
    if not (where / "wsgi.py").exists():
        where.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    if (where / "pyproject.toml").read_bytes() != (ROOT / "pyproject.toml").read_bytes() \
            and not (where / ".venv" / "bin" / "gunicorn").exists():
        # Its own dependencies (a library since removed or changed), in an environment of its own.
        say(f"installing the dependencies of {sha}")
        subprocess.run([sys.executable, "-m", "venv", str(where / ".venv")], check=True)
        subprocess.run([str(where / ".venv" / "bin" / "pip"), "install", "--quiet", "-e", "."],
                       cwd=where, check=True, capture_output=True)
    if not (where / "translations" / "zh" / "LC_MESSAGES" / "messages.mo").exists():
        subprocess.run([str(bin_of(where) / "pybabel"), "compile", "-d", "translations"],
                       cwd=where, check=True, capture_output=True)
    yield sha, where


def prepared_by(code: Path, url: str, clients: int) -> Actors:
    """Tokens and projects chosen by the checkout at `code` with its own rules and models."""
    script = ("import json, sys; from bench.run import prepare; a = prepare(sys.argv[1], "
              "int(sys.argv[2])); print(json.dumps([a.cycles, a.bare, a.samples]))")
    done = subprocess.run([str(bin_of(code) / "python"), "-c", script, url, str(clients)], cwd=code,
                          check=True, capture_output=True, text=True)
    return Actors(*json.loads(done.stdout.strip().splitlines()[-1]))


def compared(url: str, size: int, actors: Actors, args, workers: int, threads: int) -> dict:
    """This code's and an earlier commit's minimal step against the bare endpoint, in
    alternating rounds (bare, earlier, this) so that a drift of the machine during the run
    cannot favour one; the median round of each. The earlier code runs on a database of its
    own, generated by it at its own schema: its definitions and tables are not today's."""
    rounds: dict[str, list[Outcome]] = {"bare": [], "previous": [], "current": []}
    with checkout_of(args.compare_with) as (sha, code):
        earlier_url = f"{postgres_url(size)}_{sha}"
        ensure_data(earlier_url, size, args.fresh, code)
        earlier = prepared_by(code, earlier_url, args.clients)
        for number in range(1, args.rounds + 1):
            say(f"comparison round {number} of {args.rounds}: bare, {sha}, this checkout")
            rounds["bare"].append(bare_endpoint(url, actors, args, args.port, workers, threads))
            rounds["previous"].append(minimal_steps(earlier_url, earlier, args, args.port,
                                                    workers, threads, code))
            rounds["current"].append(minimal_steps(url, actors, args, args.port, workers,
                                                   threads))
    median = {name: sorted(outcomes, key=lambda o: o.rate)[len(outcomes) // 2]
              for name, outcomes in rounds.items()}
    return {"sha": sha, **median,
            "shares": {name: [o.rate / b.rate for o, b in zip(rounds[name], rounds["bare"],
                                                              strict=True)]
                       for name in ("previous", "current")}}


def normalise(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


# ---------------------------------------------------------------- the run


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (f"{os.cpu_count()} × {cpu}, {memory / 1024 / 1024:.1f} GiB RAM; "
            f"PostgreSQL {psql('postgres', 'SHOW server_version')} (shared_buffers "
            f"{psql('postgres', 'SHOW shared_buffers')}, synchronous_commit "
            f"{psql('postgres', 'SHOW synchronous_commit')}); SQLite {sqlite3.sqlite_version}; "
            f"Python {platform.python_version()}; {platform.platform()}")


QUICK = {"sizes": "10000", "sqlite_size": 10_000, "seconds": 4, "requests": 40, "port": 8640,
         "warm_up": 2, "import_rows": 1_000, "deadline_enterprises": 64,
         "out": str(ROOT / "instance" / "bench-quick.md")}


def arguments(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="the whole set in a few minutes for developers: 10,000 projects, "
                             "short runs, few requests, a small deadline day, no cold pages; "
                             "written to instance/bench-quick.md, not bench/RESULTS.md")
    parser.add_argument("--sizes", default="100000,1000000",
                        help="PostgreSQL project counts, smallest first")
    parser.add_argument("--sqlite-size", type=int, default=100000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10,
                        help="of each throughput run (each is run in --rounds alternating "
                             "rounds on PostgreSQL)")
    parser.add_argument("--warm-up", type=int, default=3,
                        help="seconds of load before each throughput figure, not counted")
    parser.add_argument("--requests", type=int, default=200, help="per page kind and size")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn workers (default as gunicorn.conf.py: one per core)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--port", type=int, default=8610)
    parser.add_argument("--fresh", action="store_true", help="regenerate all data")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--compare-with", metavar="REF",
                        help="also measure the API step of this earlier commit, alternating "
                             "with this checkout's against the bare endpoint")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of the transition runs (median reported)")
    parser.add_argument("--import-rows", type=int, default=10_000,
                        help="rows of the workbook imported while clients create projects "
                             "on SQLite (0: leave this part out)")
    parser.add_argument("--deadline-enterprises", type=int, default=10_000,
                        help="enterprises declaring on the deadline day (0: leave it out)")
    parser.add_argument("--no-cold", action="store_true",
                        help="leave out the cold pages (they restart PostgreSQL)")
    args = parser.parse_args(argv)
    if args.quick:
        given = {a.split("=", 1)[0].removeprefix("--").replace("-", "_")
                 for a in argv if a.startswith("--")}
        for key, value in QUICK.items():
            if key not in given:  # what is said on the command line still holds
                setattr(args, key, value)
        args.no_cold = True
    return args


def main(argv=None) -> None:
    argv = list(argv or [])
    args = arguments(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    command = "make bench" + (f" BENCH_ARGS={shlex.quote(' '.join(argv))}" if argv else "")
    (ROOT / "instance").mkdir(exist_ok=True)
    started = time.monotonic()
    rows: list[tuple[str, str, str, bool | None]] = []
    results: dict = {}

    # Pages first, on a quiet machine: the throughput runs leave PostgreSQL writing out
    # what they dirtied for a while after, which would show in read latencies.
    for size in sizes:
        ensure_data(postgres_url(size), size, args.fresh)
    lite_url = sqlite_url(args.sqlite_size)
    ensure_data(lite_url, args.sqlite_size, args.fresh)
    pages = {}
    for size in sizes:
        pg_url = postgres_url(size)
        actors = prepare(pg_url, args.clients)
        psql(pg_url.rsplit("/", 1)[1], "CHECKPOINT")
        say(f"pages on PostgreSQL at {size:,} projects")
        with server("wsgi:app", args.port, {"DATABASE_URL": pg_url}, args.workers,
                    args.threads) as master:
            pages[("PostgreSQL", size)] = page_latencies(args.port, actors.samples, args.requests)
            results["rss"] = worker_peak_rss_mb(master)
    sqlite_actors = prepare(lite_url, args.clients)
    say(f"pages on SQLite at {args.sqlite_size:,} projects")
    with server("wsgi:app", args.port, {"DATABASE_URL": lite_url}, args.workers, args.threads):
        pages[("SQLite", args.sqlite_size)] = page_latencies(args.port, sqlite_actors.samples,
                                                             args.requests)

    say(f"pgbench TPC-B, {args.clients} clients, {args.seconds} s")
    results["pgbench"] = pgbench(args.clients, args.seconds)
    pg_url = postgres_url(sizes[0])
    actors = prepare(pg_url, args.clients)
    say(f"transitions on PostgreSQL at {sizes[0]:,} projects, {args.rounds} alternating rounds")
    rounds = peoples_rounds(pg_url, actors, args, args.workers, args.threads)
    if args.compare_with:
        results["compared"] = compared(pg_url, sizes[0], actors, args, args.workers,
                                       args.threads)
    say(f"transitions on SQLite, {args.clients} writers")
    sqlite_api, sqlite_full, _ = transitions_on(lite_url, sqlite_actors, args, args.port,
                                                args.workers, args.threads, False)
    locked = log_mentions(args.port, "database is locked") + sum(
        n for outcome in (sqlite_api, sqlite_full) for e, n in outcome.errors.items()
        if "locked" in e)
    if args.import_rows:
        say(f"SQLite writers during a {args.import_rows:,}-row import")
        results["imports"] = bench_imports.measure(args.import_rows, 4, args.port + 1,
                                                   args.workers, args.threads)
    if bench_bulk is not None:  # target 2, bench/bulk.py: its own rows for the table
        say("bulk decisions")
        results["bulk"] = bench_bulk.measure(pg_url=pg_url, sqlite_url=lite_url, args=args)
    if args.deadline_enterprises:
        say(f"deadline day: {args.deadline_enterprises:,} enterprises declare")
        results["deadline"] = bench_deadline.measure(sizes[0], args.deadline_enterprises,
                                                     args.port + 2, args.workers, args.threads)
    # Last: it restarts PostgreSQL and leaves its caches cold.
    cold_refusal = "left out (--quick or --no-cold)" if args.no_cold else bench_cold.refusal()
    if cold_refusal is None:
        say(f"cold project pages at {sizes[-1]:,} projects")
        results["cold"] = bench_cold.measure(postgres_url(sizes[-1]), args.port, args.workers,
                                             args.threads)
    else:
        results["cold"] = cold_refusal

    # ------------------------------------------------------------ the table
    pgb = results["pgbench"]

    def row(figure, value, target, met):
        rows.append((figure, value, target, met))

    def shares(of, to) -> str:
        return ", ".join(f"{share:.0%}" for share in (of(r).rate / to(r).rate for r in rounds))

    def share(of, to) -> float:
        return median([of(r).rate / to(r).rate for r in rounds])

    bare = median_round(rounds, lambda r: r.bare.rate).bare
    api = median_round(rounds, lambda r: r.minimal.rate / r.bare.rate).minimal
    full = median_round(rounds, lambda r: r.full.rate / r.minimal.rate).full
    n = f"median of {len(rounds)} alternating {args.seconds}-s rounds"
    row("pgbench TPC-B (PostgreSQL's own limit)", f"{pgb:,.0f} tx/s", "reference", None)
    row("bare endpoint: conditional UPDATE + audit INSERT", f"{bare.rate:,.0f} tx/s "
        f"(p95 {bare.percentile(95):.1f} ms; {n})", "reference", None)
    row("API minimal step, PostgreSQL (answer: new state)", f"{api.rate:,.0f} tx/s "
        f"(p95 {api.percentile(95):.1f} ms){errors_note(api)}", "", None)
    row("… as a share of pgbench", f"{api.rate / pgb:.0%}", "reference", None)
    minimal_share = share(lambda r: r.minimal, lambda r: r.bare)
    row("… as a share of the bare endpoint", f"{minimal_share:.0%} ({n}: "
        f"{shares(lambda r: r.minimal, lambda r: r.bare)})", "≥ 75%", minimal_share >= 0.75)
    row("… CPU per step, app workers / PostgreSQL (from /proc)",
        f"API {api.cpu_ms('workers'):.2f} / {api.cpu_ms('postgres'):.2f} ms; bare "
        f"{bare.cpu_ms('workers'):.2f} / {bare.cpu_ms('postgres'):.2f} ms", "reference", None)
    full_share = share(lambda r: r.full, lambda r: r.minimal)
    row("API step answering with the whole project (Prefer: return=representation)",
        f"{full.rate:,.0f} tx/s, p95 {full.percentile(95):.1f} ms{errors_note(full)}; CPU "
        f"{full.cpu_ms('workers'):.2f} / {full.cpu_ms('postgres'):.2f} ms",
        "p95 ≤ 100 ms", full.percentile(95) <= 100)
    row("… as a share of the API minimal step", f"{full_share:.0%} ({n}: "
        f"{shares(lambda r: r.full, lambda r: r.minimal)})", "≥ 60%", full_share >= 0.60)
    if all(r.web for r in rounds):
        web = median_round(rounds, lambda r: r.web.rate / r.minimal.rate).web
        web_share = share(lambda r: r.web, lambda r: r.minimal)
        row(f"web decision (form POST with CSRF, step, redirect, project page), "
            f"{args.clients} clients", f"{web.rate:,.0f} decisions/s, p95 "
            f"{web.percentile(95):.1f} ms{errors_note(web)}; CPU {web.cpu_ms('workers'):.2f} / "
            f"{web.cpu_ms('postgres'):.2f} ms", "p95 ≤ 100 ms", web.percentile(95) <= 100)
        row("… as a share of the API minimal step", f"{web_share:.0%} ({n}: "
            f"{shares(lambda r: r.web, lambda r: r.minimal)})", "≥ 60%", web_share >= 0.60)
    else:
        row("web decision", "not measured: needs wrk (make loadgen)", "≥ 60%, p95 ≤ 100 ms",
            None)
    if "compared" in results:
        c = results["compared"]
        for name, label in (("previous", f"commit {c['sha']}"), ("current", "this checkout")):
            rounds_text = ", ".join(f"{s:.0%}" for s in c["shares"][name])
            row(f"minimal step, {label}, as a share of the bare endpoint (median of "
                f"{args.rounds} alternating rounds)", f"{c[name].rate / c['bare'].rate:.0%} "
                f"({c[name].rate:,.0f} of {c['bare'].rate:,.0f} tx/s; rounds: {rounds_text})",
                "this checkout ≥ that commit" if name == "current" else "reference",
                None if name == "previous" else c[name].rate / c["bare"].rate
                >= c["previous"].rate / c["bare"].rate)
    if "bulk" in results:
        for figure, value, target, met in results["bulk"]:
            row(figure, value, target, met)
    row(f"API transitions, SQLite, {args.clients} writers (answer: new state)",
        f"{sqlite_api.rate:,.0f} tx/s (p95 {sqlite_api.percentile(95):.1f} ms)"
        f"{errors_note(sqlite_api)}", "≥ 150 tx/s", sqlite_api.rate >= 150)
    row("… answering with the whole project", f"{sqlite_full.rate:,.0f} tx/s "
        f"(p95 {sqlite_full.percentile(95):.1f} ms){errors_note(sqlite_full)}",
        "for comparison", None)
    row("… “database is locked” errors", str(locked), "0", locked == 0)
    if "imports" in results:
        figure, value, met = bench_imports.summary(results["imports"])
        row(figure, value, f"p95 ≤ {bench_imports.TARGET_P95_MS} ms", met)
    if "deadline" in results:
        for figure, value, target, met in bench_deadline.rows(results["deadline"]):
            row(figure, value, target, met)
    targets = {"list": 30, "project": 30, "search": 100, "dashboard": 200, "queue": 100}
    largest = ("PostgreSQL", sizes[-1])
    for (backend, size), figures in pages.items():
        for name, (p50, p95) in figures.items():
            limit = targets[name] if (backend, size) == largest else None
            row(f"{name} page, {backend}, {size:,} projects", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                f"p95 ≤ {limit} ms" if limit else "", None if limit is None else p95 <= limit)
    if len(sizes) > 1:
        small, large = pages[("PostgreSQL", sizes[0])]["list"][1], pages[largest]["list"][1]
        row(f"list p95 at {sizes[-1]:,} ÷ at {sizes[0]:,}", f"{large / small:.2f}×", "≤ 1.5×",
            large / small <= 1.5)
    row(*bench_cold.row(results["cold"], sizes[-1]))
    row(f"app worker peak RSS at {sizes[-1]:,} projects", f"{results['rss']:.0f} MB",
        "≤ 200 MB", results["rss"] <= 200)

    table = ["| Figure | Measured | Target | |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {verdict(d)} |" for a, b, c, d in rows]
    minutes = (time.monotonic() - started) / 60
    body = "\n".join(table)
    print("\n" + body + "\n")
    say(f"done in {minutes:.1f} minutes; written to {args.out}")
    write_results(Path(args.out), body, command, args, minutes)


def verdict(met: bool | None) -> str:
    """✅ met, ❌ missed, or nothing for a reference figure (no target)."""
    return "" if met is None else "✅" if met else "❌ missed"


def errors_note(outcome: Outcome) -> str:
    if not outcome.errors:
        return ""
    return "; errors: " + ", ".join(f"{k} ×{n}" for k, n in sorted(outcome.errors.items()))


def write_results(path: Path, table: str, command: str, args, minutes: float) -> None:
    """Replace the generated part of RESULTS.md, keeping the notes written below it."""
    marker = "<!-- notes -->"
    notes = ""
    if path.exists() and marker in path.read_text():
        notes = path.read_text().split(marker, 1)[1]
    head = (f"# Benchmark results\n\nProduced by `{command}` on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {minutes:.0f} minutes.\n\n"
            f"**Machine:** {machine()}\n\n"
            f"**Settings:** {args.clients} concurrent clients for {args.seconds} s per throughput "
            f"figure (after {args.warm_up} s unmeasured), on PostgreSQL in {args.rounds} "
            f"alternating rounds, the median reported; gunicorn with {args.workers} workers × "
            f"{args.threads} thread(s) "
            f"(gunicorn.conf.py); {args.requests} requests per page kind, one client, measured "
            "after one unmeasured pass over the same requests (steady state).\n\n")
    path.write_text(head + table + "\n\n" + marker + (notes or "\n"))


if __name__ == "__main__":
    main(sys.argv[1:])
