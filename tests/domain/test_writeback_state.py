import pytest

from domain.enums import PaymentMethod, PaymentSource
from domain.enums import WritebackStatus as S
from domain.errors import InvalidTransition
from domain.payment_note import marker_for, marker_in, payment_note
from domain.writeback_state import check_transition


@pytest.mark.parametrize("final", [S.SUCCEEDED, S.SKIPPED])
def test_finished_writebacks_never_move_again(final: S) -> None:
    for status in S:
        with pytest.raises(InvalidTransition):
            check_transition(final, status)


def test_unknown_outcome_must_be_reconciled_through_a_new_posting_attempt() -> None:
    check_transition(S.UNKNOWN, S.POSTING)
    with pytest.raises(InvalidTransition):
        check_transition(S.UNKNOWN, S.SUCCEEDED)


def test_failed_can_only_be_pushed_back_into_the_queue() -> None:
    check_transition(S.FAILED, S.QUEUED)
    with pytest.raises(InvalidTransition):
        check_transition(S.FAILED, S.POSTING)


def test_payment_note_carries_a_findable_marker_and_the_amounts() -> None:
    marker = marker_for("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    note = payment_note(marker, PaymentSource.CARD_TERMINAL, PaymentMethod.CARD, 10_000, 320)
    assert marker_in(note) == marker
    assert note.endswith("gross 100.00 fee 3.20 net 96.80")


def test_every_due_status_may_be_claimed_for_posting() -> None:
    from domain.writeback_state import DUE_STATUSES

    for status in DUE_STATUSES:
        check_transition(status, S.POSTING)
