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
