"""JSON API v1 (DESIGN.md's table): bearer-token authentication and JSON errors (`base`),
request bodies (`requests`), routes that parse, call one operation and answer (`routes`),
answers (`serializers`) and the OpenAPI document built from the same models (`openapi`).
"""
