"""Agent runs (CONTRACT sections 5 and 7): lifecycle, delivery, limits, and the agents themselves.

A run is a task of its own: it keeps going when the socket that started it closes. Its frames
are kept (``Run.frames``) so that ``resume_run`` can replay them; they go to the owner's sockets
that were open when it started, and to those that resume it. Runs know sockets only as
:class:`Subscriber` and :class:`Audience`, which the transport (``ws.py``) implements.
"""
from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from collections import deque
from datetime import timedelta
from typing import Any, Awaitable, Callable, Protocol

from . import analytics, pricing
from .clock import utcnow
from .config import Settings
from .frames import error, frame
from .ids import new_id
from .storage import Storage, User
from .variations import Draw

log = logging.getLogger("reference_platform.agents")

AGENTS = ("supervisor", "triage", "cost_optimizer", "data_analysis", "performance_optimizer")
TERMINAL = ("agent_completed", "agent_error", "agent_stopped")
MAX_REQUEST_CHARS = 8000
ANALYSIS_CHUNK = 2000  # usage records per progress step of the data analysis
KEEP_FINISHED_S = 3600


class RunStopped(Exception):
    """Raised at a checkpoint once the user asked to stop."""


class Subscriber(Protocol):
    """Where a run's frames go: one open socket of its owner."""

    open: bool

    def send(self, canonical: dict[str, Any]) -> None:
        """Queues a frame that is no part of any run's replayable stream."""

    def deliver(self, run: "Run", index: int) -> None:
        """Queues frame ``index`` of ``run`` unless this subscriber already has it."""

    def replay(self, run: "Run", start: int) -> None:
        """Queues the frames of ``run`` from index ``start`` on, but those it already has."""


class Audience(Protocol):
    """The open sockets, by user."""

    def everyone(self) -> list[Subscriber]: ...

    def of(self, user_id: str) -> list[Subscriber]: ...


class Run:
    def __init__(self, run_id: str, user_id: str, thread_id: str, agent: str, request: str,
                 subscribers: list[Subscriber]):
        self.id, self.user_id, self.thread_id, self.agent, self.request = run_id, user_id, thread_id, agent, request
        self.frames: list[dict[str, Any]] = []
        self.subscribers = set(subscribers)
        self.progress = 0
        self.stop_requested = False
        self.finished_at: float | None = None
        self.task: asyncio.Task | None = None

    @property
    def active(self) -> bool:
        return self.finished_at is None

    def publish(self, canonical: dict[str, Any]) -> None:
        self.frames.append(canonical)
        index = len(self.frames) - 1
        for conn in list(self.subscribers):
            if conn.open:
                conn.deliver(self, index)
            else:
                self.subscribers.discard(conn)


