"""docs/architecture.md matches the tree of ``acceptance/``, and the layers import as it says."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "acceptance"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
LAYERS = ("client", "verify", "journeys", "runner", "reporting")
# Which layers each layer may import from (docs/architecture.md, "The client library").
MAY_IMPORT = {
    "client": {"client", "verify"},
    "verify": {"client", "verify"},
    "journeys": {"client", "verify", "journeys"},
}


def _section(layer: str) -> str:
    match = re.search(rf"^### `{layer}/`.*?(?=^### |^## )", DOC, re.M | re.S)
    assert match, f"docs/architecture.md has no section for acceptance/{layer}/"
    return match.group(0)


def _modules(layer: str) -> set[str]:
    return {p.stem for p in (LIBRARY / layer).glob("*.py") if p.stem != "__init__"}


def test_every_module_of_each_layer_is_described_in_its_section_and_nothing_else_is():
    for layer in LAYERS:
        named = set(re.findall(r"`(\w+)`", _section(layer)))
        missing = _modules(layer) - named
        assert not missing, f"acceptance/{layer}/ has modules the doc does not describe: {sorted(missing)}"
        if layer != "reporting":  # the reporting section is prose that also names functions
            table = {m for line in _section(layer).splitlines() if line.startswith("| `")
                     for m in re.findall(r"`(\w+)`", line.split(" | ")[0])}
            ghosts = table - _modules(layer)
            assert not ghosts, f"docs/architecture.md describes modules acceptance/{layer}/ lacks: {sorted(ghosts)}"


def test_the_library_has_no_loose_modules_beside_its_layers():
    loose = {p.name for p in LIBRARY.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert not loose, f"modules outside a layer: {sorted(loose)}"
    packages = {p.name for p in LIBRARY.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS)


def _imported_layers(path: Path) -> set[str]:
    layers = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "acceptance" and len(parts) > 1:
                layers.add(parts[1])
    return layers


def test_lower_layers_never_import_the_layers_that_use_them():
    for layer, allowed in MAY_IMPORT.items():
        for path in (LIBRARY / layer).glob("*.py"):
            wrong = _imported_layers(path) - allowed
            assert not wrong, f"{path.relative_to(ROOT)} imports from {sorted(wrong)}"


def test_every_module_of_the_reference_platform_is_in_the_platform_layout():
    match = re.search(r"^## The reference platform.*?```\n(.*?)```", DOC, re.M | re.S)
    assert match, "docs/architecture.md has no layout block for reference_platform/"
    named = set(re.findall(r"\b(\w+)\.py\b", match.group(1)))
    modules = {p.stem for p in (ROOT / "reference_platform").rglob("*.py") if p.stem != "__init__"}
    assert modules <= named, f"reference_platform modules missing from the layout: {sorted(modules - named)}"
    assert named <= modules, f"the layout names modules reference_platform lacks: {sorted(named - modules)}"
