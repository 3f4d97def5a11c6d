"""Bulk decisions: one `POST /api/v1/bulk-transitions` of 500 projects, and one decision of
500 through the queue's bulk bar (the officer's confirmed form, its result page rendered),
each timed — the issue's targets are ≤ 1 s on PostgreSQL and ≤ 2 s on SQLite (a benchmark
figure, not a test).

`prepare(url, count)` chooses, with the application's own rules, an agency officer and
`count` declared projects of its jurisdiction that it may return now (a return with one
reason is possible on every declared project, where acceptance may wait for a batch), and
issues the officer a token; `timed(base_url, token, items)` sends the one request and
answers its seconds (a few are sent first, untimed, so that the worker measured has loaded
the definitions and compiled its statements); `measure(pg_url=, sqlite_url=, args=)` gives
`make bench` its rows, one per database. The projects are returned by it,
so each run prepares fresh ones (a benchmark database of 10⁵ projects holds thousands
declared).

Alone, against a generated database (`flask bench-data`), serving it with gunicorn:

    .venv/bin/python -m bench.bulk --url postgresql://postgres@127.0.0.1:5432/jigai_bench_100000
    .venv/bin/python -m bench.bulk --url sqlite:///$PWD/instance/bench-100000.sqlite3
"""

import argparse
import json
import os
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

TARGET_SECONDS = {"postgresql": 1.0, "sqlite": 2.0}
TRIGGER, COMMENT = "return", "请补充项目备案材料"
WARM_UP = 5  # projects decided first, untimed, by the same server worker


@dataclass
class Batch:
    token: str  # the officer's API token
    items: list[dict]  # [{"id", "version"}] of the chosen projects
    officer: str


def prepare(url: str, count: int = 500) -> Batch:
    """An officer and `count` declared projects it may return now, read with the app."""
    os.environ["DATABASE_URL"] = url
    from sqlalchemy import select

    from app import access, create_app
    from app.accounts import operations as accounts
    from app.extensions import db
    from app.models import Organization, OrgKind, Project, Status, User
    from app.workflow import workflows

    def may_return(project, officer) -> bool:
        return any(a.trigger == TRIGGER and a.ready
                   for a in workflows().available_triggers(project, officer))

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        officers = db.session.scalars(
            select(User).join(Organization, User.organization_id == Organization.id)
            .where(Organization.kind == OrgKind.AGENCY, User.active).order_by(User.id))
        for officer in officers:
            candidates = db.session.scalars(
                select(Project).where(Project.status == Status.DECLARED,
                                      access.visible_condition(officer))
                .order_by(Project.id.desc()).limit(count * 2))
            chosen = [{"id": str(p.public_id), "version": p.version}
                      for p in candidates if may_return(p, officer)][:count]
            if len(chosen) == count:
                batch = Batch(accounts.issue_token(officer), chosen, officer.username)
                db.session.remove()
                for engine in db.engines.values():  # none left open: the deadline day
                    engine.dispose()                # copies this database after it
                return batch
        raise SystemExit(f"no agency officer may return {count} declared projects at {url}")


def timed(base_url: str, token: str, items: list[dict], trigger: str = TRIGGER,
          comment: str = COMMENT) -> float:
    """Seconds for one bulk request deciding `items` (every one must be done)."""
    body = json.dumps({"trigger": trigger, "comment": comment, "items": items}).encode()
    request = urllib.request.Request(
        f"{base_url}/api/v1/bulk-transitions", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.loads(response.read())
    elapsed = time.perf_counter() - began
    if answer["done"] != len(items):
        refused = [i for i in answer["items"] if i["result"] != "done"][:3]
        raise SystemExit(f"{answer['refused']} of {len(items)} refused, e.g. {refused}")
    return elapsed


def timed_web(port: int, officer: str, items: list[dict], trigger: str = TRIGGER,
              comment: str = COMMENT) -> float:
    """Seconds for one decision of `items` through the queue's bulk bar, as the officer
    confirms it (the form POST with its CSRF token, the result page rendered); every one
    must be done."""
    from bench.run import BENCH_PASSWORD, csrf_in, signed_in

    person = signed_in(port, officer, BENCH_PASSWORD)
    _status, page = person.request("GET", "/queue")
    form = urllib.parse.urlencode({
        "csrf_token": csrf_in(page), "step": trigger, "comment": comment, "back": "/queue",
        "project": [f"{i['id']}:{i['version']}" for i in items]}, doseq=True)
    began = time.perf_counter()
    status, page = person.request("POST", "/queue/bulk/apply", form)
    elapsed = time.perf_counter() - began
    done = page.count(b"bulk--done")
    if status != 200 or done != len(items):
        raise SystemExit(f"the bulk bar answered {status}, {done} of {len(items)} done")
    return elapsed


def seconds_on(url: str, port: int, count: int) -> tuple[float, float]:
    """(API, web bulk bar): one bulk decision of `count` projects of the database at `url`
    each, by a server of one worker (so that the untimed warm-up of a few meets the worker
    that is timed)."""
    from bench.run import server

    batch = prepare(url, 2 * (count + WARM_UP))
    api, web = batch.items[:count + WARM_UP], batch.items[count + WARM_UP:]
    base = f"http://127.0.0.1:{port}"
    with server("wsgi:app", port, {"DATABASE_URL": url}, workers=1, threads=1):
        timed(base, batch.token, api[:WARM_UP])  # a worker's first request loads more
        timed_web(port, batch.officer, web[:WARM_UP])
        return (timed(base, batch.token, api[WARM_UP:]),
                timed_web(port, batch.officer, web[WARM_UP:]))


def measure(pg_url: str, sqlite_url: str, args) -> list[tuple[str, str, str, bool | None]]:
    """The runner's rows: a bulk decision on each database, with its target (500 projects;
    100 in --quick, reported without a verdict, the target being for 500)."""
    count = 100 if getattr(args, "quick", False) else 500
    rows = []
    for backend, label, url in (("postgresql", "PostgreSQL", pg_url),
                                ("sqlite", "SQLite", sqlite_url)):
        target = TARGET_SECONDS[backend]
        for way, seconds in zip(("API", "web bulk bar"), seconds_on(url, args.port + 3, count),
                                strict=True):
            rows.append((f"bulk decision of {count} projects in one request ({way}), {label}",
                         f"{seconds:.2f} s", f"≤ {target:g} s for 500",
                         seconds <= target if count == 500 else None))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a generated benchmark database")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args(argv)
    backend = "sqlite" if args.url.startswith("sqlite") else "postgresql"
    target = TARGET_SECONDS[backend]
    for way, seconds in zip(("API", "web bulk bar"), seconds_on(args.url, args.port, args.count),
                            strict=True):
        print(f"bulk decision of {args.count} projects ({way}) on {backend}: {seconds:.2f} s "
              f"(target ≤ {target:g} s: {'met' if seconds <= target else 'not met'})")


if __name__ == "__main__":
    main()