class RunContext:
    """What an agent uses to do its work and report it."""

    def __init__(self, manager: "RunManager", run: Run):
        self.manager, self.run, self.store = manager, run, manager.store
        self.settings = manager.settings
        self.usage: tuple[tuple[list, Any], dict[str, Any]] | None = None  # see _usage
        self.variations = self.settings.variations
        self.draw: Draw | None = self.variations.draw()  # the stochastic variation's choices for this run
        self.thought: dict[str, int] = {}  # agent -> thinking steps taken (for the thinking variations)

    def varies(self, name: str) -> bool:
        return self.variations.active(name)

    def uuid_or(self, prefix: str) -> str:
        return new_id(prefix, self.varies("uuid_ids"), digits=16)

    async def _pace(self) -> None:
        low, high = self.variations.pacing(self.settings.pacing_min_ms, self.settings.pacing_max_ms)
        if self.draw is not None:
            low, high = 1, self.draw.jitter_ms  # never below the fastest pacing of the catalogue
        # At zero pacing still yield once per frame, so that many runs progress (and reach their
        # sockets) side by side instead of one run's frames holding up every other run's.
        await asyncio.sleep(random.uniform(low, high) / 1000 if high > 0 else 0)

    def fault(self, name: str) -> bool:
        return self.settings.faults.active(name)

    async def emit(self, type_: str, agent: str, data: dict[str, Any], tool_name: str | None = None) -> None:
        await self._pace()
        run_id = self.run.id + "_sub" if agent != self.run.agent and self.fault("run_id_drift") else self.run.id
        if self.varies("unnamed_frames") and type_ == "tool_executing":
            self.notice(frame("run_note", {"note": f"{agent} is using {tool_name}"}, thread_id=self.run.thread_id))
        if self.varies("tool_names_other") and tool_name:
            tool_name = f"platform.{tool_name.replace('_', '-')}"
        self.run.publish(frame(type_, data, run_id=run_id, thread_id=self.run.thread_id, agent_name=agent,
                               tool_name=tool_name))
        if self.varies("unnamed_frames") and type_ == "agent_started" and agent == self.run.agent:
            self.notice(frame("thread_created", {"thread_id": self.run.thread_id}, thread_id=self.run.thread_id))

    def notice(self, canonical: dict[str, Any]) -> None:
        """A frame of a type the contract does not name, to the run's sockets; never replayed by resume."""
        for conn in list(self.run.subscribers):
            conn.send(canonical)

    def checkpoint(self) -> None:
        if self.run.stop_requested:
            raise RunStopped()

    async def started(self, agent: str, task: str, parent: str | None) -> None:
        self.checkpoint()
        data: dict[str, Any] = {"task": task}
        if parent and not self.fault("sub_agent_not_nested"):
            data["parent_agent"] = parent
        if parent and self.fault("events_out_of_order"):
            await self.emit("agent_thinking", agent, {"reasoning": "Getting ready.", "step_number": 0,
                                                      "progress_percentage": self.run.progress})
        await self.emit("agent_started", agent, data)

    async def think(self, agent: str, reasoning: str, progress: float, step: int) -> None:
        self.checkpoint()
        if self.variations.active("progress_big_jumps"):  # the next multiple of 25: 25, 50, 75, 100
            progress = min(100, math.ceil(progress / 25) * 25)
        self.run.progress = max(self.run.progress, min(100, int(progress)))
        if step == 1 and agent != self.run.agent and self.fault("progress_regresses"):
            self.run.progress = max(0, self.run.progress - 10)
        if not self.variations:
            await self.emit("agent_thinking", agent, {"reasoning": reasoning, "step_number": step,
                                                      "progress_percentage": self.run.progress})
            return
        taken = self.thought.get(agent, 0)
        if taken and self.varies("one_thought_per_agent"):
            return
        shown = self.run.progress
        if self.varies("progress_starts_high"):
            shown = 10 + shown * 9 // 10
        times = self.draw.thoughts if self.draw else (3 if self.varies("many_thoughts") else 1)
        for n in range(times):
            taken += 1
            self.thought[agent] = taken
            await self.emit("agent_thinking", agent, {"reasoning": reasoning if n == 0 else f"{reasoning} ({n + 1})",
                                                      "step_number": taken, "progress_percentage": shown})
        if taken == times and (self.varies("extra_tool") or (self.draw and self.draw.extra_tool)):
            async def lookup():
                return None, {"context": "loaded"}
            await self.tool(agent, "context_lookup", {"agent": agent}, lookup)

    async def tool(self, agent: str, tool_name: str, parameters: dict[str, Any],
                   work: Callable[[], Awaitable[tuple[Any, dict[str, Any]]]]) -> Any:
        """Runs one tool as a pair of frames; a stop is honoured before the pair, never inside it."""
        self.checkpoint()
        execution_id = self.uuid_or("exec")
        await self.emit("tool_executing", agent, {"execution_id": execution_id, "parameters": parameters},
                        tool_name=tool_name)
        started = time.perf_counter()
        value, shown = await work()
        if self.fault("tool_completed_missing"):
            return value
        if self.fault("tool_execution_id_mismatch"):
            execution_id = self.uuid_or("exec")
        await self.emit("tool_completed", agent, {
            "execution_id": execution_id, "success": True,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3), "results": shown}, tool_name=tool_name)
        if self.fault("frames_duplicated"):
            self.run.publish(self.run.frames[-1])
        if self.varies("thinking_between_tools"):
            await self.think(agent, f"Reading what {tool_name.replace('_', ' ')} returned.", self.run.progress, 0)
        return value

    async def completed(self, agent: str, result: dict[str, Any], started_at: float) -> None:
        await self.emit("agent_completed", agent, {"status": "completed",
                                                   "duration_ms": round((time.monotonic() - started_at) * 1000, 3),
                                                   "result": result})


