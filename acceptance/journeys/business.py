"""Agents and business value: what the cost optimizer, data analysis and performance optimizer tell
a team, and how a conversation with them keeps its thread (CONTRACT sections 5, 6 and 7).

Steps in ``features/steps/business_steps.py`` call these functions one or two at a time. Each
check states what the business expected, what the platform answered, and the evidence, and fails
as the class of :mod:`acceptance.verify.errors` that names the cause.
"""
from __future__ import annotations

import json
import statistics
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from acceptance.client.chat import RunRecord
from acceptance.client.events import Event, describe_events
from acceptance.journeys import usage_data
from acceptance.journeys.actors import Actor, World
from acceptance.verify import checks, money
from acceptance.verify.errors import BusinessOutcomeFailure, ContractViolation
from acceptance.verify.schemas import validate_frame

def _excerpt(obj: Any, limit: int = 700) -> str:
    text = json.dumps(obj, default=repr, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# =========================================================================== recommendations

_ACTION_ALIASES = {**{lever.words: lever.type for lever in money.LEVERS},
                   **{lever.action: lever.type for lever in money.LEVERS if "{" not in lever.action}}


def action_of(words: str) -> tuple[str, str | None]:
    """The recommendation type (and routing target) a feature file names in words:
    ``route to gpt-4o-mini``, ``cache prompt prefixes``, ``batch requests`` (or the lever's name)."""
    text = " ".join(words.strip().lower().split())
    if text.startswith("route to "):
        return "model_routing", text[len("route to "):]
    if text in _ACTION_ALIASES:
        return _ACTION_ALIASES[text], None
    raise usage_data.BadExample(f"unknown action {words!r}; say 'route to <model>', 'cache prompt prefixes' or "
                                f"'batch requests'")


def describe_recommendation(rec: Any) -> tuple[str, str, str]:
    """A recommendation as a row of the feature's table: action in words, model, monthly saving."""
    if not isinstance(rec, dict):
        return (repr(rec), "", "")
    lever = money.LEVER.get(rec.get("type"))
    words = lever.action.format(target=rec.get("target_model") or "?") if lever else repr(rec.get("type"))
    return words, str(rec.get("model")), money.usd(rec.get("monthly_savings_usd"))


def _table(rows: Iterable[Sequence[str]]) -> str:
    rows = [("action", "model", "monthly saving")] + [tuple(r) for r in rows]
    widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
    return "\n".join("    | " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in rows)


def recommendations_match(cost: Mapping[str, Any], expected: Sequence[Mapping[str, str]]) -> None:
    """The recommendations are exactly the expected rows (action | model | monthly saving), in order."""
    actual = cost.get("recommendations") or []
    wanted = []
    for row in expected:
        lever, target = action_of(row["action"])
        wanted.append((lever, target, row["model"].strip(), money.parse(row["monthly saving"])))
    problems = []
    if len(actual) != len(wanted):
        problems.append(f"expected {len(wanted)} recommendation(s), got {len(actual)}")
    for n, (want, got) in enumerate(zip(wanted, actual), start=1):
        lever, target, model, saving = want
        if not isinstance(got, dict):
            problems.append(f"row {n}: not an object: {got!r}")
            continue
        mismatch = []
        if got.get("type") != lever:
            mismatch.append(f"action {got.get('type')!r} instead of {lever!r}")
        if target is not None and got.get("target_model") != target:
            mismatch.append(f"moves traffic to {got.get('target_model')!r} instead of {target!r}")
        if got.get("model") != model:
            mismatch.append(f"model {got.get('model')!r} instead of {model!r}")
        amount = got.get("monthly_savings_usd")
        if not money.same(amount, saving):
            mismatch.append(f"saving {amount!r} instead of {saving}")
        if mismatch:
            problems.append(f"row {n}: " + "; ".join(mismatch))
    if problems:
        raise BusinessOutcomeFailure(
            "the recommendations differ from the expected ones:\n  - " + "\n  - ".join(problems)
            + "\n  expected:\n" + _table((r["action"], r["model"], r["monthly saving"]) for r in expected)
            + "\n  the platform recommended:\n" + _table(describe_recommendation(r) for r in actual)
            + f"\n  potential_savings: {cost.get('potential_savings')!r}")


# =========================================================================== savings invariants

def _figures(cost: Mapping[str, Any]) -> tuple[Any, Any, Any, Any, list]:
    savings = cost.get("potential_savings") or {}
    current = (cost.get("cost_analysis") or {}).get("current_monthly_cost_usd")
    return (savings.get("monthly_amount"), savings.get("annual_amount"), savings.get("percentage"), current,
            list(cost.get("recommendations") or []))


def _evidence(cost: Mapping[str, Any]) -> str:
    monthly, annual, percentage, current, recs = _figures(cost)
    listing = "\n".join(f"    {n}. " + " | ".join(describe_recommendation(r)) for n, r in enumerate(recs, start=1))
    return (f"current spend {current!r} a month; potential_savings monthly={monthly!r} annual={annual!r} "
            f"percentage={percentage!r}; recommendations:\n{listing or '    (none)'}")


def offers_savings(cost: Mapping[str, Any]) -> None:
    """At least one recommendation and a positive monthly saving."""
    monthly = money.Savings.require(cost, "monthly", evidence=_evidence(cost)).monthly
    if not cost.get("recommendations") or monthly <= 0:
        raise BusinessOutcomeFailure(f"usage with premium-model classification, shared prompt prefixes and batchable "
                                     f"traffic should yield at least one way to save; {_evidence(cost)}")


def recommendations_are_actionable(cost: Mapping[str, Any]) -> None:
    """Every recommendation names its model, its action (routing, caching or batching) and its monthly saving."""
    offers_savings(cost)
    problems = []
    for n, rec in enumerate(cost["recommendations"], start=1):
        problems += money.recommendation_problems(rec, str(n))
        if isinstance(rec, dict) and rec.get("type") == "model_routing" and not rec.get("target_model"):
            problems.append(f"{n}: a routing recommendation that names no model to route to")
    if problems:
        raise BusinessOutcomeFailure("some recommendations cannot be acted on:\n  - " + "\n  - ".join(problems)
                                     + f"\n  {_evidence(cost)}")


def monthly_is_sum_within_spend(cost: Mapping[str, Any]) -> None:
    """monthly = sum of the recommendations' savings (± $0.01) and 0 ≤ monthly ≤ current spend."""
    money.expect_savings(cost, "sum", "spend", evidence=_evidence(cost))


def annual_is_twelve_months(cost: Mapping[str, Any]) -> None:
    """annual = 12 × monthly (± $0.01)."""
    money.expect_savings(cost, "annual", evidence=_evidence(cost))


def percentage_is_share_of_spend(cost: Mapping[str, Any]) -> None:
    """percentage = 100 × monthly / current spend (± 0.01; 0 when nothing is spent)."""
    money.expect_savings(cost, "percentage", evidence=_evidence(cost))


def largest_saving_first(cost: Mapping[str, Any]) -> None:
    """Recommendations ordered by monthly saving, largest first."""
    money.expect_savings(cost, "order", evidence=_evidence(cost))


def savings_figures(cost: Mapping[str, Any], monthly: Decimal, annual: Decimal, percentage: Decimal) -> None:
    """The exact monthly and annual savings and percentage (reference rules), besides the invariants."""
    found = money.Savings.require(cost, "monthly", "annual", "percentage", evidence=_evidence(cost))
    wrong = [f"{name} {money.usd(got)} instead of {money.usd(want)}"
             for name, got, want in (("monthly", found.monthly, monthly), ("annual", found.annual, annual))
             if not money.same(got, want)]
    if not money.same(found.percentage, percentage):
        wrong.append(f"percentage {found.percentage} % instead of {percentage:.2f} %")
    if wrong:
        raise BusinessOutcomeFailure("the savings differ from the reference rules: " + "; ".join(wrong)
                                     + f"\n  {_evidence(cost)}")
    checks.savings_are_honest(cost)


def current_spend(cost: Mapping[str, Any], amount: Decimal) -> None:
    """The cost analysis states ``amount`` as the current monthly spend."""
    actual = (cost.get("cost_analysis") or {}).get("current_monthly_cost_usd")
    checks.money_equals(actual, amount, "the current monthly spend", cost.get("cost_analysis"))


# =========================================================================== data sufficiency

NOT_ENOUGH_WORDS = ("not enough", "insufficient", "no usage", "no data")


def sufficiency_is(run: RunRecord, expected: str) -> dict[str, Any]:
    """The cost optimisation (directly or inside the supervisor's result) rates the data as expected."""
    cost = checks.cost_result(run)
    levels = {"cost optimisation": cost.get("data_sufficiency")}
    if run.agent == "supervisor":
        levels["answer"] = run.result.get("data_sufficiency")
    wrong = {k: v for k, v in levels.items() if v != expected}
    if wrong:
        raise BusinessOutcomeFailure(f"the data should be rated {expected!r}, but the {', '.join(wrong)} rated it "
                                     f"{', '.join(repr(v) for v in wrong.values())}; summary: {cost.get('summary')!r}")
    return cost


def not_enough_data(run: RunRecord) -> None:
    """A completed answer rating the data insufficient, saying so, and promising nothing."""
    cost = sufficiency_is(run, "insufficient")
    summary = run.result.get("summary")
    if not isinstance(summary, str) or not any(w in summary.lower() for w in NOT_ENOUGH_WORDS):
        raise BusinessOutcomeFailure(f"the answer's summary should tell the user there is not enough usage data "
                                     f"(in words like {', '.join(NOT_ENOUGH_WORDS)}); it says {summary!r}")
    no_recommendations(cost)


def no_recommendations(cost: Mapping[str, Any]) -> None:
    """No recommendation and a monthly saving of zero."""
    monthly = (cost.get("potential_savings") or {}).get("monthly_amount")
    if cost.get("recommendations") or money.amount(monthly) != 0:
        raise BusinessOutcomeFailure(f"with no usage data nothing can be recommended or promised; {_evidence(cost)}")


# =========================================================================== daily usage and anomalies

def dates_days_ago(world: World, ago: int) -> set[date]:
    """The UTC date(s) of a record stamped ``ago`` days and 1 hour before it was seeded (as
    :func:`acceptance.journeys.usage_data.from_rows` does). Seeding happened between the scenario's start
    and now, so both instants are considered; they give one date except across a date change."""
    now = datetime.now(timezone.utc)
    started = now - timedelta(seconds=time.monotonic() - world.transcript.t0)
    return {(moment - timedelta(days=ago, hours=1)).date() for moment in (started, now)}


def _daily(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(day.get("date")): day for day in result.get("daily") or [] if isinstance(day, dict)}


def _find_day(daily: Mapping[str, Mapping[str, Any]], candidates: set[date]) -> str | None:
    return next((d.isoformat() for d in sorted(candidates) if d.isoformat() in daily), None)


def daily_usage_matches(world: World, result: Mapping[str, Any], rows: Sequence[Mapping[str, str]]) -> None:
    """``daily`` lists exactly the days of the rows (``days ago | requests`` and optionally ``cost``)."""
    daily = _daily(result)
    problems, seen = [], set()
    for row in rows:
        ago = usage_data.count(row["days ago"])
        day = _find_day(daily, dates_days_ago(world, ago))
        if day is None:
            dates = ", ".join(sorted(d.isoformat() for d in dates_days_ago(world, ago)))
            problems.append(f"no entry for {ago} days ago ({dates})")
            continue
        seen.add(day)
        want = usage_data.count(row["requests"])
        if daily[day].get("requests") != want:
            problems.append(f"{day} ({ago} days ago): {daily[day].get('requests')!r} requests instead of {want}")
        if "cost" in row:
            cost = daily[day].get("cost_usd")
            if not money.same(cost, money.parse(row["cost"])):
                problems.append(f"{day} ({ago} days ago): cost {cost!r} instead of {row['cost']}")
    extra = sorted(set(daily) - seen)
    if extra:
        problems.append(f"days without usage listed: {', '.join(extra)}")
    if problems:
        raise BusinessOutcomeFailure("the daily usage differs from what the team used:\n  - " + "\n  - ".join(problems)
                                     + f"\n  daily: {_excerpt(result.get('daily'))}")


def only_day_flagged(world: World, result: Mapping[str, Any], ago: int) -> dict[str, Any]:
    """The anomalies are exactly that day; it costs more than twice the median day, which is the baseline,
    and no other day does."""
    daily = _daily(result)
    day = _find_day(daily, dates_days_ago(world, ago))
    if day is None:
        raise BusinessOutcomeFailure(f"the daily usage has no entry for {ago} days ago; daily: "
                                     f"{_excerpt(result.get('daily'))}")
    anomalies = [a for a in result.get("anomalies") or [] if isinstance(a, dict)]
    flagged = [str(a.get("date")) for a in anomalies]
    evidence = f"anomalies: {_excerpt(anomalies)}; daily: {_excerpt(result.get('daily'))}"
    if flagged != [day]:
        raise BusinessOutcomeFailure(f"exactly the day {ago} days ago ({day}) should be flagged, the analysis flagged "
                                     f"{flagged or 'no day'}; {evidence}")
    costs = [d.get("cost_usd") for d in daily.values()]
    if not all(money.is_amount(c) for c in costs):
        raise ContractViolation(f"a day carries no cost; {evidence}")
    median = statistics.median(money.amount(c) for c in costs)
    anomaly = anomalies[0]
    if not money.same(anomaly.get("baseline_usd"), median):
        raise BusinessOutcomeFailure(f"the baseline of the flagged day should be the median day's cost "
                                     f"{money.usd(median)}; {evidence}")
    if not money.same(anomaly.get("cost_usd"), daily[day]["cost_usd"]):
        raise BusinessOutcomeFailure(f"the flagged day's cost should be its daily cost; {evidence}")
    if not money.amount(daily[day]["cost_usd"]) > 2 * median:
        raise BusinessOutcomeFailure(f"the flagged day does not cost more than twice the median day "
                                     f"({money.usd(median)}); {evidence}")
    return anomaly


def anomaly_amounts(anomaly: Mapping[str, Any], cost: Decimal, baseline: Decimal) -> None:
    """The flagged day's cost and the baseline (median day) it was compared with."""
    checks.money_equals(anomaly.get("cost_usd"), cost, "the unusual day's cost", anomaly)
    checks.money_equals(anomaly.get("baseline_usd"), baseline, "the typical day's cost", anomaly)


def counts_every_request(result: Mapping[str, Any], total: int) -> None:
    """The requests of the daily entries add up to ``total``."""
    counted = sum(d.get("requests", 0) for d in result.get("daily") or [] if isinstance(d, dict)
                  and money.is_amount(d.get("requests")))
    if counted != total:
        raise BusinessOutcomeFailure(f"the analysis counted {counted:,} requests over its days instead of the "
                                     f"{total:,} the team made; daily: {_excerpt(result.get('daily'))}")


# =========================================================================== a long usage history

HISTORY_MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "claude-haiku-3.5", "gemini-2.5-pro", "gemini-2.5-flash")
HISTORY_TASKS = ("classification", "summarization", "extraction", "drafting")


