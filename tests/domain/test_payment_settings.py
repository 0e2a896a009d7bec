from hypothesis import given
from hypothesis import strategies as st

from domain.enums import (
    AmountBasis,
    PaymentMethod,
    PaymentSource,
    PostingMode,
    PostingTiming,
    WritebackStatus,
)
from domain.payment_settings import (
    PaymentDecision,
    PaymentSettingsChanges,
    PaymentWritebackSettings,
    PayTypeMapping,
    SourceRule,
    decide_payment,
    validate_settings,
)
from domain.ports import Capabilities

OPEN_DENTAL = Capabilities(patient_payments=True, numeric_patient_ids=True)


def decide(
    settings: PaymentWritebackSettings, source: PaymentSource = PaymentSource.CARD_TERMINAL
) -> PaymentDecision:
    return decide_payment(settings, 3, source, PaymentMethod.CARD, 10_000, 320)


def test_defaults_post_card_payments_instantly_and_net() -> None:
    d = decide(PaymentWritebackSettings())
    assert (d.status, d.amount_cents, d.settings_version) == (WritebackStatus.QUEUED, 9_680, 3)


def test_gross_basis_posts_the_full_amount() -> None:
    d = decide(PaymentWritebackSettings(amount_basis=AmountBasis.GROSS))
    assert d.amount_cents == 10_000


def test_disabled_source_is_skipped() -> None:
    s = PaymentSettingsChanges(
        sources={PaymentSource.MEMBERSHIP: SourceRule(enabled=False)}
    ).apply_to(PaymentWritebackSettings())
    assert decide(s, PaymentSource.MEMBERSHIP).status is WritebackStatus.SKIPPED


def test_manual_source_waits_for_staff() -> None:
    s = PaymentWritebackSettings(
        sources={PaymentSource.COLLECTION: SourceRule(enabled=True, mode=PostingMode.MANUAL)}
    )
    assert decide(s, PaymentSource.COLLECTION).status is WritebackStatus.AWAITING_MANUAL


def test_daily_timing_schedules() -> None:
    assert (
        decide(PaymentWritebackSettings(timing=PostingTiming.DAILY)).status
        is WritebackStatus.SCHEDULED
    )


def test_insurance_is_off_by_default() -> None:
    assert (
        decide(PaymentWritebackSettings(), PaymentSource.INSURANCE).status
        is WritebackStatus.SKIPPED
    )


def test_most_specific_pay_type_mapping_wins() -> None:
    s = PaymentWritebackSettings(
        pay_types=(
            PayTypeMapping("1"),
            PayTypeMapping("2", method=PaymentMethod.CARD),
            PayTypeMapping("3", source=PaymentSource.CARD_TERMINAL, method=PaymentMethod.CARD),
        )
    )
    assert s.pay_type_for(PaymentSource.CARD_TERMINAL, PaymentMethod.CARD) == "3"
    assert s.pay_type_for(PaymentSource.PAYMENT_PLAN, PaymentMethod.CARD) == "2"
    assert s.pay_type_for(PaymentSource.PAYMENT_PLAN, PaymentMethod.ACH) == "1"


def test_round_trip_through_stored_form() -> None:
    s = PaymentWritebackSettings(pay_types=(PayTypeMapping("7", source=PaymentSource.MEMBERSHIP),))
    assert PaymentWritebackSettings.from_dict(s.to_dict()) == s


def test_unknown_pay_type_is_a_field_error() -> None:
    s = PaymentWritebackSettings(pay_types=(PayTypeMapping("999"),))
    errors = validate_settings(s, OPEN_DENTAL, {"1", "2"})
    assert [e.field for e in errors] == ["payTypes[0].payType"]


def test_bad_daily_time_is_a_field_error() -> None:
    errors = validate_settings(PaymentWritebackSettings(daily_time="25:00"), OPEN_DENTAL, set())
    assert [e.field for e in errors] == ["dailyTime"]


def test_automatic_insurance_is_refused_where_the_pms_cannot_take_it() -> None:
    s = PaymentWritebackSettings(
        sources={PaymentSource.INSURANCE: SourceRule(enabled=True, mode=PostingMode.AUTOMATIC)}
    )
    assert [e.field for e in validate_settings(s, OPEN_DENTAL, set())] == ["sources.insurance"]


def test_pay_types_cannot_be_checked_without_a_connection() -> None:
    s = PaymentWritebackSettings(pay_types=(PayTypeMapping("1"),))
    assert validate_settings(s, None, None)[0].field == "payTypes[0]"


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_net_amount_plus_fee_is_always_the_gross(gross: int, fee: int) -> None:
    fee = min(fee, gross)
    net = decide_payment(
        PaymentWritebackSettings(), 1, PaymentSource.CARD_TERMINAL, PaymentMethod.CARD, gross, fee
    )
    assert net.amount_cents + fee == gross
    assert net.fee_adjustment_type is None


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_gross_with_fee_adjustment_posts_gross_and_the_whole_fee_separately(
    gross: int, fee: int
) -> None:
    fee = min(fee, gross)
    settings = PaymentWritebackSettings(amount_basis=AmountBasis.GROSS, fee_adjustment_type="7")
    d = decide_payment(settings, 1, PaymentSource.CARD_TERMINAL, PaymentMethod.CARD, gross, fee)
    assert (d.amount_cents, d.fee_adjustment_type, d.fee_adjustment_sign) == (gross, "7", "-")


def test_no_fee_adjustment_when_there_is_no_fee() -> None:
    settings = PaymentWritebackSettings(amount_basis=AmountBasis.GROSS, fee_adjustment_type="7")
    d = decide_payment(settings, 1, PaymentSource.CARD_TERMINAL, PaymentMethod.CARD, 100, 0)
    assert d.fee_adjustment_type is None


def test_a_fee_adjustment_needs_gross_amounts_and_a_known_type() -> None:
    s = PaymentWritebackSettings(fee_adjustment_type="7")
    assert [e.field for e in validate_settings(s, OPEN_DENTAL, set(), {"7": "-"})] == [
        "feeAdjustmentType"
    ]
    s = PaymentWritebackSettings(amount_basis=AmountBasis.GROSS, fee_adjustment_type="8")
    assert [e.field for e in validate_settings(s, OPEN_DENTAL, set(), {"7": "-"})] == [
        "feeAdjustmentType"
    ]
