"""`flask --app wsgi …` commands."""

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import demo
from .accounts import operations as accounts
from .errors import DomainError
from .extensions import db
from .labels import ROLE_LABELS
from .models import DefinitionSnapshot, Delegation, Job, JobStatus, Organization, User, china_today
from .review.people import create_delegation, end_delegation, in_force
from .rules.parameters import ParameterError, all_entries
from .workflow import DefinitionError, load_definitions
from .workflow.definitions import unquoted
from .workflow.render import mermaid, table


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        _fail(f"no user named '{username}'")
    return user


users_cli = AppGroup("users", help="Manage user accounts.")
tokens_cli = AppGroup("tokens", help="Issue API tokens.")
workflows_cli = AppGroup("workflows", help="Check and show workflow definitions.")
plan_cli = AppGroup("plan", help="Import equipment-renewal plan tables.")
audit_cli = AppGroup("audit", help="Check the audit trail.")
stats_cli = AppGroup("stats", help="Check or recount the dashboard's statistics rollup.")
reminders_cli = AppGroup("reminders", help="Remind of time limits, escalate the overdue.")


@reminders_cli.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to run for (default: today in China).")
def reminders_run(today):
    """Remind those who owe a step due soon; escalate overdue steps one level up. Each once:
    run it daily (a second run changes nothing)."""
    from .models import china_today
    from .review import reminders

    done = reminders.run(today.date() if today else china_today())
    click.echo(f"reminded {len(done.reminded)}, escalated {len(done.escalated)}")


progress_cli = AppGroup("progress", help="Monthly construction progress: stalled and lapsed projects.")


@progress_cli.command("check")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to check for (default: today in China).")
def progress_check(today):
    """Warn the accepting agency of projects that missed three monthly reports running or did
    not start within two years of filing. Once each: run it daily."""
    from .models import china_today
    from .review import progress

    done = progress.check(today.date() if today else china_today())
    click.echo(f"warned {len(done.warned)}")


items_cli = AppGroup("items", help="Items to follow (容缺受理): return projects missing them.")


@items_cli.command("check")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to check for (default: today in China).")
def items_check(today):
    """Return to the enterprise each project whose items to follow were due before today and
    are still missing, with the reason. Once each: run it daily."""
    from .models import china_today
    from .review import items

    done = items.check(today.date() if today else china_today())
    click.echo(f"returned {len(done.returned)}")


jobs_cli = AppGroup("jobs", help="Run the job worker; list and retry background jobs.")


@jobs_cli.command("worker")
@click.option("--threads", type=int, default=None,
              help="Jobs run at once (default JIGAI_JOBS_WORKERS, 2).")
def jobs_worker(threads):
    """Run the job worker until interrupted (beside the web server; one or more per host)."""
    import logging

    from .jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_worker(current_app._get_current_object(), threads)


@jobs_cli.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), default=None)
@click.option("--kind", default=None, help="import, mail, or a periodic task's name.")
@click.option("--limit", type=int, default=30)
def jobs_list(status, kind, limit):
    """The latest jobs: state, progress, attempts, worker and last failure."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    click.echo(f"{'id':<36}  {'kind':<8} {'status':<7} {'stage':<8} {'progress':>13} "
               f"{'made':>6} {'errors':>6} {'tries':>5}  {'created (UTC)':<19}  title / worker / why")
    for job in db.session.scalars(query):
        progress = f"{job.done:,}/{job.total:,}"
        click.echo(f"{job.public_id!s:<36}  {job.kind:<8} {job.status:<7} {job.stage or '':<8} "
                   f"{progress:>13} {job.created:>6,} {job.error_count:>6,} {job.attempts:>5}  "
                   f"{job.created_at:%Y-%m-%d %H:%M:%S}  "
                   + " · ".join(filter(None, [job.title, job.worker, job.message])))


@jobs_cli.command("retry")
@click.argument("job_id")
def jobs_retry(job_id):
    """Queue a failed or stuck job again, with fresh attempts."""
    import uuid

    from .jobs import runner

    try:
        key = uuid.UUID(job_id)
    except ValueError:
        _fail(f"no job {job_id}")
    job = db.session.scalar(select(Job).where(Job.public_id == key))
    if job is None:
        _fail(f"no job {job_id}")
    try:
        runner.retry(job)
    except runner.Refused as err:
        _fail(f"job {job_id} is not retried: {err}")
    click.echo(f"job {job_id} queued again")


@stats_cli.command("verify")
def stats_verify():
    """Compare the kept rollup with a fresh recount; list differences and exit 1."""
    from .reporting import rollup as stats

    found = stats.differences()
    for line in found[:50]:
        click.echo(line)
    if found:
        _fail(f"statistics rollup differs from a recount in {len(found):,} rows")
    click.echo("statistics rollup agrees with a recount")


@stats_cli.command("rebuild")
def stats_rebuild():
    """Recount the rollup from the project rows (after bulk loads or a failed verify)."""
    from .database import unit_of_work
    from .reporting import rollup as stats

    with unit_of_work():
        stats.rebuild()
    click.echo("statistics rollup recounted")


@audit_cli.command("verify")
def audit_verify():
    """Recompute every project's hash chain; name the first broken event and exit 1."""
    from .workflow.verify import verify_trail

    result = verify_trail()
    if result.first_break:
        _fail(f"audit trail broken after {result.events:,} events: {result.first_break}")
    click.echo(f"audit trail intact: {result.projects:,} projects, {result.events:,} events")


