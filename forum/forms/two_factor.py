"""Forms for the second factor: the sign-in challenge and setting up an authenticator app."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class ChallengeForm(FlaskForm):
    code = StringField("Code from your authenticator app, or a recovery code",
                       validators=[DataRequired("Enter the code."), Length(max=64)],
                       render_kw={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false",
                                  "autocapitalize": "none"})
    remember = BooleanField("Remember this device for 30 days")


class SetupForm(FlaskForm):
    code = StringField("Six-digit code your app shows now",
                       validators=[DataRequired("Enter the code your app shows."), Length(max=16)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})
