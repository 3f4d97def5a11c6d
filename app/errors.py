"""Domain errors. Views and the API turn them into 403/404/409/422 responses."""


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None,
                 reasons: list[str] | None = None):
        super().__init__(message)
        self.message = str(message)
        self.fields = {k: str(v) for k, v in (fields or {}).items()}
        self.reasons = [str(r) for r in (reasons or [])]


class BadRequest(DomainError):
    """A request that cannot be read at all (e.g. malformed JSON)."""


class NotFound(DomainError):
    """Unknown, or not visible to the caller: the two are indistinguishable on purpose."""

    status, code = 404, "not_found"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class Conflict(DomainError):
    """Stale version, or the step is no longer possible because someone acted first."""

    status, code = 409, "conflict"


class Invalid(DomainError):
    """Input that fails validation; `fields` names each bad field."""

    status, code = 422, "invalid"


class GuardFailed(DomainError):
    """A policy rule refuses the step; `reasons` says why."""

    status, code = 422, "guard_failed"
