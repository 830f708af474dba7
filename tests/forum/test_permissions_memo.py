"""Permission answers that cost a query are remembered for one request, through the memo the login wiring installs."""
from __future__ import annotations

from forum import auth, permissions
from forum.extensions import db
from forum.models import SpaceModerator


def test_answers_are_remembered_for_one_request_only(app, make):
    assert permissions.request_memo is auth.request_memo  # installed by the factory; permissions import no Flask request
    partner, customer = make.partner_org(), make.customer_org()
    consultant = make.user(partner)
    with app.test_request_context("/"):
        assert permissions.engaged_customer_ids(consultant) == set()
        make.engage(partner, customer)
        assert permissions.engaged_customer_ids(consultant) == set()  # asked once per request
    with app.test_request_context("/"):
        assert permissions.engaged_customer_ids(consultant) == {customer.id}  # a new request asks again
    other = make.customer_org()
    make.engage(partner, other)
    assert permissions.engaged_customer_ids(consultant) == {customer.id, other.id}  # no request: nothing kept


def test_a_moderator_s_spaces_are_asked_again_by_the_next_request(app, make):
    employee = make.employee()
    space = make.space()
    with app.test_request_context("/"):
        assert permissions.moderated_space_ids(employee) == set()
    db.session.add(SpaceModerator(user_id=employee.id, space_id=space.id))
    db.session.commit()
    with app.test_request_context("/"):
        assert permissions.moderated_space_ids(employee) == {space.id}