@plan_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--jurisdiction", default=None,
              help="GB/T 2260 code of the plan's region; by default taken from the file name "
                   "(e.g. heilongjiang-… is the Heilongjiang document's region).")
def plan_import(path, jurisdiction):
    """Import a plan table (industry, year, equipment_units, investment_10k_yuan)."""
    from pathlib import Path

    from .reporting.plans import import_plan
    from .workflow import workflows

    name = Path(path).name
    if jurisdiction is None:
        matches = {d.jurisdiction for d in workflows().definitions.values()
                   if name.startswith(d.key.split("-")[0] + "-")}
        if len(matches) != 1:
            _fail("give --jurisdiction: the file name names no document's region")
        jurisdiction = matches.pop()
    try:
        report = import_plan(Path(path).read_text(encoding="utf-8"), jurisdiction, name)
    except DomainError as err:
        _fail("\n".join([err.message, *err.reasons]))
    click.echo(f"imported {report.rows} rows for {jurisdiction}, years "
               f"{', '.join(map(str, report.years))}")
    for d in report.discrepancies:
        column = "units" if d.column == "equipment_units" else "investment (万元)"
        click.echo(f"{d.year}: stated total {column} {d.stated:,} differs from the sum of the "
                   f"rows {d.summed:,} (difference {d.summed - d.stated:+,})")
    if not report.discrepancies:
        click.echo("stated totals agree with the rows")


delegations_cli = AppGroup("delegations", help="An officer's cover while away (职务代理).")


def _day(value):
    return value.date() if value is not None else None


@delegations_cli.command("create")
@click.argument("officer")
@click.argument("deputy")
@click.option("--from", "starts_on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--to", "ends_on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--reason", default=None)
@click.option("--by", "by", default=None, help="Who names the deputy (default: the officer).")
def delegations_create(officer, deputy, starts_on, ends_on, reason, by):
    """DEPUTY takes OFFICER's steps from --from to --to (both days included)."""
    actor = _user(by or officer)
    try:
        made = create_delegation(actor, _user(officer), _user(deputy), _day(starts_on),
                                 _day(ends_on), reason)
    except DomainError as err:
        _fail("; ".join(f"{k}: {v}" for k, v in err.fields.items()) or err.message)
    click.echo(f"delegation {made.id}: {deputy} for {officer}, "
               f"{made.starts_on.isoformat()} to {made.ends_on.isoformat()}")


@delegations_cli.command("list")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def delegations_list(today):
    """Every delegation, newest first, and whether it is in force."""
    day = _day(today) or china_today()
    for d in db.session.scalars(select(Delegation).order_by(Delegation.id.desc())):
        state = "ended" if d.ended_at else ("in force" if in_force(d, day) else
                                            ("over" if d.ends_on < day else "planned"))
        click.echo(f"{d.id}\t{d.deputy.username} for {d.officer.username}\t"
                   f"{d.starts_on.isoformat()}..{d.ends_on.isoformat()}\t{state}")


@delegations_cli.command("end")
@click.argument("delegation_id", type=int)
@click.option("--by", "by", default=None, help="Who ends it (default: the officer).")
def delegations_end(delegation_id, by):
    """End a cover before its last day."""
    delegation = db.session.get(Delegation, delegation_id)
    if delegation is None:
        _fail(f"no delegation {delegation_id}")
    try:
        end_delegation(_user(by) if by else delegation.officer, delegation)
    except DomainError as err:
        _fail(err.message)
    click.echo(f"delegation {delegation_id} ended")


