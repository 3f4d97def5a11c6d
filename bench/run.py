"""The whole benchmark in one command (`make bench`): every figure side by side in one run.

1. Pages a user waits for — filtered project list, project page, name search, dashboard —
   p50/p95 at each PostgreSQL size and on SQLite, and the app workers' peak memory; measured
   first, before the write-heavy runs below.
2. PostgreSQL's own limit: pgbench TPC-B on the same server.
3. Transitions under concurrent clients, served by gunicorn with the repo's settings:
   a bare Flask endpoint doing the SQL of a transition (the floor), then the application's
   API (tokens, role and jurisdiction checks, guards, audit hash chain, deadlines, rollup).
4. SQLite with concurrent writers: transitions per second and "database is locked" errors.
5. SQLite writers during a batch import: API creates' p95 while the job worker imports a
   10,000-row workbook (bench/imports.py; `--import-rows 0` leaves it out).

The table is printed and written to bench/RESULTS.md with the machine and the command.
Generated data is kept between runs (one database per size, `jigai_bench_<size>`, and
instance/bench-<size>.sqlite3), so a run reuses what earlier runs made; `--fresh` starts over.
"""

import argparse
import os
import platform
import random
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import imports as bench_imports
from bench import wrk
from bench.load import Client, Outcome, run_clients, sample_latencies

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PGBENCH_DB = "jigai_pgbench"
ADMIN, PASSWORD = "bench-admin", "jigai-bench-admin"
WARM_UP = 3  # seconds of load before each throughput figure, not counted
LIBRARY = ("declared", "commitment_filing", "financing_matchmaking", "lead_bank_designated",
           "completed")


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------- databases and data


