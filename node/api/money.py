"""Reads about the currency: its parameters and its money figures (UD, M, N, M/N, next dates).

Amounts are integers in cents, as in the protocol, with their text form; the UD is also given as
the protocol writes it (`dividend` at `unit_base`: dividend × 10^unit_base cents).
"""

import dataclasses
from typing import Any

from fastapi import APIRouter, Request

from node.api.chain import context
from node.api.context import ApiContext
from node.api.errors import ApiError
from protocol.amounts import format_cents
from protocol.money import MoneyState, compute_money_step
from protocol.params import CurrencyParameters
from protocol.state.records import BlockSummary

router = APIRouter(tags=["money"])


def compute_next_dividend(head: BlockSummary, params: CurrencyParameters) -> int:
    """The next UD in cents, by the rules' own money step at its date, if N stays as it is now."""
    state = MoneyState(
        head.ud_time, head.ud_reeval_time, head.dividend, head.unit_base, head.mass, head.mass_reeval
    )
    step = compute_money_step(
        state, median_time=head.ud_time, members_count=head.members_count, params=params
    )
    cents: int = step.state.dividend * 10**step.state.unit_base
    return cents


@router.get("/currency", summary="The currency's parameters and its money: UD, M, N, M/N, next dates")
async def currency(request: Request) -> dict[str, Any]:
    return currency_figures(context(request))


def currency_figures(api: ApiContext) -> dict[str, Any]:
    """`GET /currency`'s answer, also what the web interface's currency page shows (one owner)."""
    chain, head = api.store.chain(), api.store.head()
    if chain is None or head is None:
        raise ApiError(503, "this node has no chain yet")
    params = chain.parameters
    members = head.members_count
    ud_cents = head.dividend * 10**head.unit_base
    per_member = head.mass // members if members else 0
    next_ud = compute_next_dividend(head, params)
    return {
        "currency": chain.currency,
        "parameters": dataclasses.asdict(params),
        "money": {
            "dividend": head.dividend,
            "unit_base": head.unit_base,
            "dividend_cents": ud_cents,
            "dividend_text": format_cents(ud_cents),
            "monetary_mass": head.mass,
            "monetary_mass_text": format_cents(head.mass),
            "members": members,
            "mass_per_member": per_member,
            "mass_per_member_text": format_cents(per_member),
            "mass_per_member_in_ud": round(per_member / ud_cents, 4) if ud_cents else None,
            "next_dividend_time": head.ud_time,
            "next_dividend_cents": next_ud,
            "next_dividend_text": format_cents(next_ud),
            "next_reevaluation_time": head.ud_reeval_time,
            "median_time": head.median_time,
        },
    }
