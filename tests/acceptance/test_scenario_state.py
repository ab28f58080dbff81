"""What a scenario holds is declared: ``World``, ``Actor`` and the records of ``acceptance/journeys/state.py``
are slots dataclasses with typed fields, no free-form bag of notes, and every field the steps and journeys
read or write exists (checked here, before any run, rather than as a suite defect in the middle of one)."""
from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from acceptance.client import config
from acceptance.client.redaction import Redactor
from acceptance.client.rest import HttpClient
from acceptance.journeys import state
from acceptance.journeys.actors import Actor, World

ROOT = Path(__file__).resolve().parents[2]
STATE_CLASSES = {name: cls for name, cls in vars(state).items()
                 if inspect.isclass(cls) and dataclasses.is_dataclass(cls) and cls.__module__ == state.__name__}
DECLARED = {"World": World, "Actor": Actor, **STATE_CLASSES}
GROUPS = {f.name: f.default_factory for f in dataclasses.fields(World)
          if f.default_factory in STATE_CLASSES.values()}
FREE_FORM = {"Any", "object", "dict", "dict[str, Any]", "dict[Any, Any]", "dict[str, object]"}
SOURCES = sorted([*(ROOT / "features" / "steps").glob("*.py"), ROOT / "features" / "environment.py",
                  *(ROOT / "acceptance" / "journeys").glob("*.py")])


@pytest.fixture
def world():
    world = World(config.load({"base_url": "http://127.0.0.1:9"}, env={}), HttpClient(timeout=1), Redactor())
    yield world
    world.http.close()


def test_the_world_keeps_no_free_form_notes():
    assert not hasattr(World, "notes")
    for name, cls in DECLARED.items():
        loose = [f"{f.name}: {f.type}" for f in dataclasses.fields(cls) if str(f.type).strip() in FREE_FORM]
        assert not loose, f"{name} keeps scenario state in untyped fields: {loose}"


def test_every_record_of_a_scenario_is_slotted():
    for name, cls in DECLARED.items():
        assert dataclasses.is_dataclass(cls) and "__slots__" in vars(cls), f"{name} is not a slots dataclass"
    assert set(GROUPS) == {"sign_in", "realtime", "isolation", "persistence"}


def test_a_misspelt_field_fails_at_once_naming_it(world):
    alice = world.actor("Alice")
    for target, typo in ((world, "notes"), (world.sign_in, "tiket"), (alice, "thred"), (world.persistence, "fokus")):
        with pytest.raises(AttributeError, match=typo):
            setattr(target, typo, "anything")


def _fields_used(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, class, attribute) for every attribute the code reads or writes on a world (``context.world``,
    ``world``, ``actor.world``), one of its groups, an actor (``world.actor(…)``, ``….ensure_account()``, a
    name assigned one) or a parameter annotated with one of the declared classes."""
    used: list[tuple[int, str, str]] = []

    def kind(node: ast.AST, names: dict[str, str]) -> str | None:
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr == "world":
                return "World"
            if kind(node.value, names) == "World" and node.attr in GROUPS:
                return GROUPS[node.attr].__name__
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = kind(node.func.value, names)
            if (owner == "World" and node.func.attr == "actor") or (owner == "Actor" and
                                                                     node.func.attr == "ensure_account"):
                return "Actor"
        return None

    def visit(scope: ast.AST, outer: dict[str, str]) -> None:
        names = dict(outer)
        if isinstance(scope, (ast.FunctionDef, ast.Lambda)):
            for arg in scope.args.args + scope.args.kwonlyargs:
                annotation = ast.unparse(arg.annotation) if getattr(arg, "annotation", None) else ""
                if annotation in DECLARED:
                    names[arg.arg] = annotation
                elif arg.arg == "world":
                    names[arg.arg] = "World"
        for node in ast.walk(scope):
            if node is not scope and isinstance(node, ast.FunctionDef):
                continue
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found = kind(node.value, names)
                if found:
                    names[node.targets[0].id] = found
        for node in ast.walk(scope):
            if isinstance(node, ast.FunctionDef) and node is not scope:
                visit(node, names)
            elif isinstance(node, ast.Attribute):
                owner = kind(node.value, names)
                if owner is not None:
                    used.append((node.lineno, owner, node.attr))

    visit(tree, {"world": "World"})
    return used


def _undeclared(source: str) -> list[str]:
    return sorted({f"line {line}: {owner}.{attr}" for line, owner, attr in _fields_used(ast.parse(source))
                   if attr not in dir(DECLARED[owner])})


def test_the_check_of_field_names_sees_a_typo():
    typos = _undeclared("def step(context, actor):\n"
                        "    context.world.sign_in.tiket = 1\n"
                        "    person = context.world.actor(actor)\n"
                        "    person.thred = 'x'\n"
                        "def journey(actor: Actor, sent: SentFrame):\n"
                        "    return actor.world.respons, sent.nonse, actor.ensure_account().tokns\n")
    assert typos == ["line 2: SignInState.tiket", "line 4: Actor.thred", "line 6: Actor.tokns",
                     "line 6: SentFrame.nonse", "line 6: World.respons"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_steps_and_journeys_use_only_declared_fields(path):
    assert not _undeclared(path.read_text(encoding="utf-8")), f"{path.relative_to(ROOT)} uses undeclared fields"
