"""Pure mapping rules: splitting money over claimprocs and recognising markers in notes."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.opendental import mapping
from domain.ports import PermanentError


class TestDistributeCents:
    @given(
        total=st.integers(min_value=0, max_value=10**9),
        weights=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12),
    )
    def test_shares_add_up_exactly_and_stay_within_a_cent_of_the_proportion(
        self, total: int, weights: list[int]
    ) -> None:
        shares = mapping.distribute_cents(total, weights)

        assert sum(shares) == total
        basis = weights if sum(weights) else [1] * len(weights)
        for share, weight in zip(shares, basis, strict=True):
            exact = Fraction(total * weight, sum(basis))
            assert abs(share - exact) < 1

    def test_leftover_cents_go_to_the_largest_remainders_first(self) -> None:
        assert mapping.distribute_cents(10000, [5200, 8800]) == [3714, 6286]
        assert mapping.distribute_cents(100, [1, 1, 1]) == [34, 33, 33]

    def test_negative_inputs_are_refused(self) -> None:
        with pytest.raises(ValueError):
            mapping.distribute_cents(-1, [1])


def _proc(num: int, status: str, est: str, fee: str, **extra: Any) -> dict[str, Any]:
    return {
        "ClaimProcNum": num,
        "Status": status,
        "InsPayEst": Decimal(est),
        "FeeBilled": Decimal(fee),
        "InsPayAmt": Decimal("0"),
        "ClaimPaymentNum": 0,
        **extra,
    }


class TestClaimprocShares:
    def test_procedures_already_on_a_check_are_left_out(self) -> None:
        procs = [
            _proc(2, "NotReceived", "60", "80"),
            _proc(1, "Received", "40", "50", ClaimPaymentNum=9, InsPayAmt=Decimal("40")),
        ]

        assert mapping.claimproc_shares(procs, 3000) == [(2, 3000)]

    def test_an_unfinished_supplemental_payment_is_refused(self) -> None:
        procs = [_proc(1, "NotReceived", "60", "80"), _proc(2, "Supplemental", "0", "0")]

        with pytest.raises(PermanentError):
            mapping.claimproc_shares(procs, 1000)

    def test_estimates_as_doubles_are_read_to_the_cent(self) -> None:
        procs = [_proc(1, "NotReceived", "33.330000000000005", "50")]

        assert mapping.claimproc_shares(procs, 3333) == [(1, 3333)]


class TestHasMarker:
    @pytest.mark.parametrize(
        ("note", "marker", "found"),
        [
            ("[WB:0123456789abcdef] card", "0123456789abcdef", True),
            ("0123456789abcdef", "0123456789abcdef", True),
            ("[WB:0123456789abcdef:fee] card fee", "0123456789abcdef", False),
            ("[WB:0123456789abcdef:fee] card fee", "0123456789abcdef:fee", True),
            ("[WB:x0123456789abcdef]", "0123456789abcdef", False),
            ("[WB:0123456789abcdef0]", "0123456789abcdef", False),
            ("refund of [WB:0123456789abcdef]", "0123456789abcdef", True),
            ("anything", "", False),
        ],
    )
    def test_marker_must_stand_alone(self, note: str, marker: str, found: bool) -> None:
        assert mapping.has_marker(note, marker) is found
