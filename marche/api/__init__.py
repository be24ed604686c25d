"""Public REST API v1 (JSON) over the directory, and its OpenAPI document."""
