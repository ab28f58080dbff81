"""Valid sample frames, runs and bodies of the contract, for tests of the suite itself.

Every builder returns fresh objects (callers may mutate them to build violations). Frames are in
canonical form; :func:`as_payload`, :func:`as_flat` and :func:`as_system_message` turn a frame
into its Compat dialects.
"""
from __future__ import annotations

import copy
import itertools
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from acceptance.client.events import ENVELOPE_KEYS, Event, normalize

__all__ = [
    "BASE_TIME",
    "new_message_id",
    "iso",
    "RunBuilder",
    "triage_result",
    "cost_optimizer_result",
    "data_analysis_result",
    "performance_optimizer_result",
    "supervisor_result",
    "supervisor_run_frames",
    "stopped_supervisor_run_frames",
    "single_agent_run_frames",
    "events_from",
    "supervisor_run_events",
    "connection_established_frame",
    "heartbeat_frame",
    "pong_frame",
    "error_frame",
    "thread_data_frame",
    "auth_failed_frame",
    "as_payload",
    "as_flat",
    "as_system_message",
    "rest_samples",
]

BASE_TIME = datetime(2025, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
_ids = itertools.count(0x1000)


def new_message_id() -> str:
    """A message id unique within the process (``msg_<hex>``)."""
    return f"msg_{next(_ids):012x}"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------- results


def triage_result() -> dict:
    return {
        "summary": "Request classified as a cost optimisation question.",
        "intent": "cost_optimization",
        "agents": ["data_analysis", "cost_optimizer"],
    }


def cost_optimizer_result() -> dict:
    """The worked example of CONTRACT section 6 plus batching on the routed traffic."""
    return {
        "summary": "Routing classification traffic to gpt-4o-mini and batching it saves $436.50 a month.",
        "data_sufficiency": "sufficient",
        "cost_analysis": {
            "period_days": 30,
            "current_monthly_cost_usd": 450.00,
            "by_model": [{"model": "gpt-4o", "requests": 100000, "monthly_cost_usd": 450.00}],
        },
        "recommendations": [
            {
                "id": "rec_model_routing_gpt-4o",
                "type": "model_routing",
                "title": "Route classification requests from gpt-4o to gpt-4o-mini",
                "model": "gpt-4o",
                "target_model": "gpt-4o-mini",
                "monthly_savings_usd": 423.00,
                "effort": "low",
                "rationale": "Classification does not need a premium model.",
            },
            {
                "id": "rec_batching_gpt-4o-mini",
                "type": "batching",
                "title": "Batch the batchable gpt-4o-mini requests",
                "model": "gpt-4o-mini",
                "monthly_savings_usd": 13.50,
                "effort": "medium",
                "rationale": "The batch API halves the price of requests that can wait.",
            },
        ],
        "potential_savings": {"monthly_amount": 436.50, "annual_amount": 5238.00, "percentage": 97.00},
    }


def data_analysis_result() -> dict:
    days = [BASE_TIME.date() - timedelta(days=n) for n in range(7, 0, -1)]
    daily = [{"date": d.isoformat(), "cost_usd": 15.00, "requests": 3333} for d in days]
    daily[3]["cost_usd"] = 45.00
    return {
        "summary": "Spend is steady at about $15 a day with one anomalous day.",
        "period_days": 30,
        "daily": daily,
        "by_model": [{"model": "gpt-4o", "requests": 3333 * 7, "cost_usd": 135.00}],
        "anomalies": [{"date": daily[3]["date"], "cost_usd": 45.00, "baseline_usd": 15.00}],
    }


def performance_optimizer_result() -> dict:
    return {
        "summary": "gpt-4o has a long latency tail.",
        "latency": [{"model": "gpt-4o", "p50_ms": 800.0, "p95_ms": 2400.0}],
        "recommendations": [
            {"model": "gpt-4o", "title": "Investigate the p95 latency of gpt-4o", "p50_ms": 800.0, "p95_ms": 2400.0}
        ],
    }


def supervisor_result() -> dict:
    cost = cost_optimizer_result()
    return {
        "summary": cost["summary"],
        "data_sufficiency": cost["data_sufficiency"],
        "cost_optimization": cost,
        "data_analysis": data_analysis_result(),
    }


# --------------------------------------------------------------------------- runs


class RunBuilder:
    """Appends canonical frames of one run; message ids and timestamps increase."""

    def __init__(self, run_id: str | None = None, thread_id: str | None = None, start: datetime = BASE_TIME):
        self.run_id = run_id or _new_id("run")
        self.thread_id = thread_id or _new_id("thread")
        self.frames: list[dict] = []
        self._clock = start
        self._steps: dict[str, int] = {}
        self._executions = itertools.count(1)

    def frame(self, type_: str, agent: str, data: dict, tool: str | None = None) -> dict:
        self._clock += timedelta(milliseconds=50)
        frame = {
            "type": type_,
            "message_id": new_message_id(),
            "timestamp": iso(self._clock),
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "agent_name": agent,
        }
        if tool is not None:
            frame["tool_name"] = tool
        frame["data"] = data
        self.frames.append(frame)
        return frame

    def started(self, agent: str, task: str, parent: str | None = None) -> dict:
        data: dict[str, Any] = {"task": task}
        if parent is not None:
            data["parent_agent"] = parent
        return self.frame("agent_started", agent, data)

    def thinking(self, agent: str, reasoning: str, progress: float) -> dict:
        step = self._steps[agent] = self._steps.get(agent, 0) + 1
        return self.frame(
            "agent_thinking", agent,
            {"reasoning": reasoning, "step_number": step, "progress_percentage": progress},
        )

    def tool(self, agent: str, tool: str, parameters: dict, results: Any, duration_ms: int = 12) -> tuple[dict, dict]:
        execution_id = f"exec_{next(self._executions):03d}"
        started = self.frame("tool_executing", agent, {"execution_id": execution_id, "parameters": parameters}, tool)
        done = self.frame(
            "tool_completed", agent,
            {"execution_id": execution_id, "success": True, "duration_ms": duration_ms, "results": results}, tool,
        )
        return started, done

    def completed(self, agent: str, result: dict, duration_ms: int = 400) -> dict:
        return self.frame("agent_completed", agent, {"status": "completed", "duration_ms": duration_ms, "result": result})

    def error(self, agent: str, code: str = "TOOL_FAILED", message: str = "tool failed", recoverable: bool = False) -> dict:
        return self.frame("agent_error", agent, {"code": code, "message": message, "recoverable": recoverable})

    def stopped(self, agent: str = "supervisor") -> dict:
        return self.frame("agent_stopped", agent, {"reason": "user_requested"})


_REQUEST = "How can I cut the cost of my LLM usage?"


def _supervisor_prefix(b: RunBuilder) -> None:
    b.started("supervisor", _REQUEST)
    b.thinking("supervisor", "Planning: triage the request, then analyse usage and look for savings.", 5)
    b.started("triage", "Classify the request", parent="supervisor")
    b.thinking("triage", "Looking for the intent of the request.", 10)
    b.tool("triage", "classify_request", {"text": _REQUEST}, {"intent": "cost_optimization"})
    b.completed("triage", triage_result(), duration_ms=120)
    b.thinking("supervisor", "Triage says cost optimisation; analysing usage first.", 20)
    b.started("data_analysis", "Analyse the usage of the last 30 days", parent="supervisor")
    b.thinking("data_analysis", "Loading the usage records of the window.", 25)
    b.tool("data_analysis", "query_usage", {"period_days": 30}, {"records": 100000, "days": 7})


def supervisor_run_frames(run_id: str | None = None, thread_id: str | None = None) -> list[dict]:
    """A complete, valid supervisor run: supervisor → triage → data_analysis → cost_optimizer."""
    b = RunBuilder(run_id, thread_id)
    _supervisor_prefix(b)
    b.thinking("data_analysis", "Computing daily totals and anomalies.", 40)
    b.tool("data_analysis", "detect_anomalies", {"threshold": 2.0}, {"anomalies": 1})
    b.completed("data_analysis", data_analysis_result(), duration_ms=300)
    b.thinking("supervisor", "Usage is sufficient; asking the cost optimizer for savings.", 50)
    b.started("cost_optimizer", "Find savings in the usage of the last 30 days", parent="supervisor")
    b.thinking("cost_optimizer", "Pricing the usage per model.", 55)
    b.tool("cost_optimizer", "get_pricing", {}, {"models": 6})
    b.thinking("cost_optimizer", "Applying routing, caching and batching.", 70)
    b.tool("cost_optimizer", "compute_savings", {"levers": ["model_routing", "prompt_caching", "batching"]},
           {"recommendations": 2})
    b.thinking("cost_optimizer", "Ranking the recommendations by saving.", 85)
    b.completed("cost_optimizer", cost_optimizer_result(), duration_ms=350)
    b.thinking("supervisor", "Summarising the findings.", 95)
    b.completed("supervisor", supervisor_result(), duration_ms=1500)
    return b.frames


def stopped_supervisor_run_frames(run_id: str | None = None, thread_id: str | None = None) -> list[dict]:
    """A supervisor run stopped by the user while data_analysis worked (it gets no terminal frame)."""
    b = RunBuilder(run_id, thread_id)
    _supervisor_prefix(b)
    b.stopped("supervisor")
    return b.frames


def single_agent_run_frames(agent: str = "cost_optimizer", run_id: str | None = None,
                            thread_id: str | None = None) -> list[dict]:
    """A valid run of one agent started directly (no supervisor)."""
    results = {
        "cost_optimizer": cost_optimizer_result,
        "data_analysis": data_analysis_result,
        "performance_optimizer": performance_optimizer_result,
        "triage": triage_result,
        "supervisor": supervisor_result,
    }
    b = RunBuilder(run_id, thread_id)
    b.started(agent, _REQUEST)
    b.thinking(agent, "Reading the usage of the window.", 20)
    b.tool(agent, "query_usage", {"period_days": 30}, {"records": 100000})
    b.thinking(agent, "Computing the result.", 80)
    b.completed(agent, results[agent]())
    return b.frames


def events_from(frames: Iterable[dict], start: float | None = None) -> list[Event]:
    """Normalise frames into events with increasing ``received_at``."""
    t0 = time.monotonic() if start is None else start
    return [normalize(copy.deepcopy(f), t0 + i * 0.001) for i, f in enumerate(frames)]


def supervisor_run_events(run_id: str | None = None, thread_id: str | None = None) -> list[Event]:
    return events_from(supervisor_run_frames(run_id, thread_id))


# --------------------------------------------------------------------------- other frames


def _envelope(type_: str, data: dict) -> dict:
    return {"type": type_, "message_id": new_message_id(), "timestamp": iso(BASE_TIME), "data": data}


def connection_established_frame(user_id: str = "user_0001") -> dict:
    return _envelope("connection_established", {
        "connection_id": _new_id("conn"),
        "user_id": user_id,
        "server_time": iso(BASE_TIME),
        "heartbeat_interval_s": 25,
        "max_message_bytes": 65536,
    })


def heartbeat_frame() -> dict:
    return _envelope("heartbeat", {"server_time": iso(BASE_TIME)})


def pong_frame(nonce: str | None = "n-1") -> dict:
    data: dict[str, Any] = {"server_time": iso(BASE_TIME)}
    if nonce is not None:
        data["nonce"] = nonce
    return _envelope("pong", data)


def error_frame(code: str = "UNKNOWN_AGENT", message: str = "unknown agent 'x'", **extra: Any) -> dict:
    return _envelope("error", {"code": code, "message": message, **extra})


def thread_data_frame(thread_id: str = "thread_0001") -> dict:
    rest = rest_samples()
    thread = dict(rest["thread"], id=thread_id, message_count=2)
    return _envelope("thread_data", {"thread": thread, "messages": rest["messages_page"]["messages"]})


def auth_failed_frame() -> dict:
    """Netra's refusal after accept (Compat): error code at the top level."""
    return {
        "type": "error_message",
        "error_code": "AUTH_FAILED",
        "error_message": "Authentication failed",
        "timestamp": iso(BASE_TIME),
    }


# --------------------------------------------------------------------------- Compat dialects


def as_payload(frame: dict) -> dict:
    """Details under ``payload`` instead of ``data``."""
    out = {k: copy.deepcopy(v) for k, v in frame.items() if k != "data"}
    out["payload"] = copy.deepcopy(frame.get("data", {}))
    return out


def as_flat(frame: dict) -> dict:
    """Details at the top level."""
    out = {k: copy.deepcopy(v) for k, v in frame.items() if k != "data"}
    for key, value in frame.get("data", {}).items():
        if key not in ENVELOPE_KEYS:
            out[key] = copy.deepcopy(value)
    return out


def as_system_message(frame: dict, key: str = "data", ids_inside: bool = True) -> dict:
    """``{type:"system_message", <key>:{event:<type>, ...details}}``; ids inside the wrapper or on top."""
    inner: dict[str, Any] = {"event": frame["type"]}
    inner.update(copy.deepcopy(frame.get("data", {})))
    out: dict[str, Any] = {"type": "system_message"}
    for k in ("message_id", "timestamp"):
        if k in frame:
            out[k] = frame[k]
    for k in ("run_id", "thread_id", "agent_name", "tool_name"):
        if k in frame:
            (inner if ids_inside else out)[k] = frame[k]
    out[key] = inner
    return out


# --------------------------------------------------------------------------- REST bodies


def rest_samples() -> dict[str, Any]:
    """One valid body per REST schema name of :mod:`acceptance.verify.schemas`."""
    now = iso(BASE_TIME)
    user = {"id": "user_0001", "email": "ada@example.com", "name": "Ada",
            "permissions": ["read", "write", "chat", "agent:execute"]}
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyXzAwMDEifQ.c2lnbmF0dXJl"
    thread = {"id": "thread_0001", "object": "thread", "title": "New thread", "created_at": now,
              "updated_at": now, "metadata": {}, "message_count": 0}
    messages = [
        {"id": "m_1", "role": "user", "content": _REQUEST, "created_at": now, "run_id": "run_0001", "metadata": {}},
        {"id": "m_2", "role": "assistant", "content": "Savings: $436.50 a month.", "created_at": now,
         "run_id": "run_0001", "metadata": {"result": supervisor_result()}},
    ]
    return {
        "tokens": {"access_token": jwt, "refresh_token": jwt, "token_type": "Bearer", "expires_in": 900,
                   "user": user},
        "validate": {"valid": True, "user_id": "user_0001", "email": "ada@example.com",
                     "permissions": user["permissions"], "expires_at": now},
        "validate_invalid": {"valid": False, "error": "Token expired"},
        "me": {"user_id": "user_0001", "email": "ada@example.com", "name": "Ada",
               "permissions": user["permissions"], "created_at": now},
        "logout": {"status": "success"},
        "health": {"status": "healthy", "service": "netra-backend", "version": "1.0.0",
                   "environment": "test", "uptime_seconds": 12.5, "checks": {"database": "ok"}},
        "ready": {"status": "ready"},
        "error": {"detail": "Thread not found", "code": "THREAD_NOT_FOUND"},
        "thread": thread,
        "thread_list": {"threads": [thread], "total": 1, "limit": 20, "offset": 0},
        "messages_page": {"thread_id": "thread_0001", "messages": messages, "total": 2, "limit": 50, "offset": 0},
        "usage_ingest": {"accepted": 2, "rejected": [{"index": 2, "error": "unknown model 'gpt-9'"}]},
        "usage_summary": {"period_days": 30, "total_cost_usd": 450.0, "by_model": [
            {"model": "gpt-4o", "requests": 100000, "input_tokens": 100000000, "output_tokens": 20000000,
             "cost_usd": 450.0}]},
        "pricing": {"as_of": "2025-01-01", "models": [
            {"model": "gpt-4o", "vendor": "openai", "tier": "premium", "input_per_mtok": 2.5,
             "cached_input_per_mtok": 1.25, "output_per_mtok": 10.0, "batch_discount": 0.5},
            {"model": "gpt-4o-mini", "vendor": "openai", "tier": "economy", "input_per_mtok": 0.15,
             "cached_input_per_mtok": 0.075, "output_per_mtok": 0.6, "batch_discount": 0.5}]},
        "websocket_ticket": {"ticket_id": "tkt_0001", "expires_at": now, "ttl_seconds": 300, "single_use": True},
        "cost_optimizer_result": cost_optimizer_result(),
        "data_analysis_result": data_analysis_result(),
        "performance_optimizer_result": performance_optimizer_result(),
        "supervisor_result": supervisor_result(),
    }
