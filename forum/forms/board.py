"""Forms of the board: asking, replying, editing and the small action forms on a thread page."""
from __future__ import annotations

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, ValidationError

from ..models import ThreadKind, Visibility


class MaxLengthFromConfig:
    """Length limit read from the app config when validating, so deployments (and tests) can tune it."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, form: FlaskForm, field) -> None:
        limit = int(current_app.config[self.key])
        if field.data and len(field.data) > limit:
            raise ValidationError(
                _("This can be at most %(limit)s characters long (it has %(length)s).",
                  limit=format_decimal(limit), length=format_decimal(len(field.data))))


def _not_blank(form: FlaskForm, field) -> None:
    if not (field.data or "").strip():
        raise ValidationError(_l("This field cannot be empty."))


def _strip(value: str | None) -> str | None:
    return _no_nul(value).strip() if isinstance(value, str) else value


def _no_nul(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; drop it instead of failing on save.
    return value.replace("\x00", "") if isinstance(value, str) else value


KIND_LABELS = {ThreadKind.QUESTION: _l("Question"), ThreadKind.DISCUSSION: _l("Discussion"),
               ThreadKind.ANNOUNCEMENT: _l("Announcement")}
VISIBILITY_LABELS = {Visibility.PUBLIC: _l("Public — every signed-in member"),
                     Visibility.ORG_PRIVATE: _l("Private — my organisation, its partners and the vendor"),
                     Visibility.INTERNAL: _l("Internal — vendor employees only")}


def title_field() -> StringField:
    return StringField(_l("Title"), filters=[_strip],
                       validators=[DataRequired(_l("Give your thread a title.")), MaxLengthFromConfig("TITLE_MAX_LENGTH")])


def body_field(label: str) -> TextAreaField:
    return TextAreaField(label, filters=[_no_nul], validators=[_not_blank, MaxLengthFromConfig("POST_MAX_LENGTH")])


class AskForm(FlaskForm):
    """Start a thread. Choices are filled by the view from what the user may pick."""

    title = title_field()
    body = body_field(_l("Question (Markdown)"))
    space = SelectField(_l("Space"), coerce=int, validate_choice=True)
    kind = SelectField(_l("Kind"), default=ThreadKind.QUESTION.value)
    visibility = SelectField(_l("Who can see it"))
    tags = StringField(_l("Tags"), filters=[_strip], description=_l("Comma-separated, at most 5, e.g. upgrade, sso"))
    deployment = SelectField(_l("Deployment"), coerce=int, default=0)

    def set_choices(self, spaces, kinds, visibilities, deployments) -> None:
        """Offer only what the user may choose; anything else fails validation as an invalid choice."""
        self.space.choices = [(s.id, s.name) for s in spaces]
        self.kind.choices = [(k.value, KIND_LABELS[k]) for k in kinds]
        self.visibility.choices = [(v.value, VISIBILITY_LABELS[v]) for v in visibilities]
        self.deployment.choices = [(0, _l("None"))] + [
            (d.id, f"{d.name} — {d.product_version.label}") for d in deployments]


class EditThreadForm(FlaskForm):
    title = title_field()
    body = body_field(_l("Text (Markdown)"))
    tags = StringField(_l("Tags"), filters=[_strip], description=_l("Comma-separated, at most 5"))


class ReplyForm(FlaskForm):
    body = body_field(_l("Your reply (Markdown)"))
    staff_note = BooleanField(_l("Staff note — only vendor employees will see it"))


class EditReplyForm(FlaskForm):
    body = body_field(_l("Reply (Markdown)"))


class VoteForm(FlaskForm):
    value = StringField(_l("Vote"), validators=[InputRequired(), AnyOf(["1", "-1"], _l("A vote is 1 or -1."))])


class ConfirmForm(FlaskForm):
    deployment = SelectField(_l("At which deployment did it work?"), coerce=int)


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (accept, delete, ask for staff)."""