def usage_history(records: int, now: datetime, days: int = 28) -> list[dict[str, Any]]:
    """``records`` usage records of one request each, spread evenly over the last ``days`` days (the newest
    an hour old)."""
    if not 1 <= records <= 10_000:
        raise usage_data.BadExample(f"one upload holds 1..10,000 records, not {records:,}")
    step = timedelta(days=days) / records
    newest = now - timedelta(hours=1)
    return [{"timestamp": usage_data.iso(newest - step * i), "model": HISTORY_MODELS[i % len(HISTORY_MODELS)],
             "task": HISTORY_TASKS[i % len(HISTORY_TASKS)], "requests": 1, "input_tokens": 800 + i % 400,
             "output_tokens": 150 + i % 100, "latency_ms": 400 + i % 900} for i in range(records)]


def shows_progress(run: RunRecord, agent: str) -> None:
    """The agent reports its progress as the contract fixes it (CONTRACT section 5): it thinks at least once,
    and before its first tool pair; its progress is a number in 0..100 that never decreases. How many thinking
    steps, and by how much progress moves between them, the contract leaves open, and so does this check."""
    frames = [e for e in run.events if e.agent_name == agent]
    thinking = [e for e in frames if e.type == "agent_thinking"]
    values = [e.data.get("progress_percentage") for e in thinking]
    first_tool = next((i for i, e in enumerate(frames) if e.type == "tool_executing"), len(frames))
    problems = []
    if not any(e.type == "agent_thinking" for e in frames[:first_tool]):
        problems.append("no agent_thinking before its first tool pair")
    if not all(money.is_amount(v) and 0 <= v <= 100 for v in values):
        problems.append(f"progress values outside 0..100: {values}")
    elif any(b < a for a, b in zip(values, values[1:])):
        problems.append(f"progress went back: {values}")
    if problems:
        raise ContractViolation(
            f"during a long analysis the {agent} agent should show its progress ({'; '.join(problems)}); it "
            f"reported {len(thinking)} thinking step(s) with progress {values}:\n{describe_events(frames, limit=30)}")


