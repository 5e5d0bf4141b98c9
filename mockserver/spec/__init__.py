"""The OpenAPI documents and their checks: loading, request validation, response conformance, surfaces."""
