"""Forms of the board: asking, replying, editing and the small action forms on a thread page."""
from __future__ import annotations

from flask import current_app
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
                f"This can be at most {limit:,} characters long (it has {len(field.data):,}).")


def _not_blank(form: FlaskForm, field) -> None:
    if not (field.data or "").strip():
        raise ValidationError("This field cannot be empty.")


def _strip(value: str | None) -> str | None:
    return _no_nul(value).strip() if isinstance(value, str) else value


def _no_nul(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; drop it instead of failing on save.
    return value.replace("\x00", "") if isinstance(value, str) else value


KIND_LABELS = {ThreadKind.QUESTION: "Question", ThreadKind.DISCUSSION: "Discussion",
               ThreadKind.ANNOUNCEMENT: "Announcement"}
VISIBILITY_LABELS = {Visibility.PUBLIC: "Public — every signed-in member",
                     Visibility.ORG_PRIVATE: "Private — my organisation, its partners and the vendor",
                     Visibility.INTERNAL: "Internal — vendor employees only"}


def title_field() -> StringField:
    return StringField("Title", filters=[_strip],
                       validators=[DataRequired("Give your thread a title."), MaxLengthFromConfig("TITLE_MAX_LENGTH")])


def body_field(label: str) -> TextAreaField:
    return TextAreaField(label, filters=[_no_nul], validators=[_not_blank, MaxLengthFromConfig("POST_MAX_LENGTH")])


class AskForm(FlaskForm):
    """Start a thread. Choices are filled by the view from what the user may pick."""

    title = title_field()
    body = body_field("Question (Markdown)")
    space = SelectField("Space", coerce=int, validate_choice=True)
    kind = SelectField("Kind", default=ThreadKind.QUESTION.value)
    visibility = SelectField("Who can see it")
    tags = StringField("Tags", filters=[_strip], description="Comma-separated, at most 5, e.g. upgrade, sso")
    deployment = SelectField("Deployment", coerce=int, default=0)

    def set_choices(self, spaces, kinds, visibilities, deployments) -> None:
        """Offer only what the user may choose; anything else fails validation as an invalid choice."""
        self.space.choices = [(s.id, s.name) for s in spaces]
        self.kind.choices = [(k.value, KIND_LABELS[k]) for k in kinds]
        self.visibility.choices = [(v.value, VISIBILITY_LABELS[v]) for v in visibilities]
        self.deployment.choices = [(0, "None")] + [
            (d.id, f"{d.name} — {d.product_version.label}") for d in deployments]


class EditThreadForm(FlaskForm):
    title = title_field()
    body = body_field("Text (Markdown)")
    tags = StringField("Tags", filters=[_strip], description="Comma-separated, at most 5")


class ReplyForm(FlaskForm):
    body = body_field("Your reply (Markdown)")
    staff_note = BooleanField("Staff note — only vendor employees will see it")


class EditReplyForm(FlaskForm):
    body = body_field("Reply (Markdown)")


class VoteForm(FlaskForm):
    value = StringField("Vote", validators=[InputRequired(), AnyOf(["1", "-1"], "A vote is 1 or -1.")])


class ConfirmForm(FlaskForm):
    deployment = SelectField("At which deployment did it work?", coerce=int)


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (accept, delete, ask for staff)."""
