"""The form that subscribes a URL to events."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, URLField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

EVENT_LABELS = {
    "thread.created": "A thread is started",
    "thread.answered": "A thread gets a reply",
    "thread.resolved": "A thread is resolved (an answer accepted)",
    "pattern.emerging": "A pattern starts emerging",
    "playbook.published": "A playbook is published",
}


class WebhookForm(FlaskForm):
    url = URLField("Receiver URL", validators=[DataRequired("Enter the address that receives the events."),
                                               Length(max=2000)],
                   render_kw={"placeholder": "https://hooks.example.com/groundwork", "spellcheck": "false"})
    events = SelectMultipleField("Events", option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                 validate_choice=False)

    def offer(self, events: tuple[str, ...]) -> WebhookForm:
        """Offer the events this member may subscribe to."""
        self.events.choices = [(e, EVENT_LABELS.get(e, e)) for e in events]
        return self
