"""Building the HTML report: Allure 3 (npm package ``allure``, pinned in package.json), one
self-contained file, the analytics tag that Allure's default page embeds stripped, and the run
history kept across runs in ``reports/history.jsonl``."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANALYTICS_TAGS = (
    re.compile(r"<script[^>]*\bsrc=\"https://www\.googletagmanager\.com/[^\"]*\"[^>]*>\s*</script>\s*", re.I),
    re.compile(r"<script[^>]*>(?:(?!</script>).)*?\bgtag\((?:(?!</script>).)*</script>\s*", re.I | re.S),
)


class ReportBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class BuiltReport:
    index: Path
    removed_analytics_tags: int


def allure_cli(root: Path = ROOT) -> list[str]:
    local = root / "node_modules" / ".bin" / "allure"
    if local.exists():
        return [str(local)]
    raise ReportBuildError("the Allure 3 CLI is not installed: run `npm ci` (package.json pins it) in "
                           f"{root}")


def strip_analytics(html: str) -> tuple[str, int]:
    removed = 0
    for pattern in ANALYTICS_TAGS:
        html, n = pattern.subn("", html)
        removed += n
    return html, removed


def build(results: Path | None = None, output: Path | None = None, history: Path | None = None,
          name: str = "AI platform acceptance", root: Path = ROOT) -> BuiltReport:
    results = results or root / "reports" / "allure-results"
    output = output or root / "reports" / "html"
    history = history or root / "reports" / "history.jsonl"
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise ReportBuildError(f"no Allure results in {results}: run the suite first (`behave`)")
    if output.exists():
        shutil.rmtree(output)
    command = allure_cli(root) + ["awesome", str(results), "--single-file", "-o", str(output),
                                  "--history-path", str(history), "--report-name", name]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    index = output / "index.html"
    if done.returncode != 0 or not index.exists():
        raise ReportBuildError(f"allure awesome failed ({done.returncode}): {done.stderr[-2000:] or done.stdout[-2000:]}")
    html, removed = strip_analytics(index.read_text(encoding="utf-8"))
    if "googletagmanager" in html or "gtag(" in html:
        raise ReportBuildError("the report still carries an analytics tag after stripping; update ANALYTICS_TAGS")
    index.write_text(html, encoding="utf-8")
    return BuiltReport(index, removed)