@users_cli.command("create")
@click.argument("username")
@click.option("--org", "org_name", required=True, help="Exact name of the user's organisation.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default=None)
@click.option("--admin", is_flag=True, help="Give the user administrator rights.")
@click.option("--head", is_flag=True, help="A head of section: reassigns the agency's steps.")
def users_create(username, org_name, password, display_name, admin, head):
    """Create a user in an existing organisation."""
    org = db.session.scalar(select(Organization).where(Organization.name == org_name))
    if org is None:
        _fail(f"no organisation named '{org_name}'")
    try:
        user = accounts.create_user(username=username, password=password, organization=org,
                                    display_name=display_name, is_admin=admin)
        if head:
            user.is_head = True
            db.session.commit()
    except DomainError as err:
        _fail("; ".join(f"{k}: {v}" for k, v in err.fields.items()) or err.message)
    click.echo(f"created {user.username} ({user.role}, {org.name})")


@users_cli.command("deactivate")
@click.argument("username")
def users_deactivate(username):
    """Deactivate a user: no more sign-ins, and every session and token stops working."""
    accounts.set_active(_user(username), False)
    click.echo(f"deactivated {username}")


@users_cli.command("two-factor")
@click.argument("org_name")
@click.option("--required/--optional", default=True,
              help="Whether the organisation's users must sign in with a second factor.")
def users_two_factor(org_name, required):
    """Make a second factor required (or optional) for an organisation's users."""
    org = db.session.scalar(select(Organization).where(Organization.name == org_name))
    if org is None:
        _fail(f"no organisation named '{org_name}'")
    accounts.require_two_factor(org, required)
    click.echo(f"{org.name}: second factor {'required' if required else 'optional'}")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--days", type=int, default=None, help="Days the token is good for "
              "(default JIGAI_API_TOKEN_DAYS, 90).")
def tokens_create(username, days):
    """Print a new API token for USERNAME (alone on the last line)."""
    token = accounts.issue_token(_user(username), days)
    click.echo(f"API token for {username} (shown once; keep it secret):")
    click.echo(token)


