"""Forms for the admin pages: catalog, organisations, engagements, spaces and user flags."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..models import OrgKind, Visibility

SLUG_HINT = _l("Lowercase letters, digits and hyphens. Leave empty to keep it (or derive it from the name).")
KIND_CHOICES = [SelectChoice(OrgKind.CUSTOMER.value, _l("Customer")), SelectChoice(OrgKind.PARTNER.value, _l("Partner firm")),
                SelectChoice(OrgKind.VENDOR.value, _l("Vendor"))]
VISIBILITY_CHOICES = [SelectChoice(Visibility.PUBLIC.value, _l("Public (every signed-in member)")),
                      SelectChoice(Visibility.ORG_PRIVATE.value, _l("Organisation-private")),
                      SelectChoice(Visibility.INTERNAL.value, _l("Internal (employees only)"))]


def _position(description: str) -> IntegerField:
    return IntegerField(_l("Order"), validators=[Optional(), NumberRange(min=0, max=100_000)], description=description)


class ProductForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    slug = StringField(_l("Slug"), validators=[Optional(), Length(max=80)], description=SLUG_HINT)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class VersionForm(FlaskForm):
    name = StringField(_l("Version"), validators=[DataRequired(), Length(max=40)], description=_l("e.g. 7.2 or 2026.1"))
    position = _position(_l("Place in the product's version list: 0 is first. Empty puts a new version last "
                            "and keeps an existing one where it is."))
    released_on = DateField(_l("Release date"), validators=[Optional()])


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default=OrgKind.CUSTOMER.value)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class OrganisationEditForm(FlaskForm):
    """The kind is fixed once people belong to an organisation: it decides their role."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class EngagementForm(FlaskForm):
    """Partner -> customer; the kinds are checked by the service so a wrong pair gets a clear message."""

    partner = SelectField(_l("Partner firm"), coerce=int, validate_choice=False,
                          validators=[DataRequired(message=_l("Choose a partner firm."))])
    customer = SelectField(_l("Customer"), coerce=int, validate_choice=False,
                           validators=[DataRequired(message=_l("Choose a customer."))])


class SpaceForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    slug = StringField(_l("Slug"), validators=[Optional(), Length(max=80)], description=SLUG_HINT)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    default_visibility = SelectField(_l("Default visibility"), choices=VISIBILITY_CHOICES,
                                     default=Visibility.PUBLIC.value)
    position = _position(_l("Spaces are listed by this number, smallest first. Empty puts a new space last."))
    staff_posts_only = BooleanField(_l("Announcements: only vendor employees start threads here (everyone may reply)"))
    ideas = BooleanField(_l("Product ideas: every thread is an idea members vote for; staff set its status"))


class UserFlagsForm(FlaskForm):
    is_org_admin = BooleanField(_l("Organisation admin (manages deployments and invitations of their organisation)"))
    is_lead = BooleanField(_l("Implementation lead (employees only)"))
    is_moderator = BooleanField(_l("Moderator (employees only)"))
    is_admin = BooleanField(_l("Admin (employees only)"))
