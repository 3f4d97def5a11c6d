"""The OpenAPI 3.1 document of API v1. What it says a request may be is taken from what
checks it: the request bodies' pydantic models, the query parameters' types
(`requests.QueryParam`), and the values the server looks up — jurisdiction codes and key
industries from the reference data, trigger names from the shared vocabulary, workflow keys
from the loaded definitions. A refusal the schema cannot express (a rule across fields, a
policy guard, the project's state) is a documented 409 or 422."""

from functools import cache

from pydantic import BaseModel
from sqlalchemy import select

from ..extensions import db
from ..labels import key_industries
from ..models import DesignationTag, Jurisdiction, Level
from ..rules.project_input import ProjectCreate, ProjectPatch
from ..workflow import TRIGGERS, workflows
from .requests import (
    JURISDICTION,
    MARKET_QUERY,
    PROGRESS_QUERY,
    PROJECT_QUERY,
    QUEUE_QUERY,
    STATS_QUERY,
    SUBSIDY_QUERY,
    VERSION,
    BulkTransitionRequest,
    DesignationsRequest,
    HoldRequest,
    IntendedBanksRequest,
    OrganizationCreate,
    TransitionRequest,
)

NO_NUL = "^[^\\x00]*$"  # no text may hold a NUL character (web.py refuses it everywhere)

ERROR = {"$ref": "#/components/schemas/Error"}


def _schemas(*models: type[BaseModel]) -> dict:
    schemas = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _errors(*codes: int, **described_here: str) -> dict:
    described = {400: "Malformed request", 401: "Missing or invalid bearer token",
                 403: "Role or jurisdiction does not allow this",
                 404: "Unknown, or not visible to the caller",
                 409: "Stale version, or someone acted first",
                 422: "Validation failure, naming each field",
                 **{int(code.removeprefix("s")): text for code, text in described_here.items()}}
    return {str(c): {"description": described[c],
                     "content": {"application/json": {"schema": ERROR}}} for c in codes}