# =========================================================================== latency

def latency_matches(result: Mapping[str, Any], rows: Sequence[Mapping[str, str]]) -> None:
    """``latency`` has exactly the rows' models with their p50 and p95 (milliseconds, ±0.5)."""
    latency = {str(r.get("model")): r for r in result.get("latency") or [] if isinstance(r, dict)}
    problems = []
    for row in rows:
        model = row["model"].strip()
        got = latency.get(model)
        if got is None:
            problems.append(f"no latency reported for {model}")
            continue
        for key, column in (("p50_ms", "p50 ms"), ("p95_ms", "p95 ms")):
            want = float(row[column].replace(",", ""))
            if not money.is_amount(got.get(key)) or abs(got[key] - want) > 0.5:
                problems.append(f"{model}: {key} {got.get(key)!r} instead of {want:g}")
    extra = sorted(set(latency) - {r["model"].strip() for r in rows})
    if extra:
        problems.append(f"latency reported for models the team did not measure: {', '.join(extra)}")
    if problems:
        raise BusinessOutcomeFailure("the latency per model differs from the measurements:\n  - "
                                     + "\n  - ".join(problems) + f"\n  latency: {_excerpt(result.get('latency'))}")


def latency_advice_for(result: Mapping[str, Any], models: Sequence[str]) -> None:
    """Exactly ``models`` get a latency recommendation (each recommendation names its model)."""
    recs = result.get("recommendations") or []
    named = [r.get("model") if isinstance(r, dict) else None for r in recs]
    if None in named:
        raise ContractViolation(f"a latency recommendation names no model, so the team cannot act on it: "
                                f"{_excerpt(recs)}")
    if sorted(named) != sorted(models):
        raise BusinessOutcomeFailure(f"latency advice should concern {', '.join(models) or 'no model'} (p95 above "
                                     f"twice p50), it concerns {', '.join(map(str, named)) or 'no model'}; "
                                     f"latency: {_excerpt(result.get('latency'))}; recommendations: {_excerpt(recs)}")


