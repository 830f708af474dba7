"""Forms for signing in, registering and managing one's account."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from ..languages import LANGUAGES
from ..passwords import MAX_LENGTH, MIN_LENGTH

# Deliberately loose: the invitation and the mailbox are the real check, this only catches typos.
_EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an email address such as name@example.com."))
PASSWORD_HINT = _l("At least %(num)d characters. A few unrelated words work well; common passwords are refused.",
                   num=MIN_LENGTH)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
                       filters=[_strip],
                       render_kw={"autocomplete": "username", "autofocus": True, "spellcheck": "false",
                                  "autocapitalize": "none"})
    # No length policy here: old accounts must still sign in; only a cap against huge inputs.
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                     Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class RegisterForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254), _EMAIL],
                       filters=[_strip],
                       render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})
    username = StringField(_l("Username"), validators=[DataRequired(_l("Choose a username.")), Length(min=3, max=40)],
                           render_kw={"autocomplete": "username", "spellcheck": "false",
                                      "autocapitalize": "none", "pattern": r"[A-Za-z0-9][A-Za-z0-9_.\-]{2,39}"})
    display_name = StringField(_l("Display name"), validators=[DataRequired(_l("Enter your name.")), Length(max=80)],
                               render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")),
                                                     Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH,
                                        "aria-describedby": "password-hint"})
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(_l("Repeat the password.")),
                                        EqualTo("password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password.")),
                                                 Length(max=MAX_LENGTH)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a new password.")),
                                                             Length(max=MAX_LENGTH)],
                                 render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH,
                                            "aria-describedby": "password-hint"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(_l("Repeat the new password.")),
                                        EqualTo("new_password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(_l("Enter your name.")), Length(max=80)],
                               render_kw={"autocomplete": "name"})
    bio = TextAreaField(_l("About you"), validators=[Length(max=2000)],
                        description=_l("A line or two: your role, the products you work with."))
    # Each language is offered in its own name, so a member who picked one by mistake can find theirs again.
    locale = SelectField(_l("Language"), choices=[SelectChoice("", _l("As my browser asks"))]
                         + [SelectChoice(code, name) for code, name in LANGUAGES.items()],
                         description=_l("The language of the forum's pages for you."))