def _json(ref: str, description: str = "OK") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _body(ref: str) -> dict:
    return {"required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


PROJECT_ID = {"name": "project_id", "in": "path", "required": True,
              "schema": {"type": "string", "format": "uuid"}}


STATE = "Stale version, or someone acted first"
ACROSS_FIELDS = ("Validation failure, naming each field: also a rule across fields (a part "
                 "above the total, completion before the start, a project code of another "
                 "region) or a code that names no registered record")
GUARDS = ("Validation failure, naming each field; or the step's required data is missing, or a "
          "policy guard refuses it (`reasons` says which rule)")


def _no_nul(schema):
    """Every free text of the document (no enum, pattern or format) refuses NUL."""
    if isinstance(schema, dict):
        kinds = schema.get("type")
        if (kinds == "string" or (isinstance(kinds, list) and "string" in kinds)) and not (
                {"enum", "pattern", "format", "const"} & schema.keys()):
            schema["pattern"] = NO_NUL
        for value in schema.values():
            _no_nul(value)
    elif isinstance(schema, list):
        for value in schema:
            _no_nul(value)


def _set(schema: dict, enum: list) -> None:
    """Give the (possibly nullable) string property `schema` its allowed values."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string":
            option["enum"] = enum
            option.pop("pattern", None)


def _query(params, **enums) -> list[dict]:
    return [param.parameter(enums.get(param.name)) for param in params]


@cache
def openapi_document() -> dict:
    """The document (built once per process, in an app context: it reads reference data)."""
    codes = list(db.session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.code)))
    counties = list(db.session.scalars(select(Jurisdiction.code).where(
        Jurisdiction.level == Level.COUNTY).order_by(Jurisdiction.code)))
    industries = list(key_industries())
    schemas = _schemas(ProjectCreate, ProjectPatch, TransitionRequest, OrganizationCreate,
                       IntendedBanksRequest, DesignationsRequest,
                       HoldRequest, BulkTransitionRequest)
    for model in ("ProjectCreate", "ProjectPatch"):
        _set(schemas[model]["properties"]["jurisdiction"], counties)
        _set(schemas[model]["properties"]["industry"], industries)
    _set(schemas["TransitionRequest"]["properties"]["trigger"], sorted(TRIGGERS))
    _set(schemas["BulkTransitionRequest"]["properties"]["trigger"], sorted(TRIGGERS))
    _set(schemas["DesignationsRequest"]["properties"]["tags"]["items"],
         sorted(tag.value for tag in DesignationTag))
    _set(schemas["OrganizationCreate"]["properties"]["jurisdiction"], codes)
    _set(schemas["OrganizationCreate"]["properties"]["serves"]["items"], codes)
    schemas.update({
        "Error": {"type": "object", "required": ["error", "message", "fields"], "properties": {
            "error": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "reasons": {"type": "array", "items": {"type": "string"}}}},
        "Project": {"type": "object", "required": ["id", "status", "version"], "properties": {
            "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
            "status": {"type": "string"}, "version": {"type": "integer"},
            "available_triggers": {"type": "array", "items": {"type": "object"}},
            "joint_steps": {"type": "array", "description": (
                "Joint steps (会签 `all_of`: every agency named signs; 或签 `any_of`: the first "
                "carries) the project waits for: each named agency, signed or awaited."),
                "items": {"type": "object", "required": ["trigger", "mode", "signers"],
                          "properties": {
                              "trigger": {"type": "string"},
                              "mode": {"type": "string", "enum": ["all_of", "any_of"]},
                              "signers": {"type": "array", "items": {
                                  "type": "object",
                                  "required": ["role", "owed_by", "signed", "signed_at",
                                               "signed_by"],
                                  "properties": {
                                      "role": {"type": "string"},
                                      "owed_by": {"type": "string"},
                                      "signed": {"type": "boolean"},
                                      "signed_at": {"type": ["string", "null"]},
                                      "signed_by": {"type": ["string", "null"]}}}}}}}}},
        "ProjectPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Project"}},
            "next_cursor": {"type": ["string", "null"]}}},
        "Events": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"type": "object"}}}},
        "Workflow": {"type": "object", "required": ["key", "version"]},
        "Workflows": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}}}},
        "Organization": {"type": "object", "required": ["id", "name", "kind"]},
        "Tags": {"type": "object", "required": ["tags"], "properties": {
            "tags": {"type": "array", "items": {"type": "string"}}}},
        "Items": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"type": "object"}}}},
        "Financing": {"type": "object", "required": ["intended_banks", "lists", "claims",
                                                     "engagements", "loans"]},
        "Summary": {"type": "object", "required": ["jurisdiction", "by_stage", "totals"]},
        "Overdue": {"type": "object", "required": ["by_agency", "items"]},
        "Queue": {"type": "object", "required": ["items", "next_cursor", "counts"]},
        "BulkResult": {"type": "object", "required": ["items", "done", "refused"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/BulkItemResult"}},
            "done": {"type": "integer", "minimum": 0},
            "refused": {"type": "integer", "minimum": 0}}},
        "BulkItemResult": {
            "type": "object", "required": ["id", "result", "http_status"],
            "description": "One listed project, in the order given: `done` with its new "
                           "`status` and `version`, or `refused` with what the single step "
                           "would have answered (`http_status` 403, 404, 409 or 422, `error`, "
                           "`message`, `fields`, `reasons`)",
            "properties": {
                "id": {"type": "string"}, "result": {"type": "string",
                                                     "enum": ["done", "refused"]},
                "http_status": {"type": "integer", "minimum": 200, "maximum": 499},
                "status": {"type": "string"}, "status_label": {"type": "string"},
                "version": {"type": "integer"}, "error": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "reasons": {"type": "array", "items": {"type": "string"}}}},
    })
    paths = {
        "/projects": {
            "get": {"operationId": "listProjects",
                    "parameters": _query(PROJECT_QUERY, jurisdiction=codes),
                    "responses": {"200": _json("ProjectPage"), **_errors(401, 422)}},
            "post": {"operationId": "createProject", "requestBody": _body("ProjectCreate"),
                     "responses": {"201": _json("Project", "Created"),
                                   **_errors(400, 401, 403, 422, s422=ACROSS_FIELDS)}},
        },
        "/projects/{project_id}": {
            "parameters": [PROJECT_ID],
            "get": {"operationId": "getProject",
                    "responses": {"200": _json("Project"), **_errors(401, 404)}},
            "patch": {"operationId": "updateProject", "requestBody": _body("ProjectPatch"),
                      "responses": {"200": _json("Project"), **_errors(
                          400, 401, 403, 404, 409, 422, s409=STATE, s422=ACROSS_FIELDS
                          + "; or a field that cannot change in the project's state "
                            "(after filing only through a change filing)")}},
        },
        "/projects/{project_id}/transitions": {
            "parameters": [PROJECT_ID],
            "post": {"operationId": "fireTransition", "requestBody": _body("TransitionRequest"),
                     "parameters": [{
                         "name": "Prefer", "in": "header", "schema": {"type": "string"},
                         "description": "`return=minimal`: answer with id, status and "
                                        "version only (RFC 7240)"}],
                     "responses": {"200": _json("Project"), **_errors(
                         400, 401, 403, 404, 409, 422, s409=STATE + "; or the step is not "
                         "possible in the project's state", s422=GUARDS)}},
        },
        "/bulk-transitions": {
            "post": {"operationId": "fireBulkTransitions",
                     "requestBody": _body("BulkTransitionRequest"),
                     "description": "One trigger (with its comment and data) on up to 500 "
                                    "projects, each at the version the caller saw: each is "
                                    "checked and written as its own step, in the order given "
                                    "(one listed twice is refused the second time), and "
                                    "answered in `items`; a project the caller may not see "
                                    "is `not_found`, as an unknown one.",
                     "responses": {"200": _json("BulkResult"), **_errors(
                         400, 401, 422, s422="Validation failure, naming each field (more "
                         "than 500 items: `items`); or a NUL character anywhere in the "
                         "body, also inside the step's free `data`")}},
        },
        "/projects/{project_id}/events": {
            "parameters": [PROJECT_ID],
            "get": {"operationId": "listEvents",
                    "responses": {"200": _json("Events"), **_errors(401, 404)}},
        },
        "/projects/{project_id}/attachments": {
            "parameters": [PROJECT_ID],
            "get": {"operationId": "listAttachments",
                    "responses": {"200": _json("Items"), **_errors(401, 404)}},
        },
        "/projects/{project_id}/attachments/{attachment_id}": {
            "parameters": [PROJECT_ID, {"name": "attachment_id", "in": "path", "required": True,
                                        "schema": {"type": "string", "format": "uuid"}}],
            "delete": {"operationId": "deleteAttachment",
                       "description": "Its uploader deletes a file while the project is a "
                                      "draft or returned (409 otherwise).",
                       "responses": {"204": {"description": "Deleted"},
                                     **_errors(401, 403, 404, 409)}},
        },
        "/projects/{project_id}/intended-banks": {
            "parameters": [PROJECT_ID],
            "put": {"operationId": "setIntendedBanks", "requestBody": _body("IntendedBanksRequest"),
                    "responses": {"200": _json("Project"), **_errors(
                        400, 401, 403, 404, 409, 422, s409=STATE,
                        s422="A bank id that names no bank serving the project's place, "
                             "or a bank named twice")}},
        },
        "/projects/{project_id}/steps/{step_id}/{action}": {
            "parameters": [PROJECT_ID,
                           {"name": "step_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                            "description": "`id` of a `waiting_for` row (the queue's `step_id`)"},
                           {"name": "action", "in": "path", "required": True,
                            "schema": {"type": "string",
                                       "enum": ["claim", "release", "reassign"]}}],
            "post": {"operationId": "holdStep", "requestBody": _body("HoldRequest"),
                     "description": "Claim (认领), release (释放) or, for a head of section, "
                                    "reassign (转办: `to`, `reason`) an owed agency step.",
                     "responses": {"200": _json("Project"),
                                   **_errors(400, 401, 403, 404, 409, 422)}},
        },
        "/projects/{project_id}/financing": {
            "parameters": [PROJECT_ID],
            "get": {"operationId": "getFinancing",
                    "responses": {"200": _json("Financing"), **_errors(401, 404)}},
        },
        "/projects/{project_id}/designations": {
            "parameters": [PROJECT_ID],
            "put": {"operationId": "setDesignations", "requestBody": _body("DesignationsRequest"),
                    "responses": {"200": _json("Tags"),
                                  **_errors(400, 401, 403, 404, 409, 422)}},
        },
        "/projects/{project_id}/redeclare": {
            "parameters": [PROJECT_ID],
            "post": {"operationId": "redeclareProject",
                     "responses": {"201": _json("Project", "Created"),
                                   **_errors(401, 403, 404, 409)}},
        },
        "/progress": {"get": {
            "operationId": "listProgress",
            "parameters": _query(PROGRESS_QUERY),
            "responses": {"200": _json("Items"), **_errors(401, 404, 422)}}},
        "/market": {"get": {
            "operationId": "listMarket",
            "parameters": _query(MARKET_QUERY),
            "responses": {"200": _json("ProjectPage"), **_errors(401, 403, 422)}}},
        "/loans": {"get": {"operationId": "listLoans",
                           "responses": {"200": _json("Items"), **_errors(401)}}},
        "/subsidies": {"get": {
            "operationId": "listSubsidies",
            "parameters": _query(SUBSIDY_QUERY),
            "responses": {"200": _json("Items"), **_errors(401, 404, 422)}}},
        "/banks": {"get": {
            "operationId": "listBanks",
            "parameters": _query([JURISDICTION], jurisdiction=codes),
            "responses": {"200": _json("Items"), **_errors(401, 422)}}},
        "/queue": {"get": {
            "operationId": "listQueue",
            "parameters": _query(QUEUE_QUERY, region=codes),
            "responses": {"200": _json("Queue"), **_errors(
                401, 422, s422="Validation failure; or a cursor of another sort")}}},
        "/overdue": {"get": {"operationId": "listOverdue",
                             "responses": {"200": _json("Overdue"), **_errors(401)}}},
        "/stats/summary": {"get": {
            "operationId": "statsSummary",
            "parameters": _query(STATS_QUERY, jurisdiction=codes),
            "responses": {"200": _json("Summary"), **_errors(401, 403, 422)}}},
        "/workflows": {"get": {"operationId": "listWorkflows",
                               "responses": {"200": _json("Workflows"), **_errors(401)}}},
        "/workflows/{key}": {"get": {
            "operationId": "getWorkflow",
            "parameters": [{"name": "key", "in": "path", "required": True,
                            "schema": {"type": "string",
                                       "enum": sorted({d.key for d in
                                                       workflows().definitions.values()})}},
                           *_query([VERSION])],
            "responses": {"200": _json("Workflow"), **_errors(401, 404, 422)}}},
        "/organizations": {"post": {
            "operationId": "createOrganization", "requestBody": _body("OrganizationCreate"),
            "responses": {"201": _json("Organization", "Created"), **_errors(
                400, 401, 403, 422, s422="Validation failure; or what the kind needs is "
                "missing (an agency's kind, the places a bank serves) or taken (a credit code)")}}},
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Jigai 技改项目库 API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }
    _no_nul(document)
    return document
