"""Forms of moderation and workflow: flags and their review, thread moderation, assignments, admin settings."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import FlagReason, Visibility
from .board import VISIBILITY_LABELS, _no_nul, _strip

REASON_LABELS = {
    FlagReason.SPAM: "Spam or advertising",
    FlagReason.OFFENSIVE: "Rude or offensive",
    FlagReason.OFF_TOPIC: "Off topic or in the wrong space",
    FlagReason.CONFIDENTIAL: "Shares confidential details (keys, host names, personal data)",
    FlagReason.DUPLICATE: "Duplicate of another thread",
    FlagReason.OTHER: "Something else",
}


class FlagForm(FlaskForm):
    reason = SelectField("Why should a moderator look at this?",
                         choices=[SelectChoice(r.value, label) for r, label in REASON_LABELS.items()])
    detail = TextAreaField("Details (optional)", filters=[_strip], validators=[Optional(), Length(max=1000)])


class ReviewForm(FlaskForm):
    decision = StringField("Decision", validators=[InputRequired(), AnyOf(["resolved", "dismissed"])])
    note = StringField("Note", filters=[_strip], validators=[Optional(), Length(max=1000)])


class ToggleForm(FlaskForm):
    """Lock/unlock, pin/unpin, hide/unhide: ``on`` is 1 or 0."""

    on = StringField("On", validators=[InputRequired(), AnyOf(["0", "1"])])


class MoveForm(FlaskForm):
    space = SelectField("Move to space", coerce=int, validate_choice=True)


class VisibilityForm(FlaskForm):
    visibility = SelectField("Who can see it", choices=[SelectChoice(v.value, VISIBILITY_LABELS[v]) for v in Visibility])
    confirm_public = BooleanField("Yes, make this thread and all its replies visible to every member")


class MergeForm(FlaskForm):
    target = IntegerField("Merge into thread number", validators=[DataRequired("Give the target thread's number."),
                                                                 NumberRange(min=1, max=2**31 - 1)])


class InternalDiscussionForm(FlaskForm):
    title = StringField("Title of the internal discussion", filters=[_strip], validators=[Optional(), Length(max=200)])
    body = TextAreaField("First post (Markdown, optional)", filters=[_no_nul], validators=[Optional(), Length(max=50_000)])
    existing = IntegerField("…or link an existing internal thread (number)",
                            validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])


class AssignForm(FlaskForm):
    assignee = SelectField("Assignee", coerce=int, validate_choice=True)
    due_at = DateTimeLocalField("Due", format="%Y-%m-%dT%H:%M", validators=[DataRequired("Give a due date.")])


class SpaceModeratorForm(FlaskForm):
    space = SelectField("Space", coerce=int, validate_choice=True)
    user = SelectField("Employee", coerce=int, validate_choice=True)


class LimitsForm(FlaskForm):
    new_user_hours = IntegerField("A member counts as new for (hours)", validators=[InputRequired(), NumberRange(0, 24 * 90)])
    new_user_max_threads = IntegerField("Threads a new member may start", validators=[InputRequired(), NumberRange(0, 1000)])
    new_user_max_links = IntegerField("Links per post from a new member", validators=[InputRequired(), NumberRange(0, 1000)])