# =========================================================================== specialists

def _cost_shape(run: RunRecord, result: dict) -> None:
    checks.savings_are_honest(result)


def _data_shape(run: RunRecord, result: dict) -> None:
    if not result.get("daily") or not result.get("by_model"):
        raise BusinessOutcomeFailure(f"the data analysis of a team with usage lists no daily costs or models: "
                                     f"{_excerpt(result)}")


def _latency_shape(run: RunRecord, result: dict) -> None:
    if not result.get("latency"):
        raise BusinessOutcomeFailure(f"the performance optimizer reports no latency for measured traffic: "
                                     f"{_excerpt(result)}")


def _summary_shape(run: RunRecord, result: dict) -> None:
    pass  # the summary every result carries is checked for all agents


SHAPES = {
    "savings and the recommendations behind them": ("cost_optimizer", _cost_shape),
    "daily costs, usage by model and unusual days": ("data_analysis", _data_shape),
    "latency per model and what to do about it": ("performance_optimizer", _latency_shape),
    "a summary of how the request will be handled": ("triage", _summary_shape),
}


def answer_has_shape(run: RunRecord, agent: str, shape: str) -> None:
    """The run was answered by ``agent`` with the result the contract gives that agent."""
    if shape not in SHAPES:
        raise usage_data.BadExample(f"unknown answer {shape!r}; known: {', '.join(SHAPES)}")
    expected_agent, check = SHAPES[shape]
    if expected_agent != agent:
        raise usage_data.BadExample(f"{shape!r} is what the {expected_agent} agent answers, not {agent}")
    if run.agent != agent:
        raise ContractViolation(f"asked the {agent} agent, but the run was started by {run.agent!r}: "
                                f"{run.started.compact()}")
    result = checks.result_of(run)
    if not isinstance(result.get("summary"), str) or not result["summary"].strip():
        raise ContractViolation(f"the {agent} result carries no summary (the answer stored in the thread): "
                                f"{_excerpt(result)}")
    check(run, result)


