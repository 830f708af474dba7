"""The form that subscribes a URL to events."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, URLField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

EVENT_LABELS = {
    "thread.created": _l("A thread is started"),
    "thread.answered": _l("A thread gets a reply"),
    "thread.resolved": _l("A thread is resolved (an answer accepted)"),
    "pattern.emerging": _l("A pattern starts emerging"),
    "playbook.published": _l("A playbook is published"),
}


class WebhookForm(FlaskForm):
    url = URLField(_l("Receiver URL"), validators=[DataRequired(_l("Enter the address that receives the events.")),
                                               Length(max=2000)],
                   render_kw={"placeholder": _l("https://hooks.example.com/groundwork"), "spellcheck": "false"})
    events = SelectMultipleField(_l("Events"), option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                 validate_choice=False)

    def offer(self, events: tuple[str, ...]) -> WebhookForm:
        """Offer the events this member may subscribe to."""
        self.events.choices = [(e, EVENT_LABELS.get(e, e)) for e in events]
        return self
