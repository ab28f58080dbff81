"""REST errors: every failure is answered as ``{detail, code}`` (CONTRACT section 1) by one handler."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from ..validation import describe
from ..variations import Variations

log = logging.getLogger("reference_platform")

HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 422: "INVALID_BODY", 429: "TOO_MANY_REQUESTS"}


class ApiError(Exception):
    """An error answered as ``{detail, code}``."""

    def __init__(self, status: int, detail: str, code: str | None = None, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.code, self.headers, self.extra = status, detail, code, headers or {}, extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.detail}
        if self.code:
            body["code"] = self.code
        body.update(self.extra)
        return body


def invalid(detail: str, **extra: Any) -> ApiError:
    return ApiError(422, detail, "INVALID_BODY", extra=extra)


def unauthorized(detail: str = "Not authenticated", code: str = "UNAUTHORIZED") -> ApiError:
    return ApiError(401, detail, code, headers={"WWW-Authenticate": "Bearer"})


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found", "NOT_FOUND")


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (not only the first matching route's)."""
    def answers(method: str) -> bool:
        scope = {"type": "http", "method": method, "path": request.url.path, "root_path": "", "headers": [],
                 "query_string": b""}
        return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)
    return ", ".join(method for method in METHODS if answers(method))


def as_api_error(request: Request, exc: Exception) -> ApiError:
    """Any exception of a request as the error the caller gets."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RequestValidationError):
        return invalid(describe(exc.errors()))
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return ApiError(exc.status_code, detail, HTTP_CODES.get(exc.status_code, "ERROR"), headers=headers)
    log.error("unhandled error", exc_info=exc)  # a defect: say so in the contract's shape
    return ApiError(500, "Internal error", "INTERNAL")


def vary_error_body(body: dict[str, Any], request: Request, variations: Variations) -> dict[str, Any]:
    """A REST error body after the error variations (the reworded detail, the caller's path echoed)."""
    if not variations:
        return body
    body = dict(body)
    if variations.active("errors_reworded"):
        body["detail"] = f"Sorry, we could not do that: {str(body.get('detail', '')).lower()}"
    if variations.active("errors_echo_input"):
        body["detail"] = f"{body.get('detail')} ({request.method} {request.url.path})"
    if variations.active("error_extra_fields"):
        body["help"] = "https://docs.example.com/errors"
    return body


def install(app: FastAPI, variations: Variations, response_class: type[JSONResponse]) -> None:
    """Answers every failure of ``app``'s requests through one handler."""

    async def error_response(request: Request, exc: Exception) -> JSONResponse:
        error = as_api_error(request, exc)
        return response_class(vary_error_body(error.body(), request, variations), status_code=error.status,
                              headers=error.headers)

    for kind in (ApiError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(kind, error_response)
