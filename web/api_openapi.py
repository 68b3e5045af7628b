"""`/api/v1/openapi.json`: the OpenAPI 3.1 description of the API, built from the endpoints'
own parameter declarations (web/api_params.py) and row columns, so it cannot drift from them."""

from __future__ import annotations

from web.api_params import Param

ERROR = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {
        "error": {"type": "string", "description": "what was wrong, in one sentence"},
        "status": {"type": "integer"},
    },
}


def _parameter(param: Param) -> dict:
    out = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": param.description + (f" (also `{param.alias}`)" if param.alias else ""),
        "schema": param.schema(),
    }
    return out


def _page(columns: list[str]) -> dict:
    cell = {"type": ["string", "number", "integer", "boolean", "null"]}
    return {
        "type": "object",
        "required": ["data_version", "as_of", "total", "offset", "limit", "next", "rows"],
        "properties": {
            "data_version": {"type": "string", "description": "the store's data version"},
            "as_of": {
                "type": ["string", "null"],
                "description": "the moment the figures are as of (null: now)",
            },
            "as_of_note": {
                "type": ["string", "null"],
                "description": "why the moment asked for was moved (before the store's "
                "first figure, or in the future)",
            },
            "total": {"type": "integer", "description": "rows in the whole answer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "next": {
                "type": ["string", "null"],
                "description": "the next page's address (path and query), null on the last",
            },
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {c: cell for c in columns},
                    "additionalProperties": False,
                },
            },
        },
    }


def document(endpoints: dict) -> dict:
    """The whole description: every path of `endpoints` (path -> (function, params, columns,
    summary)) and openapi.json itself."""
    paths = {}
    for path, (function, params, columns, summary) in endpoints.items():
        name = path.rsplit("/", 1)[-1]
        paths[path] = {
            "get": {
                "operationId": name,
                "summary": summary,
                "description": (function.__doc__ or "").strip(),
                "parameters": [_parameter(p) for p in params],
                "responses": {
                    "200": {
                        "description": "one page of rows (JSON), or the page as CSV "
                        "(`format=csv`; total in X-Total-Count, next page in Link)",
                        "content": {
                            "application/json": {"schema": _page(columns)},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **{
                        code: {
                            "description": why,
                            "content": {"application/json": {"schema": ERROR}},
                        }
                        for code, why in (
                            (
                                "400",
                                "a parameter this endpoint does not take, given twice, "
                                "not UTF-8, or out of range",
                            ),
                            ("404", "the store holds no such place or figures"),
                            ("503", "the store cannot be used"),
                        )
                    },
                },
            }
        }
    paths["/api/v1/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This description.",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Situation Room API",
            "version": "1",
            "description": "Read-only figures of the store, each with its source, link, "
            "citation and licence. Data whose terms forbid redistribution (ACLED, IOM DTM) "
            "is never served. See docs/api.md.",
        },
        # the paths are the app's: under its base path, which is where this file is too
        "servers": [{"url": "../..", "description": "this server, under its base path"}],
        "paths": paths,
    }