def psql(database: str, sql: str) -> str:
    return subprocess.run(["psql", f"{PG_SERVER}/{database}", "-Atqc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def flask(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
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


def ensure_data(url: str, size: int, fresh: bool) -> None:
    """Make the database at `url` hold exactly `size` generated projects."""
    if not fresh and project_count(url) == size:
        flask(url, "db", "upgrade")  # data from an earlier run, brought to today's schema
        return
    name = url.rsplit("/", 1)[1]
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        psql("postgres", f"DROP DATABASE IF EXISTS {name}")
        psql("postgres", f"CREATE DATABASE {name}")
    flask(url, "db", "upgrade")
    say(f"generating {size:,} projects into {name}")
    began = time.monotonic()
    say("  " + flask(url, "bench-data", "--projects", str(size)))
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
    from app.models import Organization, OrgKind, Project, Status, User
    from app.workflow import workflows

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
        agencies: dict[str, list] = {}
        cycles, used = [], set()
        for project in declared:
            if len(cycles) == clients:
                break
            if project.enterprise_id in used:
                continue
            province = project.province_code
            if province not in agencies:
                agencies[province] = list(db.session.scalars(
                    select(User).join(Organization, User.organization_id == Organization.id)
                    .where(Organization.kind == OrgKind.AGENCY,
                           Organization.jurisdiction_code == province)))
            officer = next((u for u in agencies[province] if any(
                a.trigger == "return" and a.ready
                for a in workflows().available_triggers(project, u))), None)
            owner = db.session.scalar(select(User).where(
                User.organization_id == project.enterprise_id))
            if officer is None or owner is None:
                continue
            used.add(project.enterprise_id)
            cycles.append({"project": str(project.public_id), "version": project.version,
                           "status": "declared", "agency": accounts.issue_token(officer),
                           "enterprise": accounts.issue_token(owner)})
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
    if len(cycles) < clients:
        raise SystemExit(f"only {len(cycles)} declared projects with distinct enterprises")
    return Actors(cycles, bare, samples)


# ---------------------------------------------------------------- servers


@contextmanager
def server(app: str, port: int, env: dict, workers: int, threads: int, code: Path = ROOT):
    """A gunicorn serving `app` with the gunicorn.conf.py of the checkout at `code` (this
    repo, or an earlier commit's, to compare with), until the block ends."""
    log = open(ROOT / "instance" / f"bench-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(code / "gunicorn.conf.py"), app],
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


def bare_transitions(port: int, rows: list[dict], seconds: int, url: str) -> Outcome:
    if wrk.available():
        resync(url, rows, "id", "id")
        clients = [{**row, "path": f"/bare/{row['id']}"} for row in rows]
        outcome = wrk.run(port, clients, seconds, kind="bare")
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
                    url: str) -> Outcome:
    """Each client returns its project (agency) and resubmits it (enterprise), in turn;
    `minimal` asks for the new state only (Prefer: return=minimal), else the whole project
    comes back with each answer."""
    if wrk.available():
        resync(url, cycles, "public_id", "project")
        clients = [{**c, "path": f"/api/v1/projects/{c['project']}/transitions"}
                   for c in cycles]
        outcome = wrk.run(port, clients, seconds, kind="api",
                          prefer="return=minimal" if minimal else "return=representation")
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


def signed_in(port: int) -> Client:
    client = Client("127.0.0.1", port)
    _status, page = client.request("GET", "/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    status, _body = client.request("POST", "/login", urllib.parse.urlencode(
        {"username": ADMIN, "password": PASSWORD, "csrf_token": token}))
    if status != 302:
        raise SystemExit(f"bench admin could not sign in ({status})")
    return client


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
    return found


def transitions_on(url: str, actors: Actors, args, port: int, workers: int, threads: int,
                   bare: bool) -> tuple[Outcome, Outcome, Outcome | None]:
    """(API with minimal answers, API with full answers, bare endpoint if asked)."""
    env = {"DATABASE_URL": url}
    bare_outcome = None
    if bare:
        bare_outcome = bare_endpoint(url, actors, args, port, workers, threads)
    with server("wsgi:app", port, env, workers, threads):
        api_transitions(port, actors.cycles, WARM_UP, True, url)  # imports, pools, caches
        minimal = api_transitions(port, actors.cycles, args.seconds, True, url)
        full = api_transitions(port, actors.cycles, args.seconds, False, url)
    return minimal, full, bare_outcome


def bare_endpoint(url: str, actors: Actors, args, port: int, workers: int,
                  threads: int) -> Outcome:
    with server("bench.bare:app", port + 1, {"BARE_DATABASE_URL": normalise(url)},
                workers, threads):
        bare_transitions(port + 1, actors.bare, WARM_UP, url)
        return bare_transitions(port + 1, actors.bare, args.seconds, url)


def minimal_steps(url: str, actors: Actors, args, port: int, workers: int, threads: int,
                  code: Path = ROOT) -> Outcome:
    """The API's minimal step served by the checkout at `code`."""
    with server("wsgi:app", port, {"DATABASE_URL": url}, workers, threads, code):
        api_transitions(port, actors.cycles, WARM_UP, True, url)
        return api_transitions(port, actors.cycles, args.seconds, True, url)


@contextmanager
def checkout_of(ref: str):
    """The code of commit `ref`, unpacked beside this repo's (it runs on this repo's
    environment and database, already at the newer schema), its catalogue compiled."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    where = ROOT / "instance" / f"compare-{sha}"
    if not (where / "wsgi.py").exists():
        where.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    if not (where / "translations" / "zh" / "LC_MESSAGES" / "messages.mo").exists():
        subprocess.run([str(BIN / "pybabel"), "compile", "-d", "translations"], cwd=where,
                       check=True, capture_output=True)
    yield sha, where


def compared(url: str, actors: Actors, args, workers: int, threads: int) -> dict:
    """This code's and an earlier commit's minimal step against the bare endpoint, in
    alternating rounds (bare, earlier, this) so that a drift of the machine during the run
    cannot favour one; the median round of each."""
    rounds: dict[str, list[Outcome]] = {"bare": [], "previous": [], "current": []}
    with checkout_of(args.compare_with) as (sha, code):
        for number in range(1, args.rounds + 1):
            say(f"comparison round {number} of {args.rounds}: bare, {sha}, this checkout")
            rounds["bare"].append(bare_endpoint(url, actors, args, args.port, workers, threads))
            rounds["previous"].append(minimal_steps(url, actors, args, args.port, workers,
                                                    threads, code))
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="PostgreSQL project counts, smallest first")
    parser.add_argument("--sqlite-size", type=int, default=100000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
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
                        help="alternating rounds of the comparison (median reported)")
    parser.add_argument("--import-rows", type=int, default=10_000,
                        help="rows of the workbook imported while clients create projects "
                             "on SQLite (0: leave this part out)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    command = "make bench" + (f" BENCH_ARGS={shlex.quote(' '.join(argv))}" if argv else "")
    (ROOT / "instance").mkdir(exist_ok=True)
    started = time.monotonic()
    rows: list[tuple[str, str, str, str]] = []
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
    say("transitions on PostgreSQL: bare endpoint, then the API")
    api, api_full, bare = transitions_on(pg_url, actors, args, args.port, args.workers,
                                         args.threads, True)
    results.update(api=api, api_full=api_full, bare=bare)
    if args.compare_with:
        results["compared"] = compared(pg_url, actors, args, args.workers, args.threads)
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

    # ------------------------------------------------------------ the table
    pgb, api, bare = results["pgbench"], results["api"], results["bare"]

    def row(figure, value, target, met):
        rows.append((figure, value, target, "✅" if met else "❌ missed"))

    row("pgbench TPC-B (PostgreSQL's own limit)", f"{pgb:,.0f} tx/s", "reference", True)
    row("bare endpoint: conditional UPDATE + audit INSERT", f"{bare.rate:,.0f} tx/s "
        f"(p95 {bare.percentile(95):.1f} ms)", "reference", True)
    row("API transitions, PostgreSQL (answer: new state)", f"{api.rate:,.0f} tx/s "
        f"(p95 {api.percentile(95):.1f} ms){errors_note(api)}", "", True)
    full = results["api_full"]
    row("… answering with the whole project", f"{full.rate:,.0f} tx/s "
        f"(p95 {full.percentile(95):.1f} ms){errors_note(full)}", "for comparison", True)
    row("… as a share of pgbench", f"{api.rate / pgb:.0%}", "≥ 25%", api.rate / pgb >= 0.25)
    row("… as a share of the bare endpoint", f"{api.rate / bare.rate:.0%}", "≥ 70%",
        api.rate / bare.rate >= 0.70)
    if "compared" in results:
        c = results["compared"]
        for name, label in (("previous", f"commit {c['sha']}"), ("current", "this checkout")):
            shares = ", ".join(f"{share:.0%}" for share in c["shares"][name])
            row(f"minimal step, {label}, as a share of the bare endpoint (median of "
                f"{args.rounds} alternating rounds)", f"{c[name].rate / c['bare'].rate:.0%} "
                f"({c[name].rate:,.0f} of {c['bare'].rate:,.0f} tx/s; rounds: {shares})",
                "this checkout ≥ that commit" if name == "current" else "reference",
                name == "previous" or c[name].rate / c["bare"].rate
                >= c["previous"].rate / c["bare"].rate)
    row(f"API transitions, SQLite, {args.clients} writers (answer: new state)",
        f"{sqlite_api.rate:,.0f} tx/s (p95 {sqlite_api.percentile(95):.1f} ms)"
        f"{errors_note(sqlite_api)}", "≥ 150 tx/s", sqlite_api.rate >= 150)
    row("… answering with the whole project", f"{sqlite_full.rate:,.0f} tx/s "
        f"(p95 {sqlite_full.percentile(95):.1f} ms){errors_note(sqlite_full)}",
        "for comparison", True)
    row("… “database is locked” errors", str(locked), "0", locked == 0)
    if "imports" in results:
        figure, value, met = bench_imports.summary(results["imports"])
        row(figure, value, f"p95 ≤ {bench_imports.TARGET_P95_MS} ms", met)
    targets = {"list": 30, "project": 30, "search": 100, "dashboard": 200}
    largest = ("PostgreSQL", sizes[-1])
    for (backend, size), figures in pages.items():
        for name, (p50, p95) in figures.items():
            limit = targets[name] if (backend, size) == largest else None
            row(f"{name} page, {backend}, {size:,} projects", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                f"p95 ≤ {limit} ms" if limit else "", limit is None or p95 <= limit)
    if len(sizes) > 1:
        small, large = pages[("PostgreSQL", sizes[0])]["list"][1], pages[largest]["list"][1]
        row(f"list p95 at {sizes[-1]:,} ÷ at {sizes[0]:,}", f"{large / small:.2f}×", "≤ 1.5×",
            large / small <= 1.5)
    row(f"app worker peak RSS at {sizes[-1]:,} projects", f"{results['rss']:.0f} MB",
        "≤ 200 MB", results["rss"] <= 200)

    table = ["| Figure | Measured | Target | |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    minutes = (time.monotonic() - started) / 60
    body = "\n".join(table)
    print("\n" + body + "\n")
    write_results(Path(args.out), body, command, args, minutes)


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
            f"figure; gunicorn with {args.workers} workers × {args.threads} thread(s) "
            f"(gunicorn.conf.py); {args.requests} requests per page kind, one client, measured "
            "after one unmeasured pass over the same requests (steady state).\n\n")
    path.write_text(head + table + "\n\n" + marker + (notes or "\n"))


if __name__ == "__main__":
    main(sys.argv[1:])
