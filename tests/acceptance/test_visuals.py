"""Report views: timeline SVG, savings table, conversation, and the one-page summary."""
import json
import xml.etree.ElementTree as ET

from acceptance.reporting import summary, visuals
from tests import samples

SVG = "{http://www.w3.org/2000/svg}"


def _events():
    return samples.supervisor_run_events()


def test_timeline_has_a_lane_per_agent_tool_bars_and_a_terminal_mark():
    events = _events()
    svg = visuals.timeline_svg(events, "Alice: supervisor run")
    root = ET.fromstring(svg)  # well-formed XML
    agents = {e.agent_name for e in events if e.agent_name}
    lanes = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.replace(" ", "_") in agents]
    assert len(lanes) == len(agents)
    tool_pairs = sum(1 for e in events if e.type == "tool_completed")
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "tool-pair"]) == tool_pairs
    terminals = sum(1 for e in events if e.type in visuals.TERMINALS)
    assert len([c for c in root.iter(f"{SVG}circle") if c.get("class") == "terminal"]) == terminals
    assert "ms" in svg


def test_timeline_marks_a_tool_without_completion():
    events = [e for e in _events() if e.type != "tool_completed"]
    svg = visuals.timeline_svg(events)
    assert "no tool_completed" in svg


def test_timeline_of_nothing_is_empty():
    assert visuals.timeline_svg([]) == ""


def test_savings_table_lists_each_recommendation_and_the_totals():
    cost = samples.cost_optimizer_result()
    html = visuals.savings_table_html(cost, "Alice")
    for rec in cost["recommendations"]:
        assert rec["title"] in html and f"${rec['monthly_savings_usd']:,.2f}" in html
    potential = cost["potential_savings"]
    assert f"${potential['monthly_amount']:,.2f}" in html and f"a year ${potential['annual_amount']:,.2f}" in html
    assert f"{potential['percentage']} % of current spend" in html


def test_savings_table_escapes_text():
    cost = samples.cost_optimizer_result()
    cost["recommendations"][0]["title"] = "<script>alert(1)</script>"
    assert "<script>" not in visuals.savings_table_html(cost)


def test_conversation_reads_as_a_dialogue():
    text = visuals.conversation_text([("Alice", "How do I save?", "Route classification to gpt-4o-mini.")])
    assert text == "Alice: How do I save?\nAssistant: Route classification to gpt-4o-mini.\n"


def _result(tmp_path, name, status, epic, message=None, savings=None, start=0, stop=1000):
    labels = [{"name": "epic", "value": epic}]
    if savings is not None:
        labels.append({"name": "savings_monthly_usd", "value": savings})
    data = {"name": name, "status": status, "labels": labels, "start": start, "stop": stop}
    if message:
        data["statusDetails"] = {"message": message}
    (tmp_path / f"{name.replace(' ', '_')}-result.json").write_text(json.dumps(data))


def test_summary_groups_by_journey_and_category(tmp_path):
    from acceptance.reporting.results_folder import write_categories
    write_categories(tmp_path)
    _result(tmp_path, "saves money", "passed", "Business value", savings="423.00", stop=2500)
    _result(tmp_path, "wrong total", "failed", "Business value", "Business outcome: total should be $423.00\nmore")
    _result(tmp_path, "leaks", "failed", "Multi-user isolation", "Isolation breach: Bob saw Alice's run")
    _result(tmp_path, "typo", "broken", "Persistence", "NameError: name 'x' is not defined")
    text = summary.build(tmp_path)
    assert "| Business value | 1 | 1 |" in text
    assert "### Business outcome (1)" in text and "total should be $423.00" in text and "more" not in text
    assert "### Isolation breach (1)" in text and "### Suite defect (1)" in text
    assert "$423.00 a month of savings shown to users in 1 passing scenario(s)" in text
    assert text.index("saves money") > text.index("## Slowest journeys")


def _short_tools_run():
    """Four tools that each take a millisecond, one right after the other, in a run of a second."""
    from acceptance.client.events import Event

    def event(kind, at, tool=None, execution=None):
        data = {"execution_id": execution} if execution else {}
        return Event(kind, data, None, None, "run-1", "t-1", "cost_optimizer", tool, {}, at)
    events = [event("agent_started", 0.0)]
    for k, tool in enumerate(["usage_reader", "price_lookup", "cache_planner", "batch_planner"]):
        events += [event("tool_executing", 0.100 + k * 0.002, tool, f"x{k}"),
                   event("tool_completed", 0.101 + k * 0.002, tool, f"x{k}")]
    return events + [event("agent_completed", 1.0)]


def test_timeline_tool_labels_never_overlap_when_tools_are_short():
    root = ET.fromstring(visuals.timeline_svg(_short_tools_run()))
    labels = [(float(t.get("x")), float(t.get("y")), t.text) for t in root.iter(f"{SVG}text")
              if t.get("class") == "tool-label"]
    assert len(labels) >= 2  # above and below the bars
    for i, (x1, y1, text1) in enumerate(labels):
        for x2, y2, text2 in labels[i + 1:]:
            if y1 == y2:  # same row: the earlier label must end before the next one starts
                left, right = sorted([(x1, text1), (x2, text2)])
                assert left[0] + visuals.label_width(left[1]) <= right[0], (left, right)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "tool-pair"]
    assert len(bars) == 4 and all(bar.find(f"{SVG}title") is not None for bar in bars)  # every tool still named


def test_the_report_carries_one_business_summary_for_the_whole_folder(tmp_path):
    """The report build attaches the summary of the (merged) folder, in plain text, once however often it
    builds, and leaves other global attachments alone."""
    from acceptance.reporting.results_folder import write_categories
    write_categories(tmp_path)
    _result(tmp_path, "saves money", "passed", "Business value", savings="423.00")
    (tmp_path / "other-globals.json").write_text(json.dumps(
        {"attachments": [{"name": "Build log", "source": "log-attachment.txt", "type": "text/plain"}]}))
    summary.attach(tmp_path)
    summary.attach(tmp_path)  # a second build of the same folder
    attached = [a for p in tmp_path.glob("*-globals.json") for a in json.loads(p.read_text())["attachments"]]
    assert sorted(a["name"] for a in attached) == ["Build log", summary.TITLE]
    (mine,) = [a for a in attached if a["name"] == summary.TITLE]
    text = (tmp_path / mine["source"]).read_text()
    assert mine["type"] == "text/plain" and "**" not in text and "|" not in text
    assert "$423.00 a month of savings shown to users in 1 passing scenario(s)" in text
    assert text.index("Business value demonstrated") < text.index("Journeys") < text.index("Failures by category")
    assert sorted(p.name for p in tmp_path.glob("*-attachment.txt")) == [summary.FILES[1]]


def test_the_conversation_says_how_a_run_ended_without_an_answer():
    from acceptance.client.events import Event
    error = Event("agent_error", {"message": "the model is unavailable"}, None, None, "r", "t", "supervisor", None, {}, 1.0)
    assert visuals.answer_text(None) == "(no answer: the run had not ended)"
    assert visuals.answer_text(error) == "(agent error: the model is unavailable)"
