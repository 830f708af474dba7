"""The form where a member opts in to questions like ones they solved."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..services.community.routing import MAX_DAILY_LIMIT


class RoutingForm(FlaskForm):
    opt_in = BooleanField(_l("Send me questions like ones I solved"))
    daily_limit = IntegerField(_l("At most this many a day"), default=3,
                               validators=[InputRequired(_l("Enter a number.")),
                                           NumberRange(1, MAX_DAILY_LIMIT, _l("Choose 1 to %(most)d.", most=MAX_DAILY_LIMIT))],
                               render_kw={"min": 1, "max": MAX_DAILY_LIMIT, "inputmode": "numeric"})