# ---- the agents ---------------------------------------------------------------------------
PERFORMANCE_WORDS = re.compile(r"latenc|slow|performance|speed|p95|response time", re.I)


async def _usage(ctx: RunContext, agent: str):
    """The run's usage window: queried once per run, so that every agent of a run sees the same data."""
    async def query():
        if ctx.usage is None:
            now = utcnow()
            owner = None if ctx.fault("usage_unscoped") else ctx.run.user_id
            records = await ctx.store.usage.records(owner, since=now - timedelta(days=31))
            window = pricing.in_window(records, now)
            days = len({r.timestamp.date() for r in window})
            ctx.usage = (window, now), {"records": len(window), "days_with_usage": days,
                                        "models": sorted({r.model for r in window})}
        return ctx.usage

    return await ctx.tool(agent, "usage_query", {"period_days": 30}, query)


class Span:
    """The share of a run's progress one agent reports into."""

    def __init__(self, start: float, end: float):
        self.start, self.end = start, end

    def at(self, fraction: float) -> float:
        return self.start + (self.end - self.start) * max(0.0, min(1.0, fraction))


async def triage(ctx: RunContext, request: str, parent: str | None, span: Span) -> dict[str, Any]:
    await ctx.started("triage", request, parent)
    await ctx.think("triage", "Reading the request to decide which specialists are needed.", span.at(0.2), 1)

    async def classify():
        agents = ["data_analysis", "cost_optimizer"]
        if PERFORMANCE_WORDS.search(request):
            agents.append("performance_optimizer")
        intent = "performance_and_cost" if "performance_optimizer" in agents else "cost_optimization"
        return {"intent": intent, "agents": agents}, {"intent": intent, "agents": agents}

    result = await ctx.tool("triage", "request_classifier", {"request_chars": len(request)}, classify)
    result = {**result, "summary": f"Routing to {', '.join(result['agents'])}."}
    return result