@tokens_cli.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
def tokens_list(username):
    """Every API token: id, user, created, expires, last used, revoked (UTC)."""
    click.echo("id\tuser\tcreated\texpires\tlast_used\trevoked")
    stamp = lambda t: t.strftime("%Y-%m-%d %H:%M") if t else "-"  # noqa: E731
    for t in accounts.list_tokens(username):
        click.echo(f"{t.id}\t{t.user.username}\t{stamp(t.created_at)}\t{stamp(t.expires_at)}"
                   f"\t{stamp(t.last_used_at)}\t{stamp(t.revoked_at)}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    """Revoke the API token TOKEN_ID (see `tokens list`): it stops working at once."""
    try:
        token = accounts.revoke_token(token_id)
    except DomainError as err:
        _fail(err.message)
    click.echo(f"revoked token {token.id} of {token.user.username}")


@workflows_cli.command("check")
@click.option("--documents", "documents", type=click.Path(exists=True, file_okay=False),
              default=None, help="Folder of the policy texts (e.g. ../shared/seeds): every "
                                 "quoted piece must be found in its document.")
def workflows_check(documents):
    """Validate every definition and parameter (each number with its basis); with
    --documents, every quote against its document; exit non-zero naming each problem."""
    directory = current_app.config["WORKFLOWS_DIR"]
    try:
        definitions = load_definitions(directory)
        all_entries()
    except (DefinitionError, ParameterError) as err:
        _fail(f"workflow definitions in {directory} are invalid:\n{err}")
    edited = [f"{d.path.name}: {d.key} version {d.version} differs from the text projects "
              f"were frozen on; give the edited definition a new version number"
              for d in definitions if _frozen_text_differs(d)]
    if edited:
        _fail("\n".join(edited))
    if documents:
        missing = [line for d in definitions for line in _unquoted(d, Path(documents))]
        if missing:
            _fail("quoted words not found in their documents:\n" + "\n".join(missing))
    for d in definitions:
        click.echo(f"ok  {d.path.name}: {d.key} v{d.version} — {d.title} "
                   f"({d.document or '—'}), {len(d.transitions)} transitions"
                   + (", every quote found in its document" if documents else ""))


def _unquoted(definition, documents: Path) -> list[str]:
    path = documents / definition.source
    if not path.exists():
        return [f"{definition.path.name}: its document {definition.source} is not in {documents}"]
    return unquoted(definition, path.read_text(encoding="utf-8"))


def _frozen_text_differs(definition) -> bool:
    """Whether projects were frozen on this key and version with other text (when the
    database is reachable and migrated; the check is about files otherwise)."""
    try:
        snapshot = db.session.get(DefinitionSnapshot, (definition.key, definition.version))
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return snapshot is not None and snapshot.sha256 != definition.sha256


@workflows_cli.command("show")
@click.argument("key")
@click.option("--version", type=int, default=None)
def workflows_show(key, version):
    """Print a definition as a table and a Mermaid diagram."""
    from .workflow import workflows

    try:
        definition = workflows().get(key, version) if version else workflows().latest(key)
    except (KeyError, ValueError):
        _fail(f"no workflow '{key}'")
    click.echo(table(definition))
    click.echo()
    click.echo(mermaid(definition))


def _project_ids(selection: tuple[str, ...]) -> list[int] | None:
    """Row ids of the projects named by row id or public id (uuid); None: all."""
    if not selection:
        return None
    import uuid

    from .models import Project

    found = []
    for item in selection:
        if item.isdigit():
            row_id = db.session.scalar(select(Project.id).where(Project.id == int(item)))
        else:
            try:
                public = uuid.UUID(item)
            except ValueError:
                _fail(f"'{item}' is neither a project's id nor its public id")
            row_id = db.session.scalar(select(Project.id).where(Project.public_id == public))
        if row_id is None:
            _fail(f"no project {item}")
        found.append(row_id)
    return found


@workflows_cli.command("migrate")
@click.argument("key")
@click.option("--to", "to", type=int, required=True, help="The version to move onto.")
@click.option("--dry-run", is_flag=True, help="Only list what would change.")
@click.option("--project", "selection", multiple=True,
              help="Only this project (its id or public id); repeat for several.")
@click.option("--by", "by", default=None,
              help="The administrator who migrates (default: the system user).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def workflows_migrate(key, to, dry_run, selection, by, today):
    """Move projects in flight on KEY onto version --to: per project, the steps it would
    newly owe or no longer owe, the roles and time limits that differ; a project whose
    status the new version lacks is listed and left alone. One transaction, an audit event
    per project moved."""
    from .access import can_migrate_workflows
    from .accounts.operations import system_user
    from .workflow import workflows
    from .workflow.migration import migrate, preview

    engine = workflows()
    try:
        engine.get(key, to)
    except KeyError:
        _fail(f"no workflow '{key}' version {to}")
    actor = _user(by) if by else system_user()
    if by and not can_migrate_workflows(actor):
        _fail(f"{by} is not an administrator")
    day = _day(today) or china_today()
    only = _project_ids(selection)
    if dry_run:
        plans = preview(engine, key, to, day, only)
    else:
        try:
            operation, plans = migrate(engine, key, to, actor, day, only)
        except DomainError as err:
            _fail(f"nothing was migrated: {err.message}")
    for plan in plans:
        head = f"{plan.public_id}\t{plan.name}\t{plan.status}\t{plan.old} -> {plan.new}"
        if not plan.counterpart:
            click.echo(f"{head}\tLEFT ALONE: {plan.new} has no status '{plan.status}'")
            continue
        click.echo(head + ("" if plan.differs else "\tno change where it stands"))
        for line in plan.owed_added:
            click.echo(f"    + owed {line}")
        for line in plan.owed_removed:
            click.echo(f"    - owed {line}")
        for trigger, roles in plan.roles.items():
            click.echo(f"    roles {trigger}: {', '.join(roles['old']) or '—'} -> "
                       f"{', '.join(roles['new']) or '—'}")
        for step, days in plan.limits.items():
            click.echo(f"    time limit {step}: {days['old'] or '—'} -> {days['new'] or '—'} "
                       f"working days")
    moved = [p for p in plans if p.counterpart]
    left = len(plans) - len(moved)
    if dry_run:
        click.echo(f"dry run: {len(moved)} would move, {left} left alone")
    else:
        click.echo(f"migrated {len(moved)} (operation {operation}), {left} left alone")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(workflows_cli)
    app.cli.add_command(plan_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(progress_cli)
    app.cli.add_command(items_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(delegations_cli)

    @app.cli.command("demo")
    def demo_command():
        """Load idempotent demo data and print the demo logins."""
        logins = demo.seed()
        click.echo(f"Demo logins (password: {demo.DEMO_PASSWORD}):")
        for username, role, org in logins:
            click.echo(f"  {username:<26} {str(ROLE_LABELS.get(role, role)):<14} {org}")

    @app.cli.command("bench-data")
    @click.option("--projects", "count", type=int, required=True, help="How many to add.")
    @click.option("--seed", type=int, default=2024)
    def bench_data_command(count, seed):
        """Add realistic generated projects (with trails, loans …) for benchmarks."""
        import time

        from bench.datagen import generate

        started = time.perf_counter()
        counts = generate(count, seed=seed)
        click.echo(", ".join(f"{n:,} {k}" for k, n in counts.items())
                   + f" in {time.perf_counter() - started:.1f} s")

    @app.cli.command("jurisdictions")
    def jurisdictions_command():
        """Load the bundled GB/T 2260 jurisdiction table (missing rows only)."""
        click.echo(f"added {demo.load_jurisdictions()} jurisdictions")
