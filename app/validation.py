"""Turning pydantic validation errors into per-field messages in the user's language."""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from pydantic import ValidationError

from .errors import Invalid
from .i18n import gettext as _

# What a field of a pattern should look like, in words, by pattern (registered by the
# schemas that use it); other patterns get the general message.
PATTERN_HINTS: dict = {}


def _pattern_hint(pattern) -> str:
    hint = PATTERN_HINTS.get(pattern)
    return hint() if hint else _("Not in the expected format.")


def _message(error: dict) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    templates = {
        "missing": lambda: _("This field is required."),
        "extra_forbidden": lambda: _("Unknown field."),
        "string_too_long": lambda: _("At most %(n)s characters.", n=ctx.get("max_length")),
        "string_too_short": lambda: _("This field is required."),
        "string_type": lambda: _("Must be text."),
        "string_pattern_mismatch": lambda: _pattern_hint(ctx.get("pattern")),
        "int_type": lambda: _("Must be a whole number."),
        "int_parsing": lambda: _("Must be a whole number."),
        "int_from_float": lambda: _("Must be a whole number."),
        "bool_type": lambda: _("Must be true or false."),
        "bool_parsing": lambda: _("Must be true or false."),
        "decimal_type": lambda: _("Must be an amount."),
        "decimal_parsing": lambda: _("Must be an amount."),
        "decimal_max_digits": lambda: _("The amount is too large."),
        "decimal_max_places": lambda: _("At most %(n)s decimal places.", n=ctx.get("decimal_places")),
        "greater_than_equal": lambda: _("Must be at least %(n)s.", n=ctx.get("ge")),
        "greater_than": lambda: _("Must be greater than %(n)s.", n=ctx.get("gt")),
        "less_than_equal": lambda: _("Must be at most %(n)s.", n=ctx.get("le")),
        "less_than": lambda: _("Must be less than %(n)s.", n=ctx.get("lt")),
        "date_type": lambda: _("Must be a date (YYYY-MM-DD)."),
        "date_parsing": lambda: _("Must be a date (YYYY-MM-DD)."),
        "date_from_datetime_parsing": lambda: _("Must be a date (YYYY-MM-DD)."),
        "enum": lambda: _("Must be one of: %(values)s.", values=ctx.get("expected")),
        "literal_error": lambda: _("Must be one of: %(values)s.", values=ctx.get("expected")),
        "list_type": lambda: _("Must be a list."),
        "too_long": lambda: _("At most %(n)s entries.", n=ctx.get("max_length")),
        "model_type": lambda: _("Must be an object."),
        "dict_type": lambda: _("Must be an object."),
        "json_invalid": lambda: _("The request body is not valid JSON."),
        "json_type": lambda: _("The request body is not valid JSON."),
    }
    if kind == "value_error":  # raised by our own validators with a translated message
        return str(ctx.get("error", error["msg"]))
    return templates.get(kind, lambda: error["msg"])()


def validation_fields(err: ValidationError, prefix: str = "") -> dict[str, str]:
    """`{"equipment.0.quantity": "Must be a whole number.", ...}`, first error per field."""
    fields: dict[str, str] = {}
    for error in err.errors():
        path = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(prefix + path, _message(error))
    return fields


def jsonable(value):
    """Plain JSON types for audit snapshots: Decimal as string, dates ISO, enums by value."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


MAX_JSON_DEPTH = 32  # no body the API accepts nests deeper than a few levels


def too_deep() -> Invalid:
    """The refusal of a JSON body nested deeper than any request needs (parsing such a body
    recursively would exhaust the stack)."""
    return Invalid(_("The request is not valid."),
                   fields={"body": _("The JSON is nested more than %(n)s levels deep.",
                                     n=MAX_JSON_DEPTH)})


def json_walk(value):
    """Every value inside a parsed JSON value, without recursion; `too_deep()` is raised for
    one nested beyond MAX_JSON_DEPTH."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise too_deep()
        yield item
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for pair in item.items() for v in pair)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
