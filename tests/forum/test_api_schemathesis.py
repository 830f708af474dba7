"""Schemathesis (schema-valid and schema-breaking cases) against the API's own OpenAPI document: no server errors and responses that match it,
as an anonymous caller (public read on and off) and with a token for each role."""
from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from forum.models import Visibility

pytestmark = pytest.mark.slow

EXAMPLES = 25
# Conformance and no server errors. "Positive data acceptance" is left out on purpose: a schema-valid body
# may still name a space that does not exist (400) or break a domain rule (400/403).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _operations(app):
    from forum.api.openapi import DOCUMENT

    schema = schemathesis.openapi.from_dict(DOCUMENT)
    schema.app = app
    return [result.ok() for result in schema.get_all_operations()]


def _plans(app, thread_id: int):
    """Every operation in both modes, plus schema-valid cases aimed at a real (public) thread."""
    for operation, mode in itertools.product(_operations(app), GenerationMode):
        yield operation, mode, {}
        if mode is GenerationMode.POSITIVE and "{thread_id}" in operation.path:
            yield operation, mode, {"path_parameters": {"thread_id": thread_id}}


def _run(app, headers: dict, thread_id: int) -> int:
    """Fuzz every operation; returns how many cases ran."""
    ran = 0
    for operation, mode, extra in _plans(app, thread_id):
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode, **extra))
        def check(case):
            nonlocal ran
            ran += 1
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            # An operation with nothing to break (no parameters, no body) has no negative cases.
    print(f"schemathesis: {ran} cases")
    return ran


@pytest.fixture()
def seeded(make):
    customer = make.user(make.customer_org())
    staff = make.employee()
    space = make.space()
    thread = make.thread(customer, space=space)
    make.reply(thread, staff, staff_note=True)
    make.thread(staff, Visibility.INTERNAL, space=space)
    return {"customer": customer, "partner": make.user(make.partner_org()), "employee": staff,
            "thread_id": thread.id}


@pytest.mark.parametrize("public_read", [False, True])
def test_anonymous(app, seeded, public_read):
    app.config["PUBLIC_READ"] = public_read
    assert _run(app, {}, seeded["thread_id"]) > 0


@pytest.mark.parametrize("role", ["customer", "partner", "employee"])
@pytest.mark.parametrize("scope", ["read", "write"])
def test_with_token(app, seeded, role, scope):
    from forum.services.orgs.tokens import create_token

    raw = create_token(seeded[role], "fuzz", scope)[1]
    assert _run(app, {"Authorization": f"Bearer {raw}"}, seeded["thread_id"]) > 0
    if scope == "write":
        # Schema-valid replies to a thread everyone may see really were stored.
        from forum.extensions import db
        from forum.models import Reply

        assert db.session.execute(db.select(db.func.count(Reply.id)).where(
            Reply.author_id == seeded[role].id)).scalar_one() > 0
