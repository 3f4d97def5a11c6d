"""The bodies API v1 accepts besides a project's own fields (`rules.project_input`): each
model validates a request and describes it in the OpenAPI document."""

import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from ..errors import Invalid
from ..i18n import gettext as _
from ..models import AgencyKind, OrgKind, Status
from ..review.bulk import MAX_SELECTED as MAX_BULK_ITEMS
from ..validation import validation_fields
from ..workflow.vocabulary import TRIGGERS


class HoldRequest(BaseModel):
    """Claiming, releasing or reassigning an owed step (`to`, `reason`: a reassignment)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    # a JSON number that is whole (226.0) is the integer the schema allows
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=False)
    to: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class TransitionRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    trigger: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    version: int = Field(ge=1, le=2**31 - 1)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)




def _whole(value):
    """A JSON number that is whole (226.0) is the integer the schema allows."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class BulkItem(BaseModel):
    """One project of a bulk decision, at the version the caller saw."""

    model_config = ConfigDict(strict=True, extra="forbid")

    id: uuid.UUID
    version: Annotated[int, BeforeValidator(_whole)] = Field(ge=1, le=2**31 - 1)


class BulkTransitionRequest(BaseModel):
    """One trigger, comment and data for up to MAX_BULK_ITEMS projects."""

    model_config = ConfigDict(strict=True, extra="forbid")

    trigger: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)
    items: list[BulkItem] = Field(min_length=1, max_length=MAX_BULK_ITEMS)

    @field_validator("trigger")
    @classmethod
    def _known(cls, value: str) -> str:
        # refused before any item is tried: the document lists the vocabulary
        if value not in TRIGGERS:
            raise ValueError(_("Unknown step."))
        return value


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    kind: OrgKind
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    jurisdiction: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    credit_code: Annotated[str, StringConstraints(max_length=40)] | None = None
    agency_kind: AgencyKind | None = None
    serves: list[Annotated[str, StringConstraints(pattern=r"^\d{6}$")]] = Field(
        default_factory=list, max_length=50)


class IntendedBanksRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    version: int = Field(ge=1, le=2**31 - 1)
    banks: list[Annotated[str, StringConstraints(max_length=36)]] = Field(max_length=10)


# -- query parameters: each validates what the API reads and describes it in the document --

@dataclass(frozen=True)
class QueryParam:
    """One query parameter: its type (a pydantic type, so the server checks exactly what the
    document promises) and, for a comma-separated list, `explode=False`."""

    name: str
    type: Any
    description: str | None = None
    explode: bool = True

    @cached_property
    def adapter(self) -> TypeAdapter:
        return TypeAdapter(self.type)

    def parse(self, args):
        """The parameter's value from a query string (None when absent; a list's when
        empty); 422 naming it when it is not what the document says."""
        raw = args.getlist(self.name)
        if not self.explode:  # a list, comma-separated; empty: no filter
            raw = [part for value in raw for part in value.split(",") if part]
        if not raw:
            return None
        try:
            return self.adapter.validate_python(raw if not self.explode else raw[-1])
        except ValidationError as err:
            message = next(iter(validation_fields(err).values()))
            raise Invalid(_("The request is not valid."), fields={self.name: message}) from err

    def parameter(self, enum: list | None = None) -> dict:
        schema = self.adapter.json_schema()
        schema.pop("title", None)
        if enum is not None:
            (schema["items"] if schema.get("type") == "array" else schema)["enum"] = enum
        described = {"name": self.name, "in": "query", "required": False, "schema": schema}
        if not self.explode:
            described.update(style="form", explode=False)
        if self.description:
            described["description"] = self.description
        return described


Code = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
STATUS = QueryParam("status", list[Literal[tuple(s.value for s in Status)]],
                    "Statuses, comma-separated", explode=False)
INDUSTRY = QueryParam("industry", Annotated[str, StringConstraints(max_length=100)])
JURISDICTION = QueryParam("jurisdiction", Code, "A jurisdiction code (GB/T 2260)")
REGION = QueryParam("region", Code, "A jurisdiction code (GB/T 2260)")
YEAR = QueryParam("year", Annotated[int, Field(ge=2000, le=2100)])
Q = QueryParam("q", Annotated[str, StringConstraints(max_length=200)], "Part of the name")
LIMIT = QueryParam("limit", Annotated[int, Field(ge=1, le=200)])
# a page of projects ends at a row id; the next page starts below it
CURSOR = QueryParam("cursor", Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,17}$")],
                    "The `next_cursor` of the page before")
# the queue's cursor holds the sort's value too; one of another sort is refused (422)
QUEUE_CURSOR = QueryParam("cursor", Annotated[str, StringConstraints(
    max_length=200, pattern=r"^[A-Za-z0-9_-]+$")], "The `next_cursor` of the page before")
STEP = QueryParam("step", Annotated[str, StringConstraints(max_length=40)], "A trigger name")
OVERDUE = QueryParam("overdue", bool)
SORT = QueryParam("sort", Literal["due", "newest", "investment"])
VERSION = QueryParam("version", Annotated[int, Field(ge=1, le=10_000)])

PROJECT_QUERY = (STATUS, INDUSTRY, JURISDICTION, YEAR, Q, LIMIT, CURSOR)
MARKET_QUERY = (INDUSTRY, LIMIT, CURSOR)
QUEUE_QUERY = (STEP, INDUSTRY, REGION, YEAR, OVERDUE, SORT, LIMIT, QUEUE_CURSOR)
STATS_QUERY = (JURISDICTION, YEAR)
PROJECT = QueryParam("project", Annotated[str, StringConstraints(max_length=64)], "A project's id")
PROGRESS_QUERY = (PROJECT, QueryParam("problems", Literal["open"],
                                      "`open`: only problems awaiting an answer"), LIMIT, CURSOR)
SUBSIDY_QUERY = (PROJECT,
                 QueryParam("programme", Annotated[str, StringConstraints(max_length=64)],
                            "A programme's key"),
                 QueryParam("period", Annotated[str, StringConstraints(max_length=16)],
                            "A claim's period, e.g. 2025Q3"))


class DesignationsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[Annotated[str, StringConstraints(max_length=32)]] = Field(max_length=10)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
