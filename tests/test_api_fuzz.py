"""Schemathesis drives every operation of the OpenAPI document with generated input, as an
enterprise and as an administrator: whatever arrives, the API answers without a 5xx."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.helpers import Cast, project_payload

EXAMPLES = 40


def test_no_generated_input_makes_the_api_fail(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.admin("admin")
    cast.api(clean_app.test_client(), "ent").post("/projects", project_payload())
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", clean_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16

    for operation in operations:
        user = "admin" if operation.path == "/organizations" else "ent"
        check_operation(operation, {"Authorization": f"Bearer {cast.tokens[user]}"})


def check_operation(operation, headers):
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def no_server_error(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    no_server_error()
