"""Forms for single sign-on: starting it from the login page, and an organisation's provider settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SsoStartForm(FlaskForm):
    # Posted by the login form's "Continue with single sign-on" button: the same email field routes by domain.
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your work email address.")), Length(max=254)])
    next = HiddenField()


class SsoProviderForm(FlaskForm):
    label = StringField(_l("Button label"), validators=[Length(max=80)],
                        render_kw={"placeholder": _l("Aldercrest SSO")})
    issuer = StringField(_l("Issuer"), validators=[DataRequired(_l("Enter the issuer.")), Length(max=500)],
                         render_kw={"placeholder": _l("https://login.aldercrest.example/"), "spellcheck": "false"})
    client_id = StringField(_l("Client ID"), validators=[DataRequired(_l("Enter the client ID.")), Length(max=200)],
                            render_kw={"spellcheck": "false"})
    client_secret = PasswordField(_l("Client secret (leave empty to keep the stored one)"),
                                  validators=[Length(max=500)], render_kw={"autocomplete": "off"})
    email_domains = StringField(_l("Email domains (comma-separated)"),
                                validators=[DataRequired(_l("List the email domains.")), Length(max=1000)],
                                render_kw={"placeholder": _l("aldercrest.example"), "spellcheck": "false"})
    sso_only = BooleanField(_l("Single sign-on only: refuse passwords for this organisation's members"))
    enabled = BooleanField(_l("Enabled"), default=True)
