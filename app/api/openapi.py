"""The OpenAPI 3.1 document of API v1, with request schemas taken from the pydantic models."""

from functools import cache

from pydantic import BaseModel

from ..rules.project_input import ProjectCreate, ProjectPatch
from .requests import HoldRequest, IntendedBanksRequest, OrganizationCreate, TransitionRequest

ERROR = {"$ref": "#/components/schemas/Error"}


def _schemas(*models: type[BaseModel]) -> dict:
    schemas = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _errors(*codes: int) -> dict:
    described = {400: "Malformed request", 401: "Missing or invalid bearer token",
                 403: "Role or jurisdiction does not allow this",
                 404: "Unknown, or not visible to the caller",
                 409: "Stale version, or someone acted first",
                 422: "Validation or guard failure, with reasons"}
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


@cache
def openapi_document() -> dict:
    schemas = _schemas(ProjectCreate, ProjectPatch, TransitionRequest, OrganizationCreate,
                       IntendedBanksRequest, HoldRequest)
    schemas.update({
        "Error": {"type": "object", "required": ["error", "message", "fields"], "properties": {
            "error": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "reasons": {"type": "array", "items": {"type": "string"}}}},
        "Project": {"type": "object", "required": ["id", "status", "version"], "properties": {
            "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
            "status": {"type": "string"}, "version": {"type": "integer"},
            "available_triggers": {"type": "array", "items": {"type": "object"}}}},
        "ProjectPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Project"}},
            "next_cursor": {"type": ["string", "null"]}}},
        "Events": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"type": "object"}}}},
        "Workflow": {"type": "object", "required": ["key", "version"]},
        "Workflows": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}}}},
        "Organization": {"type": "object", "required": ["id", "name", "kind"]},
        "Items": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"type": "object"}}}},
        "Financing": {"type": "object", "required": ["intended_banks", "lists", "claims",
                                                     "engagements", "loans"]},
        "Summary": {"type": "object", "required": ["jurisdiction", "by_stage", "totals"]},
        "Overdue": {"type": "object", "required": ["by_agency", "items"]},
    })
    query = [
        {"name": "status", "in": "query", "schema": {"type": "string"},
         "description": "Comma-separated statuses"},
        {"name": "industry", "in": "query", "schema": {"type": "string"}},
        {"name": "jurisdiction", "in": "query", "schema": {"type": "string", "pattern": r"^\d{6}$"}},
        {"name": "year", "in": "query", "schema": {"type": "integer", "minimum": 2000,
                                                    "maximum": 2100}},
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                     "maximum": 200}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
    ]
    paths = {
        "/projects": {
            "get": {"operationId": "listProjects", "parameters": query,
                    "responses": {"200": _json("ProjectPage"), **_errors(401, 422)}},
            "post": {"operationId": "createProject", "requestBody": _body("ProjectCreate"),
                     "responses": {"201": _json("Project", "Created"),
                                   **_errors(400, 401, 403, 422)}},
        },
        "/projects/{project_id}": {
            "parameters": [PROJECT_ID],
            "get": {"operationId": "getProject",
                    "responses": {"200": _json("Project"), **_errors(401, 404)}},
            "patch": {"operationId": "updateProject", "requestBody": _body("ProjectPatch"),
                      "responses": {"200": _json("Project"),
                                    **_errors(400, 401, 403, 404, 409, 422)}},
        },
        "/projects/{project_id}/transitions": {
            "parameters": [PROJECT_ID],
            "post": {"operationId": "fireTransition", "requestBody": _body("TransitionRequest"),
                     "parameters": [{
                         "name": "Prefer", "in": "header", "schema": {"type": "string"},
                         "description": "`return=minimal`: answer with id, status and "
                                        "version only (RFC 7240)"}],
                     "responses": {"200": _json("Project"),
                                   **_errors(400, 401, 403, 404, 409, 422)}},
        },
        "/projects/{project_id}/events": {
            "parameters": [PROJECT_ID],
            "get": {"operationId": "listEvents",
                    "responses": {"200": _json("Events"), **_errors(401, 404)}},
        },
        "/projects/{project_id}/intended-banks": {
            "parameters": [PROJECT_ID],
            "put": {"operationId": "setIntendedBanks", "requestBody": _body("IntendedBanksRequest"),
                    "responses": {"200": _json("Project"),
                                  **_errors(400, 401, 403, 404, 409, 422)}},
        },
        "/projects/{project_id}/steps/{step_id}/{action}": {
            "parameters": [PROJECT_ID,
                           {"name": "step_id", "in": "path", "required": True,
                            "schema": {"type": "integer"},
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
        "/market": {"get": {
            "operationId": "listMarket",
            "parameters": [q for q in query if q["name"] in ("industry", "limit", "cursor")],
            "responses": {"200": _json("ProjectPage"), **_errors(401, 403, 422)}}},
        "/loans": {"get": {"operationId": "listLoans",
                           "responses": {"200": _json("Items"), **_errors(401)}}},
        "/banks": {"get": {
            "operationId": "listBanks",
            "parameters": [{"name": "jurisdiction", "in": "query",
                            "schema": {"type": "string", "pattern": r"^\d{6}$"}}],
            "responses": {"200": _json("Items"), **_errors(401, 422)}}},
        "/overdue": {"get": {"operationId": "listOverdue",
                             "responses": {"200": _json("Overdue"), **_errors(401)}}},
        "/stats/summary": {"get": {
            "operationId": "statsSummary",
            "parameters": [q for q in query if q["name"] in ("jurisdiction", "year")],
            "responses": {"200": _json("Summary"), **_errors(401, 403, 422)}}},
        "/workflows": {"get": {"operationId": "listWorkflows",
                               "responses": {"200": _json("Workflows"), **_errors(401)}}},
        "/workflows/{key}": {"get": {
            "operationId": "getWorkflow",
            "parameters": [{"name": "key", "in": "path", "required": True,
                            "schema": {"type": "string"}},
                           {"name": "version", "in": "query",
                            "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": _json("Workflow"), **_errors(401, 404, 422)}}},
        "/organizations": {"post": {
            "operationId": "createOrganization", "requestBody": _body("OrganizationCreate"),
            "responses": {"201": _json("Organization", "Created"),
                          **_errors(400, 401, 403, 422)}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Jigai 技改项目库 API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }
