"""A second factor at sign-in: a TOTP authenticator (RFC 6238, pyotp) and recovery codes.

Enrolment shows the secret as a QR code (segno, inline SVG) and as text, and takes effect
once the user proves it with a first code. Ten recovery codes are shown once, then kept as
SHA-256 digests (each is 50 random bits, so a fast hash suffices); each works once. A TOTP
code works once too: the time step it was accepted at is kept, and no earlier or equal step
is accepted again.
"""

import hashlib
import hmac
import secrets
import time

import pyotp
import segno

from ..database import unit_of_work
from ..models import User

ISSUER = "Jigai 技改项目库"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG markup (no script, no style attribute)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title="TOTP")


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is `code`."""
    totp, now = pyotp.TOTP(secret), int(time.time()) // 30
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * 30), code):
            return step
    return None


def _digest(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _normalised(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Turn the authenticator on if `code` proves the user holds `secret`; the recovery
    codes (to show once), or None for a wrong code."""
    step = _matching_step(secret, _normalised(code), None)
    if step is None:
        return None
    codes = ["-".join(("".join(secrets.choice(_ALPHABET) for _ in range(10)))[i:i + 5]
                      for i in (0, 5)) for _n in range(RECOVERY_CODES)]
    with unit_of_work():
        user.totp_secret = secret
        user.totp_last_step = step
        user.recovery_codes = "\n".join(_digest(c) for c in codes)
    return codes


def disable(user: User) -> None:
    with unit_of_work():
        user.totp_secret = user.totp_last_step = user.recovery_codes = None


def recovery_codes_left(user: User) -> int:
    return len((user.recovery_codes or "").split()) if user.recovery_codes else 0


def verify(user: User, code: str) -> bool:
    """Whether `code` is the authenticator's current code or an unused recovery code; the
    code is used up either way it matched."""
    code = _normalised(code)
    if not user.totp_secret or not code:
        return False
    if code.isdigit():
        step = _matching_step(user.totp_secret, code, user.totp_last_step)
        if step is None:
            return False
        with unit_of_work():
            user.totp_last_step = step
        return True
    digests = (user.recovery_codes or "").split()
    digest = _digest(code)
    if not any(hmac.compare_digest(digest, d) for d in digests):
        return False
    with unit_of_work():
        user.recovery_codes = "\n".join(d for d in digests if d != digest) or None
    return True
