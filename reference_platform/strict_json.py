"""Strict JSON parsing for request bodies and WebSocket frames: only interoperable JSON is accepted."""
from __future__ import annotations

import json
import math
from typing import Any

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a request body or a WebSocket frame."""


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses what is not interoperable JSON, with ValueError.

    Refused: ``NaN``/``Infinity``, numbers too large for a finite float (``1e400``), nesting
    deeper than :data:`MAX_JSON_DEPTH` (deeper values could be parsed but not stored or sent
    back), and ``\\u`` escapes of lone surrogates (no UTF-8 form: the same).
    """
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if "\\u" in text:  # only an escape can produce a surrogate from UTF-8 text
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("JSON string holds a lone surrogate") from None
    return value


def _depth(value: Any) -> int:
    """Nesting depth of arrays and objects (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value
