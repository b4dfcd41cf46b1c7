"""HTTP helpers shared by the handlers: JSON answers with the device's headers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

JSON_TYPE = "application/json; charset=utf-8"
BASE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
MAX_BODY = 8192


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Return ``data`` as compact JSON with the device's content type and headers."""
    body = json.dumps(data, separators=(",", ":")).encode()
    response = web.Response(body=body, status=status, headers={**BASE_HEADERS, **(headers or {})})
    response.headers["Content-Type"] = JSON_TYPE
    return response


def error_response(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Return the generic error body ``{"error", "message"}`` with ``status``."""
    return json_response({"error": error, "message": message}, status, headers)


class BodyError(Exception):
    """The request body could not be used: answer with ``response``."""

    def __init__(self, response: web.Response) -> None:
        """Keep the prepared answer."""
        self.response = response
        super().__init__(response.status)


async def read_json(request: web.Request, limit: int = MAX_BODY) -> Any:
    """Return the decoded JSON body (any content type); raise BodyError for 413/400."""
    raw = await request.read()
    if len(raw) > limit:
        raise BodyError(error_response(413, "payload_too_large", "Request body too large"))
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BodyError(error_response(400, "invalid_json", f"Malformed JSON: {err}")) from err


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """Return the JSON body, which must be an object; raise BodyError (413/400) otherwise."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BodyError(error_response(400, "invalid_request", "body must be an object"))
    return body
