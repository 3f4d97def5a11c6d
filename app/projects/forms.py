"""Web forms. They coerce types; the rules live in the operations and `app.rules`, whose
field errors are shown beside the same fields."""

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

from ..i18n import lazy_gettext as _l
from ..labels import (
    ATTACHMENT_LABELS,
    FIELD_LABELS,
    POLICY_CLASS_LABELS,
    TASK_LABELS,
    key_industries,
)
from ..rules.project_values import equipment_total_problem, new_equipment_subtotal


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class AmountField(DecimalField):
    """An amount in 万元: accepts thousands separators, shows them back."""

    widget = TextInput(input_type="text")

    def process_formdata(self, valuelist):
        if valuelist:
            raw = valuelist[0].replace(",", "").replace("，", "").replace(" ", "")
            if not raw:
                self.data = None
                return
            try:
                self.data = Decimal(raw)
            except InvalidOperation:
                self.data = None
                raise ValueError(self.gettext("Not a valid decimal value.")) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = f"{self.data:,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


def _optional(label, field=StringField, **kw):
    return field(label, validators=[Optional()], **kw)


class EquipmentRowForm(Form):
    kind = SelectField(_l("Kind"), choices=choices([("new", _l("New (to buy)")),
                                                    ("old", _l("Old (to retire)"))]))
    name = StringField(_l("Equipment name"), validators=[Optional(), Length(max=200)])
    model = StringField(_l("Model / specification"), validators=[Optional(), Length(max=200)])
    quantity = _optional(_l("Quantity"), IntegerField)
    unit_price = _optional(_l("Unit price"), AmountField)
    years_in_service = _optional(_l("Years in service"), IntegerField)
    energy_grade = SelectField(_l("Energy-efficiency grade"),
                               choices=choices([("", "—"), ("1", "1"), ("2", "2"), ("3", "3")]),
                               default="")

    def is_blank(self) -> bool:
        return not (self.name.data or self.quantity.data or self.unit_price.data)


class ProjectForm(FlaskForm):
    name = StringField(FIELD_LABELS["name"], validators=[DataRequired(), Length(max=200)])
    jurisdiction = SelectField(FIELD_LABELS["jurisdiction"], validators=[DataRequired()])
    address = _optional(FIELD_LABELS["address"])
    contact_name = _optional(FIELD_LABELS["contact_name"])
    contact_phone = _optional(FIELD_LABELS["contact_phone"])
    industry = SelectField(FIELD_LABELS["industry"], default="",
                           choices=choices([("", "—"), *((i, i) for i in key_industries())]))
    task = SelectField(FIELD_LABELS["task"],
                       choices=choices([("", "—"), *TASK_LABELS.items()]), default="")
    batch_year = _optional(FIELD_LABELS["batch_year"], IntegerField)
    policy_class = SelectField(FIELD_LABELS["policy_class"],
                               choices=choices([("", "—"), *POLICY_CLASS_LABELS.items()]),
                               default="")
    content = _optional(FIELD_LABELS["content"], TextAreaField)
    total_investment = _optional(FIELD_LABELS["total_investment"], AmountField)
    fixed_asset_investment = _optional(FIELD_LABELS["fixed_asset_investment"], AmountField)
    equipment_investment = _optional(FIELD_LABELS["equipment_investment"], AmountField)
    retired_equipment_value = _optional(FIELD_LABELS["retired_equipment_value"], AmountField)
    annual_investment = _optional(FIELD_LABELS["annual_investment"], AmountField)
    new_land = BooleanField(FIELD_LABELS["new_land"])
    energy_tce = _optional(FIELD_LABELS["energy_tce"], IntegerField)
    electricity_kwh = _optional(FIELD_LABELS["electricity_kwh"], IntegerField)
    planned_start = _optional(FIELD_LABELS["planned_start"], DateField)
    planned_end = _optional(FIELD_LABELS["planned_end"], DateField)
    financing_need = _optional(FIELD_LABELS["financing_need"], AmountField)
    financing_term_months = _optional(FIELD_LABELS["financing_term_months"], IntegerField)
    financing_purpose = _optional(FIELD_LABELS["financing_purpose"])
    project_code = _optional(FIELD_LABELS["project_code"])
    equipment = FieldList(FormField(EquipmentRowForm), min_entries=1, max_entries=200)

    def validate_equipment_investment(self, field):
        """The rows of equipment to buy add up to the equipment investment (the form lists
        them all; the rule and its tolerance: rules/project_values.py)."""
        problem = equipment_total_problem(field.data, self.payload()["equipment"])
        if problem:
            raise ValidationError(problem)

    def equipment_subtotal(self):
        return new_equipment_subtotal(self.payload()["equipment"])

    def payload(self) -> dict:
        """The form's values for the service: blanks as None, empty equipment rows dropped."""
        values = {name: self[name].data for name in self._fields
                  if name not in ("csrf_token", "equipment")}
        values = {k: (None if v == "" else v) for k, v in values.items()}
        values["equipment"] = [
            {"kind": row.kind.data, "name": (row.name.data or "").strip(),
             "model": (row.model.data or "").strip() or None,
             "quantity": row.quantity.data, "unit_price": row.unit_price.data,
             "years_in_service": row.years_in_service.data,
             "energy_grade": int(row.energy_grade.data) if row.energy_grade.data else None}
            for row in (entry.form for entry in self.equipment) if not row.is_blank()]
        return values


class AttachmentForm(FlaskForm):
    kind = SelectField(_l("Kind of file"), choices=choices(ATTACHMENT_LABELS.items()))
    file = FileField(_l("File"), validators=[FileRequired()])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=2000)])
