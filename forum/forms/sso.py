"""Forms for single sign-on: starting it from the login page, and an organisation's provider settings."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SsoStartForm(FlaskForm):
    # Posted by the login form's "Continue with single sign-on" button: the same email field routes by domain.
    email = EmailField("Email", validators=[DataRequired("Enter your work email address."), Length(max=254)])
    next = HiddenField()


class SsoProviderForm(FlaskForm):
    label = StringField("Button label", validators=[Length(max=80)],
                        render_kw={"placeholder": "Aldercrest SSO"})
    issuer = StringField("Issuer", validators=[DataRequired("Enter the issuer."), Length(max=500)],
                         render_kw={"placeholder": "https://login.aldercrest.example/", "spellcheck": "false"})
    client_id = StringField("Client ID", validators=[DataRequired("Enter the client ID."), Length(max=200)],
                            render_kw={"spellcheck": "false"})
    client_secret = PasswordField("Client secret (leave empty to keep the stored one)",
                                  validators=[Length(max=500)], render_kw={"autocomplete": "off"})
    email_domains = StringField("Email domains (comma-separated)",
                                validators=[DataRequired("List the email domains."), Length(max=1000)],
                                render_kw={"placeholder": "aldercrest.example", "spellcheck": "false"})
    sso_only = BooleanField("Single sign-on only: refuse passwords for this organisation's members")
    enabled = BooleanField("Enabled", default=True)
