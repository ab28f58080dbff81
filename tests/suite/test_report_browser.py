"""The HTML report, built from a small real run, opened in headless Chromium (Debian's /usr/bin/chromium,
installed by bin/setup): the first page groups the journeys by epic > feature > story and carries the
business summary and the quality gate; the run timeline and the savings table render; after two runs
the Graphs page shows trends across them; a failing @critical scenario fails the gate and the report
build. Keeps screenshots under reports/."""
import json
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from acceptance.reporting import html_report

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCENARIO = "A new user signs up, asks how to spend less and gets concrete savings"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@contextmanager
def browser_page(width: int, height: int):
    """A page of headless Debian Chromium (driven by Playwright; no browser download)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run bin/setup (it installs Debian's chromium), "
                    "or apt-get install chromium")
    work = tmp_path_factory.mktemp("report")
    results = work / "results"
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "null", "--no-summary", "-D",
                           f"allure_results={results}", "features/business_value/cost_optimization.feature",
                           "--name", SCENARIO], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return html_report.build(results, work / "html", work / "history.jsonl")


def test_report_renders_scenarios_timeline_and_savings(report):
    with browser_page(1400, 1600) as page:
        page.goto(report.index.as_uri())
        page.get_by_text("Business value", exact=True).first.click()   # epic
        page.get_by_text("Cost optimization", exact=True).first.click()  # feature
        page.get_by_text("Savings journey", exact=True).first.click()    # story
        page.get_by_text(SCENARIO).first.click()
        page.get_by_text("Timeline: Alice").first.click()
        timeline = page.locator('[data-testid="image-attachment-content"] img').first
        timeline.wait_for(timeout=10_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=timeline.element_handle(),
                               timeout=10_000)
        assert timeline.evaluate("img => img.naturalWidth") >= 900  # the SVG decoded at its own width
        header = page.get_by_text("Savings shown to Alice").first
        header.scroll_into_view_if_needed()
        header.click()
        frame = page.frame_locator("iframe").first  # the HTML attachment's preview
        frame.locator("#savings").wait_for(timeout=10_000)
        rows = frame.locator("#savings tbody tr")
        assert rows.count() == 1 and "gpt-4o-mini" in rows.first.inner_text()
        assert "$423.00" in frame.locator("#savings tfoot").inner_text()
        # the whole table is in the preview: nothing cut off at the bottom or the right of its frame
        fits = frame.locator("html").evaluate(
            "h => [h.scrollHeight <= h.clientHeight, h.scrollWidth <= h.clientWidth, h.clientHeight]")
        assert fits[:2] == [True, True], fits
        shot = ROOT / "reports" / "report-screenshot.png"
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)


def test_first_page_shows_the_epics_the_business_summary_and_the_quality_gate(report):
    with browser_page(1400, 1100) as page:
        page.goto(report.index.as_uri())
        tree = page.get_by_text("Business value", exact=True).first  # the epic, at the top of the tree
        tree.wait_for(timeout=10_000)
        assert page.get_by_text("features/business_value").count() == 0  # not grouped by folder
        shot = ROOT / "reports" / "report-first-page.png"
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(shot))
        tree.click()
        page.get_by_text("Cost optimization", exact=True).first.click()
        page.get_by_text("Savings journey", exact=True).first.wait_for(timeout=5_000)

        page.get_by_text("Global Attachments").first.click()
        page.get_by_text("Business summary").first.click()
        page.get_by_text("Business value demonstrated").first.wait_for(timeout=10_000)
        text = page.locator("body").inner_text()
        assert "$423.00 a month of savings shown to users in 1 passing scenario(s)" in text
        assert "PASSED: 1 scenarios passed, 0 failed." in text and "Failures by category" in text

        page.get_by_text("Quality Gates").first.click()
        page.get_by_text("critical-scenarios/maxFailures").first.wait_for(timeout=10_000)
        assert "The number of failed tests 0 is within the allowed threshold value 0" in \
            page.locator("body").inner_text()


def test_a_failing_critical_scenario_fails_the_quality_gate_and_the_report_build(tmp_path):
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "null", "--no-summary", "-D",
                           f"allure_results={results}", "-D", "platform_faults=savings_annual_wrong",
                           "features/business_value/cost_optimization.feature", "--name", SCENARIO],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr  # the fault is caught ...
    built = subprocess.run([sys.executable, "-m", "acceptance", "report", "--results", str(results),
                            "--output", str(tmp_path / "html"), "--history", str(tmp_path / "history.jsonl")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert built.returncode == 3, built.stdout + built.stderr  # ... and fails the build, saying why
    assert f"QUALITY GATE FAILED: these @critical scenarios failed or broke: {SCENARIO}" in built.stderr
    assert (tmp_path / "html" / "index.html").exists()  # the report is there to read
    (gate,) = json.loads((tmp_path / "html" / "quality-gate.json").read_text(encoding="utf-8"))
    assert gate["rule"] == "critical-scenarios/maxFailures" and gate["success"] is False and gate["actual"] == 1


def test_report_has_no_analytics_and_no_secrets(report):
    import re
    html = report.index.read_text(encoding="utf-8")
    assert "googletagmanager" not in html and "gtag(" not in html
    assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", html)


def test_history_accumulates_across_builds(report, tmp_path):
    history = report.index.parent.parent / "history.jsonl"
    before = len(history.read_text().splitlines())
    results = report.index.parent.parent / "results"
    html_report.build(results, tmp_path / "html", history)
    after = history.read_text().splitlines()
    assert before >= 1 and len(after) == before + 1
    assert all(line.startswith("{") for line in after)


def test_report_shows_trends_across_runs(report, tmp_path):
    """After two runs, the Graphs page shows the results and durations of both runs, the previous one
    (from the history) beside this one ("Latest")."""
    import re

    work = report.index.parent.parent
    history = tmp_path / "history.jsonl"
    shutil.copy(work / "history.jsonl", history)  # the history of the runs before this one
    runs_before = len(history.read_text(encoding="utf-8").splitlines())
    second = html_report.build(work / "results", tmp_path / "html", history)
    with browser_page(1400, 1100) as page:
        page.goto(second.index.as_uri())
        page.get_by_text("Report", exact=True).first.click()  # the page menu: Report, Graphs, Timeline
        page.get_by_text("Graphs", exact=True).first.click()
        for title in ("Results across runs", "Run duration across runs"):
            widget = page.locator("[data-drop-shadow]").filter(has_text=title).first
            widget.locator("svg").first.wait_for(timeout=10_000)
            ticks = [t.strip() for t in widget.locator("svg text").all_text_contents()]
            earlier = [t for t in ticks if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", t)]
            assert runs_before >= 1 and "Latest" in ticks and len(earlier) == runs_before, (title, ticks)
        shot = ROOT / "reports" / "report-trends.png"
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
    html = second.index.read_text(encoding="utf-8")
    assert "googletagmanager" not in html and "gtag(" not in html


def test_savings_preview_with_three_recommendations_fits_a_default_frame():
    """Allure previews an HTML attachment in an iframe of the default height (150 px): three
    recommendations and the totals fit it, also in a narrow window."""
    import html as html_lib

    from acceptance.reporting import visuals
    from tests import samples
    cost = samples.cost_optimizer_result()
    recs = (cost["recommendations"] * 3)[:3]
    table = visuals.savings_table_html({**cost, "recommendations": recs}, "Alice")
    with browser_page(700, 400) as page:
        page.set_content(f'<iframe width="100%" frameborder="0" srcdoc="{html_lib.escape(table)}"></iframe>')
        frame = page.frame_locator("iframe").first
        frame.locator("#savings tfoot").wait_for(timeout=10_000)
        assert frame.locator("#savings tbody tr").count() == 3
        sizes = frame.locator("html").evaluate("h => [h.scrollHeight, h.clientHeight, h.scrollWidth, h.clientWidth]")
        assert sizes[0] <= sizes[1] == 150 and sizes[2] <= sizes[3], sizes
