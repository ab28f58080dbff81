"""Parameter types of the step vocabulary: they keep steps unambiguous and readable.

``{actor:Name}`` Alice, Bob, …; ``{amount:Money}`` $1,234.56; ``{n:Count}`` 100,000;
``{agent:Agent}`` "cost optimizer"; ``{form:Credential}`` "the authorization header".
"""
from __future__ import annotations

from decimal import Decimal

import parse

AGENTS = {"supervisor": "supervisor", "triage": "triage", "cost optimizer": "cost_optimizer",
          "data analysis": "data_analysis", "performance optimizer": "performance_optimizer"}
CREDENTIAL_FORMS = {"the authorization header": "bearer", "a sub-protocol token": "subprotocol",
                    "a token in the address": "query", "a one-time ticket": "ticket"}


@parse.with_pattern(r"[A-Z][a-z]+")
def name(text: str) -> str:
    return text


@parse.with_pattern(r"\$\d[\d,]*(?:\.\d{1,2})?")
def money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


@parse.with_pattern(r"\d[\d,]*")
def count(text: str) -> int:
    return int(text.replace(",", ""))


@parse.with_pattern("|".join(sorted(AGENTS, key=len, reverse=True)))
def agent(text: str) -> str:
    return AGENTS[text]


@parse.with_pattern("|".join(CREDENTIAL_FORMS))
def credential(text: str) -> str:
    return CREDENTIAL_FORMS[text]


TYPES = {"Name": name, "Money": money, "Count": count, "Agent": agent, "Credential": credential}


def register(register_type) -> None:
    register_type(**TYPES)