# =========================================================================== refusals

def refused_as_unknown_agent(actor: Actor) -> Event:
    """The actor's last start was answered by an ``error`` frame with the code UNKNOWN_AGENT, not by a run."""
    attempt = actor.last_attempt
    return checks.start_refused(attempt.outcome, "UNKNOWN_AGENT", f"asking the unknown agent {attempt.agent!r}")


def same_connection(actor: Actor) -> None:
    """The actor's last run, asked after a refusal, came over the connection that got the refusal, which is still
    open, and that connection saw no agent frames except the run's (the refused request started nothing)."""
    refused = next((a for a in reversed(actor.attempts) if a.refused), None)
    if refused is None:
        raise ContractViolation(f"none of {actor.name}'s requests was refused")
    session, run = refused.chat, actor.last_run
    if run.session is not session or not session.is_open:
        raise ContractViolation(f"{actor.name}'s conversation should carry on over the connection that got the "
                                f"refusal ({session.name}); it {'is closed' if not session.is_open else 'is open'} "
                                f"and the next answer came over {run.session.name}; {session.log.describe()}")
    stray = [e for e in session.log.snapshot() if e.is_agent_event and e.run_id != run.run_id]
    if stray:
        raise ContractViolation(f"the refused request started agent work anyway:\n{describe_events(stray)}")


