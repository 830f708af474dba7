"""Forms for organisation pages: deployment profiles and invitation links."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..models import Environment, Hosting

HOSTING_CHOICES = [SelectChoice(Hosting.CLOUD.value, "Cloud"), SelectChoice(Hosting.ON_PREMISES.value, "On-premises"),
                   SelectChoice(Hosting.HYBRID.value, "Hybrid")]
ENVIRONMENT_CHOICES = [SelectChoice(Environment.PRODUCTION.value, "Production"),
                       SelectChoice(Environment.TEST.value, "Test")]
TOPOLOGY_SUGGESTIONS = ["single node", "cluster", "HA pair"]


def grouped_choices(groups: dict[str, list[tuple[int, str]]]) -> list[SelectChoice]:
    """Options in one ``<optgroup>`` per group (product), as ``catalog.version_choices`` returns them."""
    return [SelectChoice(value, label, optgroup=group) for group, items in groups.items() for value, label in items]


class DeploymentForm(FlaskForm):
    """A deployment profile; the view fills ``product_version.choices`` from the catalog."""

    name = StringField("Name", validators=[DataRequired(), Length(max=80)],
                       description="How your team calls it, e.g. “EU production”.")
    product_version = SelectField("Product and version", coerce=int,
                                  validators=[DataRequired(message="Choose a product version.")])
    edition = StringField("Edition", validators=[Optional(), Length(max=40)])
    hosting = SelectField("Hosting", choices=HOSTING_CHOICES, default=Hosting.ON_PREMISES.value)
    database = StringField("Database", validators=[Optional(), Length(max=60)],
                           description="e.g. PostgreSQL 15, Oracle 19c")
    operating_system = StringField("Operating system", validators=[Optional(), Length(max=60)])
    topology = StringField("Topology", validators=[Optional(), Length(max=60)],
                           render_kw={"list": "topology-suggestions", "autocomplete": "off"},
                           description="single node, cluster, HA pair — or your own words")
    integrations = StringField("Integrations", validators=[Optional(), Length(max=1000)],
                               description="Comma-separated, e.g. sap, salesforce, ldap")
    environment = SelectField("Environment", choices=ENVIRONMENT_CHOICES, default=Environment.PRODUCTION.value)
    go_live = DateField("Go-live date", validators=[Optional()])
    size_users = IntegerField("Size (users)", validators=[
        Optional(), NumberRange(min=0, max=10_000_000, message="A number of users from 0 to 10,000,000.")],
        render_kw={"min": 0, "inputmode": "numeric"})


class InvitationForm(FlaskForm):
    """Create an invitation link into one organisation."""

    email = EmailField("Email (optional)", validators=[Optional(), Length(max=254), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid email address.")],
                       description="Only this address may use the link, if given.")
    grants_org_admin = BooleanField("The new member becomes an organisation admin")
