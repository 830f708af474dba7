"""Forms of direct messages: a new conversation, a message, a report."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .board import MaxLengthFromConfig, _no_nul, _not_blank, _strip
from .moderation import REASON_LABELS


class NewConversationForm(FlaskForm):
    to = StringField(_l("To"), filters=[_strip], validators=[DataRequired(_l("Name at least one member.")), Length(max=400)],
                     description=_l("Usernames, separated by commas (up to 7 people)."))
    subject = StringField(_l("Subject"), filters=[_strip], validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Message (Markdown)"), filters=[_no_nul],
                         validators=[_not_blank, MaxLengthFromConfig("POST_MAX_LENGTH")])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Your message (Markdown)"), filters=[_no_nul],
                         validators=[_not_blank, MaxLengthFromConfig("POST_MAX_LENGTH")])


class ReportMessageForm(FlaskForm):
    reason = SelectField(_l("Why should a moderator look at this message?"),
                         choices=[SelectChoice(r.value, label) for r, label in REASON_LABELS.items()])
    detail = TextAreaField(_l("Details (optional)"), filters=[_strip], validators=[Optional(), Length(max=1000)])
