"""Where a step's time goes: pyinstrument over the paths the benchmark measures, in process
(Flask's test client, no HTTP server), on a benchmark database.

    .venv/bin/python -m bench.profile --path full      # the API answering with the project
    .venv/bin/python -m bench.profile --path web       # a web decision: POST, redirect, page
    .venv/bin/python -m bench.profile --path minimal   # the API's minimal step

Projects step back and forth as in the benchmark ("return" by the agency, "submit" by the
enterprise); a few unmeasured steps first (imports, compiled SQL and templates), then
`--steps` measured ones. Prints pyinstrument's call tree and the time per step.
"""

import argparse
import re
import sys
import time

from bench.run import BENCH_PASSWORD, RETURN_COMMENT, postgres_url, prepare, web_sets


def api_stepper(client, cycle: dict, minimal: bool):
    prefer = "return=minimal" if minimal else "return=representation"

    def step():
        returning = cycle["status"] == "declared"
        body = {"trigger": "return" if returning else "submit", "version": cycle["version"]}
        if returning:
            body["comment"] = RETURN_COMMENT
        token = cycle["agency"] if returning else cycle["enterprise"]
        answer = client.post(f"/api/v1/projects/{cycle['project']}/transitions", json=body,
                             headers={"Authorization": f"Bearer {token}", "Prefer": prefer})
        if answer.status_code != 200:
            raise SystemExit(f"step answered {answer.status_code}: {answer.get_data()[:200]}")
        cycle["version"], cycle["status"] = answer.json["version"], answer.json["status"]
    return step


def web_stepper(app, cycle: dict):
    people = {}
    for side in ("agency", "enterprise"):
        client = app.test_client()
        page = client.get("/login").get_data()
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        signed = client.post("/login", data={"username": cycle[f"{side}_user"],
                                             "password": BENCH_PASSWORD, "csrf_token": token})
        if signed.status_code != 302:
            raise SystemExit(f"{cycle[f'{side}_user']} could not sign in")
        page = client.get(f"/projects/{cycle['project']}").get_data()
        csrf = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        people[side] = (client, csrf)

    def step():
        returning = cycle["status"] == "declared"
        client, csrf = people["agency" if returning else "enterprise"]
        form = {"csrf_token": csrf, "version": cycle["version"]}
        if returning:
            form["comment"] = RETURN_COMMENT
        trigger = "return" if returning else "submit"
        posted = client.post(f"/projects/{cycle['project']}/act/{trigger}", data=form)
        if posted.status_code != 302:
            raise SystemExit(f"{trigger} answered {posted.status_code}")
        page = client.get(posted.headers["Location"])
        if page.status_code != 200:
            raise SystemExit(f"the project page answered {page.status_code}")
        cycle["version"] += 1
        cycle["status"] = "returned" if returning else "declared"
    return step


def print_statements(step) -> None:
    """The SQL of two steps (a return and a submit), numbered, as the driver sends it (the
    steps' own statements go to psycopg directly, past SQLAlchemy's events)."""
    import psycopg

    statements = []
    originals = {kind: kind.execute for kind in (psycopg.Cursor, psycopg.Connection)}

    def recording(execute):
        def run(self, query, *args, **kwargs):
            text = query if isinstance(query, str) else repr(query)
            statements.append(" ".join(text.split()))
            return execute(self, query, *args, **kwargs)
        return run

    for kind, execute in originals.items():
        kind.execute = recording(execute)
    try:
        for _ in range(2):
            statements.append("-- step")
            step()
    finally:
        for kind, execute in originals.items():
            kind.execute = execute
    for number, statement in enumerate(statements, 1):
        print(f"{number:3} {statement}")


def main(argv=None) -> None:
    from pyinstrument import Profiler

    from app import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", choices=("minimal", "full", "web"), default="full")
    parser.add_argument("--url", default=postgres_url(10_000))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=30)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--sql", action="store_true",
                        help="no profiler: the statements of one step of each kind, in order")
    parser.add_argument("--cpu", action="store_true",
                        help="no profiler: the app's CPU time per step (this process; the "
                             "database's is not in it)")
    args = parser.parse_args(argv)
    actors = prepare(args.url, 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url})
    # the web's page shows the whole trail: a project of a short one, as the benchmark's
    cycle = web_sets(args.url, 1, 1, actors)[0][0] if args.path == "web" else actors.cycles[0]
    step = (web_stepper(app, cycle) if args.path == "web"
            else api_stepper(app.test_client(), cycle, args.path == "minimal"))
    for _ in range(args.warm_up):
        step()
    if args.sql:
        print_statements(step)
        return
    if args.cpu:
        began = time.process_time()
        for _ in range(args.steps):
            step()
        print(f"{args.path}: {(time.process_time() - began) / args.steps * 1000:.2f} ms of "
              "CPU a step in the app (one client, in process)")
        return
    profiler = Profiler(interval=0.0005)
    began = time.perf_counter()
    profiler.start()
    for _ in range(args.steps):
        step()
    profiler.stop()
    seconds = time.perf_counter() - began
    print(profiler.output_text(unicode=True, color=False))
    print(f"{args.path}: {args.steps} steps, {seconds / args.steps * 1000:.2f} ms a step "
          "(one client, in process, profiled)")
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())


if __name__ == "__main__":
    main(sys.argv[1:])
