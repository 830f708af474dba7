"""Forms for signing in, registering and managing one's account."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from ..passwords import MAX_LENGTH, MIN_LENGTH

# Deliberately loose: the invitation and the mailbox are the real check, this only catches typos.
_EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address such as name@example.com.")
PASSWORD_HINT = f"At least {MIN_LENGTH} characters. A few unrelated words work well; common passwords are refused."


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)],
                       filters=[_strip],
                       render_kw={"autocomplete": "username", "autofocus": True, "spellcheck": "false",
                                  "autocapitalize": "none"})
    # No length policy here: old accounts must still sign in; only a cap against huge inputs.
    password = PasswordField("Password", validators=[DataRequired("Enter your password."),
                                                     Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class RegisterForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254), _EMAIL],
                       filters=[_strip],
                       render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})
    username = StringField("Username", validators=[DataRequired("Choose a username."), Length(min=3, max=40)],
                           render_kw={"autocomplete": "username", "spellcheck": "false",
                                      "autocapitalize": "none", "pattern": r"[A-Za-z0-9][A-Za-z0-9_.\-]{2,39}"})
    display_name = StringField("Display name", validators=[DataRequired("Enter your name."), Length(max=80)],
                               render_kw={"autocomplete": "name"})
    password = PasswordField("Password", validators=[DataRequired("Choose a password."),
                                                     Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH,
                                        "aria-describedby": "password-hint"})
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired("Repeat the password."),
                                        EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired("Enter your current password."),
                                                 Length(max=MAX_LENGTH)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[DataRequired("Choose a new password."),
                                                             Length(max=MAX_LENGTH)],
                                 render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH,
                                            "aria-describedby": "password-hint"})
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired("Repeat the new password."),
                                        EqualTo("new_password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[DataRequired("Enter your name."), Length(max=80)],
                               render_kw={"autocomplete": "name"})
    bio = TextAreaField("About you", validators=[Length(max=2000)],
                        description="A line or two: your role, the products you work with.")
