"""Forms of moderation and workflow: flags and their review, thread moderation, assignments, admin settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import FlagReason, Visibility
from .board import VISIBILITY_LABELS, _no_nul, _strip

REASON_LABELS = {
    FlagReason.SPAM: _l("Spam or advertising"),
    FlagReason.OFFENSIVE: _l("Rude or offensive"),
    FlagReason.OFF_TOPIC: _l("Off topic or in the wrong space"),
    FlagReason.CONFIDENTIAL: _l("Shares confidential details (keys, host names, personal data)"),
    FlagReason.DUPLICATE: _l("Duplicate of another thread"),
    FlagReason.OTHER: _l("Something else"),
}


class FlagForm(FlaskForm):
    reason = SelectField(_l("Why should a moderator look at this?"),
                         choices=[SelectChoice(r.value, label) for r, label in REASON_LABELS.items()])
    detail = TextAreaField(_l("Details (optional)"), filters=[_strip], validators=[Optional(), Length(max=1000)])


class ReviewForm(FlaskForm):
    decision = StringField(_l("Decision"), validators=[InputRequired(), AnyOf(["resolved", "dismissed"])])
    note = StringField(_l("Note"), filters=[_strip], validators=[Optional(), Length(max=1000)])


class ToggleForm(FlaskForm):
    """Lock/unlock, pin/unpin, hide/unhide: ``on`` is 1 or 0."""

    on = StringField(_l("On"), validators=[InputRequired(), AnyOf(["0", "1"])])


class MoveForm(FlaskForm):
    space = SelectField(_l("Move to space"), coerce=int, validate_choice=True)


class VisibilityForm(FlaskForm):
    visibility = SelectField(_l("Who can see it"), choices=[SelectChoice(v.value, VISIBILITY_LABELS[v]) for v in Visibility])
    confirm_public = BooleanField(_l("Yes, make this thread and all its replies visible to every member"))


class MergeForm(FlaskForm):
    target = IntegerField(_l("Merge into thread number"), validators=[DataRequired(_l("Give the target thread's number.")),
                                                                 NumberRange(min=1, max=2**31 - 1)])


class InternalDiscussionForm(FlaskForm):
    title = StringField(_l("Title of the internal discussion"), filters=[_strip], validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("First post (Markdown, optional)"), filters=[_no_nul], validators=[Optional(), Length(max=50_000)])
    existing = IntegerField(_l("…or link an existing internal thread (number)"),
                            validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assignee"), coerce=int, validate_choice=True)
    due_at = DateTimeLocalField(_l("Due"), format="%Y-%m-%dT%H:%M", validators=[DataRequired(_l("Give a due date."))])


class SpaceModeratorForm(FlaskForm):
    space = SelectField(_l("Space"), coerce=int, validate_choice=True)
    user = SelectField(_l("Employee"), coerce=int, validate_choice=True)


class LimitsForm(FlaskForm):
    new_user_hours = IntegerField(_l("A member counts as new for (hours)"), validators=[InputRequired(), NumberRange(0, 24 * 90)])
    new_user_max_threads = IntegerField(_l("Threads a new member may start"), validators=[InputRequired(), NumberRange(0, 1000)])
    new_user_max_links = IntegerField(_l("Links per post from a new member"), validators=[InputRequired(), NumberRange(0, 1000)])