# =========================================================================== stop

def stop_during_tool(run: RunRecord, timeout: float) -> Event:
    """Waits until an agent of the run is using a tool, asks to stop the run, and waits for its end."""
    session = run.session
    session.wait_for(lambda evs: next((e for e in evs if e.run_id == run.run_id and e.type == "tool_executing"), None)
                     or run.terminal, timeout, f"a tool of run {run.run_id} at work")
    if run.terminal is not None:
        raise ContractViolation(f"run {run.run_id} ended before any of its agents used a tool, so it could not be "
                                f"stopped mid-way: {run.terminal.compact()}\n{describe_events(run.events)}")
    session.stop(run.run_id)
    return session.wait_for_end(run, timeout)


def stopped_cleanly(run: RunRecord, agent: str | None = None) -> None:
    """One agent_stopped, for the run's own agent (``agent`` when given), as the run's last frame; no tool
    pair split."""
    if agent is not None and run.agent != agent:
        raise ContractViolation(f"the run should be the {agent}'s, it was started by {run.agent!r}: "
                                f"{run.started.compact()}")
    events = checks.run_is_well_formed(run)
    stops = [e for e in events if e.type == "agent_stopped"]
    others = [e for e in events if e.type in ("agent_completed", "agent_error") and e.agent_name == run.agent]
    if len(stops) != 1 or stops[0].agent_name != run.agent or others or events[-1] is not stops[0]:
        raise ContractViolation(f"a stopped run ends with exactly one agent_stopped from {run.agent} as its last "
                                f"frame; got {len(stops)} agent_stopped frame(s):\n{describe_events(events, limit=20)}")
    if stops[0].data.get("reason") != "user_requested":
        raise ContractViolation(f"agent_stopped should say reason user_requested: {_excerpt(stops[0].data)}")


def no_answer_stored(actor: Actor, run: RunRecord) -> None:
    """The thread of a stopped run holds its question and no assistant message for it."""
    messages = actor.messages(run.thread_id)
    answers = [m for m in messages if m.get("role") == "assistant"
               and (m.get("run_id") in (None, run.run_id))]
    if answers:
        raise BusinessOutcomeFailure(f"a stopped run must store no answer, but the thread holds "
                                     f"{_excerpt(answers)}")


# =========================================================================== conversations

def follow_up(actor: Actor, question: str) -> RunRecord:
    """Asks in the thread of the actor's previous question."""
    previous = actor.last_run
    if not previous.thread_id:
        raise ContractViolation(f"{actor.name}'s previous run carries no thread id: {previous.started.compact()}")
    return actor.ask(question, thread_id=previous.thread_id)


