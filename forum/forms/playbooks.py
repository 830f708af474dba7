"""Forms for playbooks: writing one (from a pattern or by hand) and "worked for us too"."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import Visibility
from ..services.patterns.playbooks import APPLIES_TO_KEYS, PlaybookInput, parse_list, parse_thread_refs
from .board import MaxLengthFromConfig, _no_nul, _strip

VISIBILITY_CHOICES = [(Visibility.PUBLIC.value, _l("Public — every signed-in member")),
                      (Visibility.INTERNAL.value, _l("Internal — vendor employees only"))]
APPLIES_TO_LABELS = {"products": _l("Products"), "versions": _l("Versions (product and version, e.g. Ledger 4.2)"),
                     "hosting": _l("Hosting"), "databases": _l("Databases"), "topologies": _l("Topologies")}


def _list_field(key: str) -> StringField:
    return StringField(APPLIES_TO_LABELS[key], filters=[_strip], validators=[Optional(), Length(max=2000)],
                       description=_l("Comma-separated"))


class PlaybookForm(FlaskForm):
    """Title, problem, where it applies, steps, visibility and evidence threads."""

    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(_l("Give the playbook a title.")),
                                                               Length(max=200)])
    problem = TextAreaField(_l("Problem statement (Markdown)"), filters=[_no_nul],
                            validators=[MaxLengthFromConfig("POST_MAX_LENGTH")])
    products = _list_field("products")
    versions = _list_field("versions")
    hosting = _list_field("hosting")
    databases = _list_field("databases")
    topologies = _list_field("topologies")
    steps = TextAreaField(_l("Steps (Markdown)"), filters=[_no_nul],
                          validators=[DataRequired(_l("Write the steps that fix it.")),
                                      MaxLengthFromConfig("POST_MAX_LENGTH")])
    visibility = SelectField(_l("Who can see it"), choices=VISIBILITY_CHOICES, default=Visibility.PUBLIC.value)
    evidence = SelectMultipleField(_l("Evidence threads"), coerce=int, validate_choice=True,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    extra_threads = StringField(_l("Also link threads"), filters=[_strip], validators=[Optional(), Length(max=500)],
                                description=_l("Thread numbers or links, comma-separated, e.g. 12, /t/34"))

    def fill(self, data: PlaybookInput) -> None:
        """Pre-fill from a draft or an existing playbook (GET only)."""
        self.title.data = data.title
        self.problem.data = data.problem_md
        self.steps.data = data.steps_md
        self.visibility.data = data.visibility.value
        for key in APPLIES_TO_KEYS:
            getattr(self, key).data = ", ".join(data.applies_to.get(key) or [])
        self.evidence.data = list(data.evidence_ids)

    def to_input(self) -> PlaybookInput:
        """The submitted values as the service's input."""
        evidence = list(self.evidence.data or []) + parse_thread_refs(self.extra_threads.data)
        return PlaybookInput(
            title=self.title.data or "", problem_md=self.problem.data or "", steps_md=self.steps.data or "",
            applies_to={key: parse_list(getattr(self, key).data) for key in APPLIES_TO_KEYS},
            visibility=Visibility(self.visibility.data), evidence_ids=list(dict.fromkeys(evidence)))


class PlaybookConfirmForm(FlaskForm):
    """'Worked for us too' with one of the organisation's deployments."""

    deployment = SelectField(_l("Deployment"), coerce=int, validate_choice=True)
    note = StringField(_l("Note (optional)"), filters=[_strip], validators=[Optional(), Length(max=500)])
