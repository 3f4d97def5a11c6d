"""What an enterprise may write into a project: one schema for the API and the web form."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..i18n import gettext as _
from ..models import EquipmentKind, PolicyClass, Task
from ..validation import PATTERN_HINTS
from .money import MAX_AMOUNT

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Amount = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, max_digits=16, decimal_places=4)]
CountyCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
# 项目代码 of the national online investment approval platform: YYMM-RRRRRR-DD-TT-NNNNNN.
# 联系电话: a mainland mobile number (11 digits) or a landline with its area code, optionally
# with an extension: 13912345678, 0379-64561234, 010-12345678-801.
PHONE_PATTERN = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$"
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=PHONE_PATTERN)]
PATTERN_HINTS[PHONE_PATTERN] = lambda: _("A mobile number (11 digits) or a landline with its "
                                         "area code, e.g. 0379-64561234.")
ProjectCode = Annotated[
    str, StringConstraints(pattern=r"^\d{2}(0[1-9]|1[0-2])-\d{6}-\d{2}-\d{2}-\d{6}$")]


class EquipmentInput(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    kind: EquipmentKind
    name: Name
    model: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Amount | None = None
    years_in_service: int | None = Field(default=None, ge=0, le=100)
    energy_grade: int | None = Field(default=None, ge=1, le=3)


class ProjectFields(BaseModel):
    """Every field optional: a draft may be saved half-filled; `submit` checks completeness."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Name | None = None
    jurisdiction: CountyCode | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    contact_name: ShortText | None = None
    contact_phone: Phone | None = None
    industry: ShortText | None = None
    task: Task | None = None
    policy_class: PolicyClass | None = None
    batch_year: int | None = Field(default=None, ge=2024, le=2035)
    content: LongText | None = None
    total_investment: Amount | None = None
    fixed_asset_investment: Amount | None = None
    equipment_investment: Amount | None = None
    retired_equipment_value: Amount | None = None
    annual_investment: Amount | None = None
    new_land: bool | None = None
    energy_tce: int | None = Field(default=None, ge=0, le=100_000_000)
    electricity_kwh: int | None = Field(default=None, ge=0, le=10**13)
    planned_start: date | None = None
    planned_end: date | None = None
    financing_need: Amount | None = None
    financing_term_months: int | None = Field(default=None, ge=1, le=600)
    financing_purpose: Annotated[str, StringConstraints(strip_whitespace=True,
                                                        max_length=500)] | None = None
    project_code: ProjectCode | None = None
    equipment: list[EquipmentInput] | None = Field(default=None, max_length=200)


class ProjectCreate(ProjectFields):
    name: Name
    jurisdiction: CountyCode


class ProjectPatch(ProjectFields):
    version: int = Field(ge=1, le=2**31 - 1)
    # A new legal entity for a filed project (always through a change filing).
    enterprise_credit_code: Annotated[str, StringConstraints(max_length=40)] | None = None
