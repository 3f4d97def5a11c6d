"""Throttling shared by every worker and host: failures counted in the database.

Each count is one row of `security_tallies` per kind, key and fixed window, moved by one
atomic upsert that returns the new count, so concurrent requests on different workers can
never both see "one attempt left". Sign-in is throttled three ways in the window
(`LOGIN_WINDOW_MINUTES`, 15):

- by client address: more than `LOGIN_CLIENT_LIMIT` (50) failed attempts, whatever the
  accounts, and the client is refused;
- by account: after `LOGIN_ACCOUNT_LIMIT` (10) failures the account refuses every client
  that has failed on it in the window — but a client that has not been failing on it still
  gets its password checked, so nobody can lock the owner out by guessing wrong;
- attempts are counted before the password is checked and given back when it was right, so
  parallel guesses cannot overtake the count.

Requests to the API without a valid token are counted per client in a one-minute window;
beyond `API_ANONYMOUS_LIMIT` (60) they are answered 429 without any write at all.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import unit_of_work
from ..extensions import db
from ..models import SecurityTally, utcnow

TALLY = SecurityTally.__table__


def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def window_start(seconds: int, now: datetime | None = None) -> datetime:
    now = now or utcnow()
    epoch = datetime(2000, 1, 1)
    elapsed = int((now - epoch).total_seconds())
    return epoch + timedelta(seconds=elapsed - elapsed % seconds)


def _upsert(kind: str, key: str, start: datetime, now: datetime):
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(TALLY).values(kind=kind, key=key[:200], window_start=start, count=1,
                                     last_at=now)
    return (statement.on_conflict_do_update(
        index_elements=["kind", "key", "window_start"],
        set_={"count": TALLY.c.count + 1, "last_at": now})
        .returning(TALLY.c.count))


def bump(keys: list[tuple[str, str]], seconds: int) -> list[int]:
    """Add one to each (kind, key) of the current window, in one transaction; the new counts."""
    now = utcnow()
    start = window_start(seconds, now)
    with unit_of_work():
        return [db.session.execute(_upsert(kind, key, start, now)).scalar_one()
                for kind, key in keys]


def give_back(keys: list[tuple[str, str]], seconds: int) -> None:
    start = window_start(seconds)
    with unit_of_work():
        for kind, key in keys:
            db.session.execute(update(TALLY).where(
                TALLY.c.kind == kind, TALLY.c.key == key[:200], TALLY.c.window_start == start,
                TALLY.c.count > 0).values(count=TALLY.c.count - 1))


def current(kind: str, key: str, seconds: int) -> int:
    return db.session.scalar(select(TALLY.c.count).where(
        TALLY.c.kind == kind, TALLY.c.key == key[:200],
        TALLY.c.window_start == window_start(seconds))) or 0


def forget_spent(keep: timedelta = timedelta(days=1)) -> int:
    """Delete the counts of windows that ended more than `keep` ago; how many."""
    with unit_of_work():
        return db.session.execute(delete(TALLY).where(
            TALLY.c.window_start < utcnow() - keep)).rowcount


# -- signing in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInAttempt:
    """An attempt to sign in as `username` from `client`, counted before it is decided."""

    username: str
    client: str
    refused: bool  # throttled: the password is not even checked
    first_refusal: bool  # the attempt that crossed a limit (logged once per window)

    @property
    def keys(self) -> list[tuple[str, str]]:
        return _keys(self.username, self.client)


def _keys(username: str, client: str) -> list[tuple[str, str]]:
    account = username.strip().lower()[:64]
    return [("login_account", account), ("login_client", client),
            ("login_pair", f"{account}|{client}")]


def _window() -> int:
    return int(current_app.config["LOGIN_WINDOW_MINUTES"]) * 60


def begin_sign_in(username: str) -> SignInAttempt:
    client = client_address()
    account, by_client, pair = bump(_keys(username, client), _window())
    account_limit = current_app.config["LOGIN_ACCOUNT_LIMIT"]
    client_limit = current_app.config["LOGIN_CLIENT_LIMIT"]
    refused = by_client > client_limit or (account > account_limit and pair > 1)
    first = False
    if refused:  # refusals are counted too, one row per pair and window: logged once
        [times] = bump([("login_refused", f"{username.strip().lower()[:64]}|{client}")],
                       _window())
        first = times == 1
    return SignInAttempt(username, client, refused=refused, first_refusal=first)


def end_sign_in(attempt: SignInAttempt, *, succeeded: bool) -> None:
    """A right password (or code) is no failure: its count is given back."""
    if succeeded:
        give_back(attempt.keys, _window())


# -- the API without a token ---------------------------------------------------------------


def anonymous_api_request() -> tuple[bool, bool]:
    """Count a request to the API without a valid token: (refused, first of its window).

    Once over the limit nothing is written any more, so a flood costs reads only."""
    client = client_address()
    limit = current_app.config["API_ANONYMOUS_LIMIT"]
    if current("api_unauthorized", client, 60) >= limit:
        return True, False
    [count] = bump([("api_unauthorized", client)], 60)
    return count > limit, count == 1
