"""Forms of the patterns pages: the filter bar (GET) and leads' curation actions (POST, CSRF)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..labels import label
from ..models import Hosting
from ..services.patterns.summaries import SORTS

VERSION_SEPARATOR = "::"


def _clean(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; surrounding blanks mean nothing in a name.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class PatternFilterForm(FlaskForm):
    """Filters and sort of /patterns; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    product = SelectField(_l("Product"), default="", validate_choice=False)
    version = SelectField(_l("Version"), default="", validate_choice=False)
    hosting = SelectField(_l("Hosting"), default="", validate_choice=False)
    database = SelectField(_l("Database"), default="", validate_choice=False)
    space = SelectField(_l("Space"), default="", validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=list(SORTS.items()), default="reach", validate_choice=False)

    def set_choices(self, products: list[str], versions: list[tuple[str, str]], databases: list[str],
                    spaces: list[tuple[int, str]]) -> None:
        """Fill the selects; every one starts with 'any'."""
        anything = [("", _l("Any"))]
        self.product.choices = anything + [(p, p) for p in products]
        self.version.choices = anything + [(f"{p}{VERSION_SEPARATOR}{v}", f"{p} {v}") for p, v in versions]
        self.hosting.choices = anything + [(h.value, label(h.value)) for h in Hosting]
        self.database.choices = anything + [(d, d) for d in databases]
        self.space.choices = anything + [(str(sid), name) for sid, name in spaces]

    def chosen(self, field) -> str:
        """The submitted value if it is one of the field's choices, else '' (unknown values filter nothing)."""
        value = field.data or ""
        return value if value in {str(v) for v, _ in field.choices} else ""


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (mine now, dismiss, restore)."""


class RenameForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_clean], validators=[DataRequired(_l("Give the pattern a name.")),
                                                             Length(max=200)])


class DescriptionForm(FlaskForm):
    description = TextAreaField(_l("Description"), filters=[_clean], validators=[Length(max=5000)])


def _pattern_id(value) -> int | None:
    return int(value) if value not in ("", None) else None


class MergeForm(FlaskForm):
    target = SelectField(_l("Merge into"), coerce=_pattern_id, validators=[DataRequired(_l("Choose a pattern."))])

    def set_targets(self, choices: list[tuple[int, str]]) -> None:
        """The patterns this one may merge into, after an empty placeholder that is selected until a lead
        chooses: a merge (which closes this pattern) is never one click on whatever came first."""
        self.target.choices = [("", _l("Choose a pattern…"))] + list(choices) if choices else []


_THREAD_REF = re.compile(r"^(?:.*/t/)?#?(\d{1,9})/?$")


def _thread_reference(form: FlaskForm, field) -> None:
    match = _THREAD_REF.match(field.data or "")
    if not match:
        raise ValidationError(_l("Give a thread number or a thread link such as /t/123."))
    field.thread_id = int(match.group(1))


class FileThreadForm(FlaskForm):
    """File a thread into this pattern, by number or link."""

    thread = StringField(_l("Thread number or link"), filters=[_clean],
                         validators=[DataRequired(_l("Give a thread number or link.")), Length(max=300),
                                     _thread_reference])


class ExcludeThreadForm(FlaskForm):
    """File one member thread out of the pattern."""

    thread_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])