async def data_analysis(ctx: RunContext, request: str, parent: str | None, span: Span) -> dict[str, Any]:
    await ctx.started("data_analysis", request, parent)
    await ctx.think("data_analysis", "Collecting the last 30 days of usage.", span.at(0.1), 1)
    records, now = await _usage(ctx, "data_analysis")
    total = len(records)
    chunks = max(1, -(-total // ANALYSIS_CHUNK))
    for index in range(chunks):
        done = min(total, (index + 1) * ANALYSIS_CHUNK)
        await ctx.think("data_analysis", f"Analysed {done:,} of {total:,} usage records.",
                        span.at(0.2 + 0.6 * (index + 1) / chunks), 2 + index)

    async def trend():
        result = analytics.data_analysis(records, now)
        return result, {"days": len(result["daily"]), "anomalies": len(result["anomalies"])}

    result = await ctx.tool("data_analysis", "trend_analysis", {"records": total}, trend)
    return result


async def cost_optimizer(ctx: RunContext, request: str, parent: str | None, span: Span) -> dict[str, Any]:
    await ctx.started("cost_optimizer", request, parent)
    await ctx.think("cost_optimizer", "Looking up current list prices for every model in use.", span.at(0.1), 1)

    async def catalogue():
        doc = pricing.pricing_document()
        return doc, {"as_of": doc["as_of"], "models": len(doc["models"])}

    usage_first = bool(ctx.draw and ctx.draw.tools_reversed)
    if usage_first:
        records, now = await _usage(ctx, "cost_optimizer")
    if not ctx.varies("fewer_tools"):  # the variation reads the catalogue without a tool pair
        await ctx.tool("cost_optimizer", "pricing_catalogue", {}, catalogue)
    if not usage_first:
        records, now = await _usage(ctx, "cost_optimizer")
    await ctx.think("cost_optimizer", "Applying model routing, prompt caching and batching to the usage.",
                    span.at(0.6), 2)

    async def calculate():
        result = pricing.optimize(records, now, ctx.settings.faults)
        return result, {"recommendations": len(result["recommendations"]),
                        "monthly_savings_usd": result["potential_savings"]["monthly_amount"]}

    result = await ctx.tool("cost_optimizer", "savings_calculator", {"levers": ["model_routing", "prompt_caching",
                                                                                  "batching"]}, calculate)
    return result


async def performance_optimizer(ctx: RunContext, request: str, parent: str | None, span: Span) -> dict[str, Any]:
    await ctx.started("performance_optimizer", request, parent)
    await ctx.think("performance_optimizer", "Collecting latency measurements per model.", span.at(0.2), 1)
    records, now = await _usage(ctx, "performance_optimizer")

    async def profile():
        result = analytics.performance(records, now)
        return result, {"models": len(result["latency"]), "recommendations": len(result["recommendations"])}

    result = await ctx.tool("performance_optimizer", "latency_profiler", {"percentiles": [50, 95]}, profile)
    return result


async def supervisor(ctx: RunContext, request: str, parent: str | None, span: Span) -> dict[str, Any]:
    await ctx.started("supervisor", request, parent)
    await ctx.think("supervisor", "Planning the work: triage first, then the specialists.", 2, 1)
    plan = await invoke(ctx, "triage", request, "supervisor", Span(3, 15))
    agents = list(plan["agents"])
    if ctx.varies("extra_sub_agent") and "performance_optimizer" not in agents:
        agents.append("performance_optimizer")
    if ctx.varies("sub_agents_reordered") or (ctx.draw and ctx.draw.sub_agents_reversed):
        agents[:2] = agents[1::-1]
    spans = {"data_analysis": Span(16, 48), "cost_optimizer": Span(50, 85), "performance_optimizer": Span(86, 94)}
    if agents != list(spans)[:len(agents)]:  # another order: the same progress spans, by position
        spans = dict(zip(agents, spans.values()))
    results: dict[str, Any] = {}
    step = 2
    for name in agents:
        await ctx.think("supervisor", f"Handing over to {name.replace('_', ' ')}.", spans[name].start, step)
        step += 1
        results[name] = await invoke(ctx, name, request, "supervisor", spans[name])
        if ctx.varies("supervisor_thinks_between"):
            await ctx.think("supervisor", f"Reading what {name.replace('_', ' ')} found.", spans[name].end, step)
            step += 1
    await ctx.think("supervisor", "Summarising the findings.", 96, step)
    cost, data = results["cost_optimizer"], results["data_analysis"]
    summary = cost["summary"]
    if data["anomalies"]:
        summary += f" {len(data['anomalies'])} day(s) of unusual spend were flagged."
    result: dict[str, Any] = {"summary": summary, "data_sufficiency": cost["data_sufficiency"],
                              "cost_optimization": cost, "data_analysis": data, "triage": plan}
    if "performance_optimizer" in results:
        result["performance"] = results["performance_optimizer"]
    return result


AGENT_WORK: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "supervisor": supervisor, "triage": triage, "data_analysis": data_analysis, "cost_optimizer": cost_optimizer,
    "performance_optimizer": performance_optimizer,
}


async def invoke(ctx: RunContext, name: str, request: str, parent: str, span: Span) -> dict[str, Any]:
    """Runs a sub-agent inside the current run, closing it with its own agent_completed (except in netra-2025)."""
    t0 = time.monotonic()
    result = await AGENT_WORK[name](ctx, request, parent, span)
    if ctx.settings.dialect != "netra-2025":  # that dialect sends one terminal frame per run, the run's own
        await ctx.completed(name, result, t0)
    return result


# ---- the manager --------------------------------------------------------------------------
class RunManager:
    def __init__(self, settings: Settings, store: Storage, audience: Audience):
        self.settings, self.store, self.audience = settings, store, audience
        self.runs: dict[str, Run] = {}
        self.started_at: dict[str, deque[float]] = {}
        # user id -> runs admitted and not finished, counted from admission (before the awaits that
        # store the request), so that concurrent starts from several sockets cannot exceed RUN_LIMIT
        self.active: dict[str, int] = {}
        self._pruned_at = time.monotonic()
        self.warm: set[str] = set()  # users whose agents have warmed up (the cold_start variation)
        self.adopted: set[str] = set()  # run ids taken from clients (client_run_id_adopted): never twice

    def _release(self, user_id: str) -> None:
        self.active[user_id] -= 1
        if not self.active[user_id]:
            del self.active[user_id]

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at < 60:
            return
        self._pruned_at = now
        cutoff = now - KEEP_FINISHED_S
        for run_id in [k for k, r in self.runs.items() if r.finished_at is not None and r.finished_at < cutoff]:
            del self.runs[run_id]

    async def start(self, user: User, payload: dict[str, Any], default_agent: str | None,
                    field_name: str = "user_request", request_type: str = "start_agent",
                    offer=None, client_run_id: Any = None) -> dict | None:
        """Starts a run or returns the error frame, checking in the contract's order.

        ``offer`` (netra-2025): the thread the connection's handshake offered is created by its first run
        (unless ``offered_thread_created_early`` created it with the handshake), which carries the offered
        run id (unless ``offered_run_id_unused``). ``client_run_id``: the run id a netra-2025
        ``user_message`` carried, adopted when not yet used (``client_run_id_adopted``)."""
        settings = self.settings
        if "agent:execute" not in user.permissions and not (
                settings.dialect == "netra-2025" and "test" in user.permissions):  # what Netra's client asks for
            return error("FORBIDDEN", "your token lacks the agent:execute permission", request_type=request_type)
        request = payload.get("user_request")
        if not isinstance(request, str) or not (1 <= len(request) <= MAX_REQUEST_CHARS) or not request.strip():
            return error("INVALID_PAYLOAD", f"{field_name} must be 1..{MAX_REQUEST_CHARS} characters of text",
                         request_type=request_type)
        agent = payload.get("agent")
        if agent is None:
            agent = default_agent or "supervisor"
        thread_id = payload.get("thread_id")
        context = payload.get("context")
        if not isinstance(agent, str) or (thread_id is not None and not isinstance(thread_id, str)) or (
                context is not None and not isinstance(context, dict)):
            return error("INVALID_PAYLOAD", "agent and thread_id must be strings, context an object",
                         request_type=request_type)
        if agent not in AGENTS:
            return error("UNKNOWN_AGENT", f"unknown agent {agent[:64]!r}", agents=list(AGENTS))
        offered = offer is not None and thread_id is not None and thread_id == offer.thread_id
        if thread_id is not None and await self.store.threads.get(user.id, thread_id) is None:
            if not offered:
                return error("THREAD_NOT_FOUND", "thread not found", thread_id=thread_id)
            thread_id = None  # created below with the offered id
        now = time.monotonic()
        window = self.started_at.setdefault(user.id, deque())
        while window and now - window[0] >= settings.run_rate_window_s:
            window.popleft()
        if len(window) >= settings.run_rate_limit:
            retry = round(window[0] + settings.run_rate_window_s - now, 3)
            return error("RATE_LIMITED", f"more than {settings.run_rate_limit} runs in "
                                         f"{settings.run_rate_window_s:g} s", retry_after_s=max(0.001, retry))
        if (self.active.get(user.id, 0) >= settings.run_concurrency_limit
                and not settings.faults.active("run_limit_off")):
            return error("RUN_LIMIT", f"at most {settings.run_concurrency_limit} runs at once",
                         limit=settings.run_concurrency_limit)
        window.append(now)
        self._prune()
        self.active[user.id] = self.active.get(user.id, 0) + 1  # admitted: the slot is held from here
        run_id = offer.take_run_id(payload.get("thread_id")) if offered else None
        if run_id is not None and settings.variations.active("offered_run_id_unused"):
            run_id = None  # the offer is used up all the same
        if (isinstance(client_run_id, str) and client_run_id.strip() and len(client_run_id) <= 128
                and client_run_id not in self.adopted and client_run_id not in self.runs):
            run_id = client_run_id
            self.adopted.add(client_run_id)
        run_id = run_id or new_id("run", settings.variations.active("uuid_ids"), digits=24)
        stored = None
        try:
            stored = await self.store.threads.begin_run(user.id, thread_id, request[:60], request, run_id,
                                                      {"agent": agent},
                                                      new_thread_id=offer.thread_id if offered else None)
        finally:
            if stored is None:  # refused after all: neither the slot nor the rate counts it
                self._release(user.id)
                if now in window:
                    window.remove(now)
        if stored is None:  # the thread was deleted meanwhile
            return error("THREAD_NOT_FOUND", "thread not found", thread_id=thread_id)
        audience = (self.audience.everyone() if settings.faults.active("events_broadcast")
                    else self.audience.of(user.id))
        run = Run(run_id, user.id, stored[0], agent, request, audience)
        self.runs[run_id] = run
        run.task = asyncio.create_task(self._execute(run), name=run_id)
        return None

    async def _execute(self, run: Run) -> None:
        ctx = RunContext(self, run)
        t0 = time.monotonic()
        try:
            if ctx.fault("first_event_slow"):
                await asyncio.sleep(6)
            if ctx.varies("cold_start") and run.user_id not in self.warm:
                await asyncio.sleep(random.uniform(3, 4))  # the user's agents warm up, within the 5 s service level
                self.warm.add(run.user_id)
            result = await AGENT_WORK[run.agent](ctx, run.request, None, Span(0, 95))
            if not ctx.fault("assistant_message_not_stored"):
                await self.store.threads.add_message(run.user_id, run.thread_id, "assistant", result["summary"],
                                                   run_id=run.id, metadata={"agent": run.agent, "result": result})
            run.progress = 100
            await ctx.completed(run.agent, result, t0)
        except RunStopped:
            await ctx.emit("agent_stopped", run.agent, {"reason": "user_requested"})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an agent defect must end the run visibly, never silently
            log.exception("run %s failed", run.id)
            await ctx.emit("agent_error", run.agent, {"code": "AGENT_FAILED", "message": str(exc)[:500],
                                                      "recoverable": False})
        finally:
            run.finished_at = time.monotonic()
            if ctx.varies("slot_released_late"):
                asyncio.get_running_loop().call_later(random.uniform(0.05, 0.15), self._release, run.user_id)
            else:
                self._release(run.user_id)

    def stop(self, user_id: str, run_id: str) -> bool:
        run = self.runs.get(run_id)
        if run is None or run.user_id != user_id:
            return False
        if run.active and not self.settings.faults.active("stop_ignored"):
            run.stop_requested = True
        return True

    def resume(self, conn: Subscriber, user_id: str, run_id: str, last_message_id: str | None) -> bool:
        """Queues the frames after ``last_message_id`` (all when unknown), then subscribes: atomically."""
        run = self.runs.get(run_id)
        if run is None or run.user_id != user_id:
            return False
        start = 0
        for index, f in enumerate(run.frames):
            if f["message_id"] == last_message_id:
                start = index + (2 if self.settings.faults.active("resume_skips_frame") else 1)
                break
        conn.replay(run, start)
        if run.active:
            run.subscribers.add(conn)
        return True

    async def shutdown(self) -> None:
        tasks = [r.task for r in self.runs.values() if r.task and not r.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
