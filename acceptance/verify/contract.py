"""The contract as the project keeps it (``contract/``): the written text with its clause ids, and
paths to its machine-readable forms.

``clauses()`` reads ``contract/CONTRACT.md`` and returns every clause id with the section and the
first words of its statement, in the order of the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from acceptance import ROOT

CONTRACT_DIR = ROOT / "contract"
CONTRACT_MD = CONTRACT_DIR / "CONTRACT.md"
OPENAPI = CONTRACT_DIR / "openapi.yaml"
ASYNCAPI = CONTRACT_DIR / "asyncapi.yaml"

# sections 1-8: <area>-<section>.<n>; a Compat dialect's clauses (section 9): <dialect prefix>-<n>
_ID = r"(?:(?:SVC|AUTH|REST|WS|RUN|COST|DET|TOL)-\d+\.\d+|N25-\d+)"
CLAUSE_ID = re.compile(rf"\*\*\[({_ID})\]\*\*")
ANY_CLAUSE_REF = re.compile(rf"\b({_ID})\b(?!\.\d)")
VERSION = re.compile(r"^\*\*Version (\d+\.\d+)\.\*\*", re.MULTILINE)


@dataclass(frozen=True)
class Clause:
    id: str
    section: str
    text: str  # the statement's first line, markup stripped

    @property
    def area(self) -> str:
        return self.id.split("-")[0]


def _plain(line: str) -> str:
    line = CLAUSE_ID.sub("", line)
    line = re.sub(rf"\[{_ID}\]", "", line)
    line = line.replace("`", "").replace("**", "").strip(" -|/")
    return re.sub(r"\s+", " ", re.sub(r"\s*\|\s*", " | ", line)).strip(" |")


@lru_cache(maxsize=1)
def clauses(path: Path = CONTRACT_MD) -> tuple[Clause, ...]:
    """Every clause id defined (bold, in brackets) in the text, once, in order."""
    out: dict[str, Clause] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        for match in CLAUSE_ID.finditer(line):
            cid = match.group(1)
            if cid not in out:
                out[cid] = Clause(cid, section, _plain(line)[:140])
    return tuple(out.values())


def clause_ids() -> tuple[str, ...]:
    return tuple(c.id for c in clauses())


def version(path: Path = CONTRACT_MD) -> str:
    match = VERSION.search(path.read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"{path} carries no '**Version N.N.**' line")
    return match.group(1)
