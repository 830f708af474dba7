"""Forms for organisation pages: deployment profiles and invitation links."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..models import Environment, Hosting

HOSTING_CHOICES = [SelectChoice(Hosting.CLOUD.value, _l("Cloud")), SelectChoice(Hosting.ON_PREMISES.value, _l("On-premises")),
                   SelectChoice(Hosting.HYBRID.value, _l("Hybrid"))]
ENVIRONMENT_CHOICES = [SelectChoice(Environment.PRODUCTION.value, _l("Production")),
                       SelectChoice(Environment.TEST.value, _l("Test"))]
TOPOLOGY_SUGGESTIONS = ["single node", "cluster", "HA pair"]


def grouped_choices(groups: dict[str, list[tuple[int, str]]]) -> list[SelectChoice]:
    """Options in one ``<optgroup>`` per group (product), as ``catalog.version_choices`` returns them."""
    return [SelectChoice(value, label, optgroup=group) for group, items in groups.items() for value, label in items]


class DeploymentForm(FlaskForm):
    """A deployment profile; the view fills ``product_version.choices`` from the catalog."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("How your team calls it, e.g. “EU production”."))
    product_version = SelectField(_l("Product and version"), coerce=int,
                                  validators=[DataRequired(message=_l("Choose a product version."))])
    edition = StringField(_l("Edition"), validators=[Optional(), Length(max=40)])
    hosting = SelectField(_l("Hosting"), choices=HOSTING_CHOICES, default=Hosting.ON_PREMISES.value)
    database = StringField(_l("Database"), validators=[Optional(), Length(max=60)],
                           description=_l("e.g. PostgreSQL 15, Oracle 19c"))
    operating_system = StringField(_l("Operating system"), validators=[Optional(), Length(max=60)])
    topology = StringField(_l("Topology"), validators=[Optional(), Length(max=60)],
                           render_kw={"list": "topology-suggestions", "autocomplete": "off"},
                           description=_l("single node, cluster, HA pair — or your own words"))
    integrations = StringField(_l("Integrations"), validators=[Optional(), Length(max=1000)],
                               description=_l("Comma-separated, e.g. sap, salesforce, ldap"))
    environment = SelectField(_l("Environment"), choices=ENVIRONMENT_CHOICES, default=Environment.PRODUCTION.value)
    go_live = DateField(_l("Go-live date"), validators=[Optional()])
    size_users = IntegerField(_l("Size (users)"), validators=[
        Optional(), NumberRange(min=0, max=10_000_000, message=_l("A number of users from 0 to 10,000,000."))],
        render_kw={"min": 0, "inputmode": "numeric"})


class InvitationForm(FlaskForm):
    """Create an invitation link into one organisation."""

    email = EmailField(_l("Email (optional)"), validators=[Optional(), Length(max=254), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid email address."))],
                       description=_l("Only this address may use the link, if given."))
    grants_org_admin = BooleanField(_l("The new member becomes an organisation admin"))
