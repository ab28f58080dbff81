"""Parameter types of the step vocabulary: they keep steps unambiguous and readable.

``{actor:Name}`` Alice, Bob, …; ``{amount:Money}`` $1,234.56; ``{n:Count}`` 100,000;
``{agent:Agent}`` "cost optimizer"; ``{share:Percent}`` 94.00 %; ``{form:Credential}`` "the authorization header";
``{flaw:Forgery}`` "a wrong signature" (the names of ``acceptance.client.auth.FORGERIES``);
``{people:Names}`` "Alice, Bob and Carol" (a list of names).
"""
from __future__ import annotations

import re
from decimal import Decimal

import parse

from acceptance.client.auth import FORGERIES
from acceptance.verify import money as amounts

AGENTS = {"supervisor": "supervisor", "triage": "triage", "cost optimizer": "cost_optimizer",
          "data analysis": "data_analysis", "performance optimizer": "performance_optimizer"}
CREDENTIAL_FORMS = {"the authorization header": "bearer", "a sub-protocol token": "subprotocol",
                    "a token in the address": "query", "a one-time ticket": "ticket"}


@parse.with_pattern(r"[A-Z][a-z]+")
def name(text: str) -> str:
    return text


@parse.with_pattern(r"[A-Z][a-z]+(?:, [A-Z][a-z]+)* and [A-Z][a-z]+")
def names(text: str) -> list[str]:
    """``Alice and Bob``, ``Alice, Bob and Carol``: several people, in order."""
    return [n.strip() for n in re.split(r",| and ", text) if n.strip()]


@parse.with_pattern(r"\$\d[\d,]*(?:\.\d{1,2})?")
def money(text: str) -> Decimal:
    return amounts.parse(text)


@parse.with_pattern(r"\d[\d,]*")
def count(text: str) -> int:
    return int(text.replace(",", ""))


@parse.with_pattern(r"\d{1,3}(?:\.\d{1,2})? ?%")
def percent(text: str) -> Decimal:
    return Decimal(text.replace("%", "").strip())


@parse.with_pattern("|".join(sorted(AGENTS, key=len, reverse=True)))
def agent(text: str) -> str:
    return AGENTS[text]


@parse.with_pattern("|".join(CREDENTIAL_FORMS))
def credential(text: str) -> str:
    return CREDENTIAL_FORMS[text]


@parse.with_pattern("|".join(re.escape(k) for k in sorted(FORGERIES, key=len, reverse=True)))
def forgery(text: str) -> str:
    return FORGERIES[text]


TYPES = {"Name": name, "Money": money, "Count": count, "Agent": agent, "Credential": credential,
         "Forgery": forgery, "Percent": percent, "Names": names}


def register(register_type) -> None:
    register_type(**TYPES)
