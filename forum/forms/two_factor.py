"""Forms for the second factor: the sign-in challenge and setting up an authenticator app."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class ChallengeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(_l("Enter the code.")), Length(max=64)],
                       render_kw={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false",
                                  "autocapitalize": "none"})
    remember = BooleanField(_l("Remember this device for 30 days"))


class SetupForm(FlaskForm):
    code = StringField(_l("Six-digit code your app shows now"),
                       validators=[DataRequired(_l("Enter the code your app shows.")), Length(max=16)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})
