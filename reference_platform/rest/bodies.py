"""Request bodies: strict JSON (:mod:`..strict_json`) validated by pydantic models in strict mode.

A body that is not UTF-8, not JSON or not an object, or that its model refuses, is answered 422
``INVALID_BODY`` naming the first problem. ``null`` counts as absent: an optional field takes its
default, a required one is missing.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from ..strict_json import strict_json
from ..validation import describe
from .errors import invalid

M = TypeVar("M", bound="Body")


class Body(BaseModel):
    """A request body: strict types (no coercion), unknown fields ignored, ``null`` as absent."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


def parse(model: type[M], raw: Any) -> M:
    """``raw`` as ``model``, or 422 with the first reason."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise invalid(describe(exc.errors(include_url=False))) from None


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or 422: not UTF-8, not JSON, not an object."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("request body is not valid UTF-8") from None
    try:
        body = strict_json(text)
    except ValueError:
        raise invalid("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    return body


async def read_body(model: type[M], request: Request) -> M:
    return parse(model, await json_object(request))


def json_body(model: type[M]) -> Any:
    """A route parameter's default: the request body as ``model`` (a FastAPI dependency)."""
    async def dependency(request: Request) -> M:
        return await read_body(model, request)
    return Depends(dependency)


def _at_most_16k(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value)) > 16_384:
        raise ValueError("metadata is larger than 16384 bytes")
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(_at_most_16k)]
"""Free-form metadata of a resource: a JSON object of at most 16 KiB."""

__all__ = ["Body", "Metadata", "json_body", "json_object", "parse", "read_body"]
