"""The bodies API v1 accepts besides a project's own fields (`rules.project_input`): each
model validates a request and describes it in the OpenAPI document."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from ..models import AgencyKind, OrgKind


class HoldRequest(BaseModel):
    """Claiming, releasing or reassigning an owed step (`to`, `reason`: a reassignment)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    version: int | None = Field(default=None, ge=1)
    to: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class TransitionRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    trigger: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    version: int = Field(ge=1)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)


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

    version: int = Field(ge=1)
    banks: list[Annotated[str, StringConstraints(max_length=36)]] = Field(max_length=10)