def one_conversation(actor: Actor) -> str:
    """Every run of the actor went into the same thread, and it is the actor's only thread."""
    threads = {run.thread_id for run in actor.runs}
    if len(threads) != 1:
        raise ContractViolation(f"{actor.name}'s questions should stay in one thread, they went into "
                                f"{sorted(map(str, threads))}")
    thread_id = threads.pop()
    body = actor.thread_page().body
    # threads a netra-2025 handshake offered and no run used may exist, empty (N25-6): not conversations
    offered = actor.offered_thread_ids() - {thread_id}
    ids = [t.get("id") for t in body["threads"]
           if not (t.get("id") in offered and t.get("message_count") == 0)]
    if ids != [thread_id]:
        raise ContractViolation(f"{actor.name} should have exactly the one conversation {thread_id}, the thread list "
                                f"shows {ids}")
    return thread_id


def _expected_history(actor: Actor, rows: Sequence[Mapping[str, str]]) -> list[tuple[str, str, str | None]]:
    """(role, content, run id) of every message the rows promise, in order."""
    runs = list(actor.runs)
    if len(runs) != len(rows):
        raise usage_data.BadExample(f"the history names {len(rows)} question(s), {actor.name} asked {len(runs)}")
    expected = []
    for run, row in zip(runs, rows):
        if run.request != row["question"]:
            raise usage_data.BadExample(f"{actor.name} asked {run.request!r}, the history names {row['question']!r}")
        expected.append(("user", run.request, run.run_id))
        if usage_data.yes(row["answered"]):
            expected.append(("assistant", run.result.get("summary"), run.run_id))
    return expected


def _history_problems(messages: Sequence[Any], expected: Sequence[tuple[str, str, str | None]]) -> list[str]:
    problems = []
    if len(messages) != len(expected):
        problems.append(f"{len(messages)} message(s) instead of {len(expected)}")
    for n, (got, (role, content, run_id)) in enumerate(zip(messages, expected), start=1):
        if not isinstance(got, dict):
            problems.append(f"message {n} is not an object")
            continue
        if got.get("role") != role or got.get("content") != content:
            problems.append(f"message {n}: {got.get('role')!r} said {str(got.get('content'))[:80]!r}, expected "
                            f"{role!r} saying {str(content)[:80]!r}")
        if got.get("run_id") is not None and got.get("run_id") != run_id:
            problems.append(f"message {n}: belongs to run {got.get('run_id')!r}, expected {run_id!r}")
        if role == "assistant":
            stored = (got.get("metadata") or {}).get("result")
            if not isinstance(stored, dict) or stored.get("summary") != content:
                problems.append(f"message {n}: metadata.result should hold the run's result")
    return problems


def _listing(messages: Sequence[Any]) -> str:
    return "\n".join(f"    {n}. {m.get('role')} [{m.get('run_id')}]: {str(m.get('content'))[:90]!r}"
                     if isinstance(m, dict) else f"    {n}. {m!r}" for n, m in enumerate(messages, start=1)) \
        or "    (no messages)"


def thread_via_chat(actor: Actor, thread_id: str, timeout: float) -> list[Any]:
    """The messages of a thread as the chat's ``get_thread`` returns them."""
    answer = actor.chat.get_thread(thread_id, timeout)
    if answer.type == "error":
        raise ContractViolation(f"get_thread for {actor.name}'s own thread was refused: {answer.compact()} "
                                f"{_excerpt(answer.data)}")
    validate_frame(answer)
    return answer.data.get("messages") or []


def history_reads(actor: Actor, rows: Sequence[Mapping[str, str]], timeout: float) -> None:
    """The thread's history (over REST and over the chat's get_thread) is each question, followed by its
    answer when it was answered, in the order asked. Stopped runs are re-checked to have ended once."""
    for run in actor.runs:
        if run.terminal is not None and run.terminal.type == "agent_stopped":
            stopped_cleanly(run)
    thread_id = one_conversation(actor)
    expected = _expected_history(actor, rows)
    for source, messages in (("the thread's messages", actor.messages(thread_id)),
                             ("the chat's get_thread", thread_via_chat(actor, thread_id, timeout))):
        problems = _history_problems(messages, expected)
        if problems:
            raise BusinessOutcomeFailure(
                f"{source} should read as {actor.name} asked and was answered:\n  - " + "\n  - ".join(problems)
                + "\n  expected:\n" + _listing([{"role": r, "content": c, "run_id": i} for r, c, i in expected])
                + f"\n  {source} holds:\n" + _listing(messages))
