"""Mutations. Each is one unit of work: commit, then enqueue and publish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, TypeVar

import strawberry

from api.context import Info
from api.errors import AnyUserError, UserError, to_user_error
from api.types.payment_settings import PaymentWritebackSettings, PaymentWritebackSettingsInput
from api.types.tenancy import ApiKey, ConnectionCheck, Location, PmsConnection
from api.types.writeback import DailyRun, Notification, Writeback
from domain import enums
from domain.errors import DomainError
from domain.payment_settings import PaymentSettingsChanges
from domain.payment_submission import PaymentSubmission
from domain.persistence.models import WritebackIntent
from domain.persistence.uow import UnitOfWork
from domain.ports import PmsConnector
from domain.principal import Principal
from domain.services import (
    connections,
    daily,
    notifications,
    payment_settings,
    setup_check,
    tenancy,
    writebacks,
)

T = TypeVar("T")


async def _in_unit_of_work(
    info: Info, work: Callable[[UnitOfWork, Principal], Awaitable[T]]
) -> T | AnyUserError:
    principal = info.context.require_principal()
    try:
        async with info.context.container.uow() as uow:
            result = await work(uow, principal)
            await uow.commit()
            return result
    except DomainError as exc:
        return to_user_error(exc)


async def _writeback(uow: UnitOfWork, intent: WritebackIntent) -> Writeback:
    return Writeback.from_model(intent, list(await uow.attempts.for_intents([intent.id])))


@strawberry.type
class CreateLocationSuccess:
    location: Location


@strawberry.type
class CreateApiKeySuccess:
    api_key: ApiKey
    secret: str = strawberry.field(description="The key to use; shown only this once")


@strawberry.type
class RevokeApiKeySuccess:
    api_key: ApiKey


@strawberry.type
class SetPmsConnectionSuccess:
    connection: PmsConnection


@strawberry.type
class CheckConnectionSuccess:
    ok: bool
    checks: list[ConnectionCheck]


@strawberry.type
class UpdatePaymentWritebackSettingsSuccess:
    settings: PaymentWritebackSettings


@strawberry.type
class SubmitPaymentSuccess:
    writeback: Writeback
    replayed: bool = strawberry.field(
        description="True when this paymentId had already been submitted"
    )


@strawberry.type
class RetryWritebackSuccess:
    writeback: Writeback


@strawberry.type
class ManualWritebackSuccess:
    writeback: Writeback


@strawberry.type
class RunDailyWritebackNowSuccess:
    run: DailyRun


@strawberry.type
class AcknowledgeNotificationSuccess:
    notification: Notification


@strawberry.input
class PmsConnectionInput:
    location_id: strawberry.ID
    system: enums.PmsSystem
    base_url: str
    developer_key: str
    customer_key: str
    write_interval_seconds: float | None = strawberry.field(
        default=None, description="Minimum seconds between calls (Open Dental cloud: 1)"
    )


@strawberry.input
class SubmitPaymentInput:
    payment_id: str = strawberry.field(description="The platform's payment id; the idempotency key")
    location_id: strawberry.ID
    patient_ref: str = strawberry.field(description="The patient's PMS id (Open Dental PatNum)")
    source: enums.PaymentSource
    method: enums.PaymentMethod
    gross_amount: Decimal
    fee: Decimal = Decimal("0")
    paid_on: date
    check_number: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    payment_plan_ref: str | None = strawberry.field(
        default=None, description="For payment-plan payments: the PMS plan (Open Dental PayPlanNum)"
    )
    claim_ref: str | None = strawberry.field(
        default=None, description="For insurance payments: the claim it pays (Open Dental ClaimNum)"
    )


@strawberry.input
class SubmitRefundInput:
    refund_id: str = strawberry.field(description="The platform's refund id; the idempotency key")
    location_id: strawberry.ID
    payment_id: str = strawberry.field(description="The platform's id of the payment refunded")


CreateLocationResult = Annotated[
    CreateLocationSuccess | AnyUserError, strawberry.union("CreateLocationResult")
]
CreateApiKeyResult = Annotated[
    CreateApiKeySuccess | AnyUserError, strawberry.union("CreateApiKeyResult")
]
RevokeApiKeyResult = Annotated[
    RevokeApiKeySuccess | AnyUserError, strawberry.union("RevokeApiKeyResult")
]
SetPmsConnectionResult = Annotated[
    SetPmsConnectionSuccess | AnyUserError, strawberry.union("SetPmsConnectionResult")
]
CheckConnectionResult = Annotated[
    CheckConnectionSuccess | AnyUserError, strawberry.union("CheckConnectionResult")
]
UpdatePaymentWritebackSettingsResult = Annotated[
    UpdatePaymentWritebackSettingsSuccess | AnyUserError,
    strawberry.union("UpdatePaymentWritebackSettingsResult"),
]
SubmitPaymentResult = Annotated[
    SubmitPaymentSuccess | AnyUserError, strawberry.union("SubmitPaymentResult")
]
RetryWritebackResult = Annotated[
    RetryWritebackSuccess | AnyUserError, strawberry.union("RetryWritebackResult")
]
ManualWritebackResult = Annotated[
    ManualWritebackSuccess | AnyUserError, strawberry.union("ManualWritebackResult")
]
RunDailyWritebackNowResult = Annotated[
    RunDailyWritebackNowSuccess | AnyUserError, strawberry.union("RunDailyWritebackNowResult")
]
AcknowledgeNotificationResult = Annotated[
    AcknowledgeNotificationSuccess | AnyUserError, strawberry.union("AcknowledgeNotificationResult")
]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_location(self, info: Info, name: str, time_zone: str) -> CreateLocationResult:
        async def work(uow: UnitOfWork, p: Principal) -> CreateLocationSuccess:
            return CreateLocationSuccess(
                location=Location.from_model(await tenancy.create_location(uow, p, name, time_zone))
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation
    async def create_api_key(
        self,
        info: Info,
        name: str,
        role: enums.Role,
        location_ids: list[strawberry.ID] | None = None,
    ) -> CreateApiKeyResult:
        async def work(uow: UnitOfWork, p: Principal) -> CreateApiKeySuccess:
            issued = await tenancy.create_api_key(uow, p, name, role, list(location_ids or []))
            return CreateApiKeySuccess(api_key=ApiKey.from_model(issued.key), secret=issued.secret)

        return await _in_unit_of_work(info, work)

    @strawberry.mutation
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyResult:
        async def work(uow: UnitOfWork, p: Principal) -> RevokeApiKeySuccess:
            return RevokeApiKeySuccess(
                api_key=ApiKey.from_model(await tenancy.revoke_api_key(uow, p, id))
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation
    async def set_pms_connection(
        self, info: Info, input: PmsConnectionInput
    ) -> SetPmsConnectionResult:
        c = info.context.container

        async def work(uow: UnitOfWork, p: Principal) -> SetPmsConnectionSuccess:
            row = await connections.set_connection(
                uow,
                p,
                c.secret_box,
                c.registry,
                location_id=input.location_id,
                system=input.system,
                base_url=input.base_url,
                developer_key=input.developer_key,
                customer_key=input.customer_key,
                write_interval_seconds=input.write_interval_seconds,
            )
            return SetPmsConnectionSuccess(connection=PmsConnection.from_model(row))

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(description="Runs a real round trip to the location's PMS")
    async def check_connection(
        self, info: Info, location_id: strawberry.ID
    ) -> CheckConnectionResult:
        c = info.context.container

        async def connector(uow: UnitOfWork, p: Principal) -> PmsConnector:
            return await connections.connector_to_check(
                uow, p, c.secret_box, c.registry, location_id
            )

        found = await _in_unit_of_work(info, connector)
        if isinstance(found, UserError):
            return found
        checks = await connections.run_checks(found)
        return CheckConnectionSuccess(
            ok=all(ch.ok for ch in checks), checks=[ConnectionCheck.from_model(ch) for ch in checks]
        )

    @strawberry.mutation(
        description="Dry run of the location's payment writeback: reads only, writes nothing"
    )
    async def test_payment_writeback(
        self, info: Info, location_id: strawberry.ID, patient_ref: str | None = None
    ) -> CheckConnectionResult:
        c = info.context.container

        async def load(uow: UnitOfWork, p: Principal) -> setup_check.SetupUnderTest:
            return await setup_check.load(uow, p, c.secret_box, c.registry, location_id)

        found = await _in_unit_of_work(info, load)
        if isinstance(found, UserError):
            return found
        checks = await setup_check.run(found, patient_ref.strip() if patient_ref else None)
        return CheckConnectionSuccess(
            ok=all(ch.ok for ch in checks), checks=[ConnectionCheck.from_model(ch) for ch in checks]
        )

    @strawberry.mutation
    async def update_payment_writeback_settings(
        self, info: Info, input: PaymentWritebackSettingsInput
    ) -> UpdatePaymentWritebackSettingsResult:
        c = info.context.container
        changes = PaymentSettingsChanges(
            sources={r.source: r.to_model() for r in input.sources} if input.sources else None,
            timing=input.timing,
            daily_time=input.daily_time,
            amount_basis=input.amount_basis,
            pay_types=tuple(m.to_model() for m in input.pay_types)
            if input.pay_types is not None
            else None,
            fee_adjustment_type=input.fee_adjustment_type.strip()
            if input.fee_adjustment_type is not None
            else None,
        )

        async def work(uow: UnitOfWork, p: Principal) -> UpdatePaymentWritebackSettingsSuccess:
            versioned = await payment_settings.update_settings(
                uow, p, c.secret_box, c.registry, input.location_id, changes
            )
            return UpdatePaymentWritebackSettingsSuccess(
                settings=PaymentWritebackSettings.from_model(input.location_id, versioned)
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation
    async def submit_payment(self, info: Info, input: SubmitPaymentInput) -> SubmitPaymentResult:
        c = info.context.container
        submission = PaymentSubmission(
            payment_id=input.payment_id,
            location_id=input.location_id,
            patient_ref=input.patient_ref.strip(),
            source=input.source,
            method=input.method,
            gross=input.gross_amount,
            fee=input.fee,
            paid_on=input.paid_on,
            check_number=input.check_number,
            card_brand=input.card_brand,
            card_last4=input.card_last4,
            payment_plan_ref=input.payment_plan_ref,
            claim_ref=input.claim_ref,
        )

        async def work(uow: UnitOfWork, p: Principal) -> SubmitPaymentSuccess:
            submitted = await writebacks.submit_payment(uow, p, c.registry, submission)
            attempts = list(await uow.attempts.for_intents([submitted.intent.id]))
            return SubmitPaymentSuccess(
                writeback=Writeback.from_model(submitted.intent, attempts),
                replayed=submitted.replayed,
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(description="Refund the whole of a payment already written to the PMS")
    async def submit_refund(self, info: Info, input: SubmitRefundInput) -> SubmitPaymentResult:
        c = info.context.container
        submission = writebacks.RefundSubmission(
            refund_id=input.refund_id, location_id=input.location_id, payment_id=input.payment_id
        )

        async def work(uow: UnitOfWork, p: Principal) -> SubmitPaymentSuccess:
            submitted = await writebacks.submit_refund(uow, p, c.registry, submission)
            return SubmitPaymentSuccess(
                writeback=await _writeback(uow, submitted.intent), replayed=submitted.replayed
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(
        description="Push a failed writeback again; it is looked up in the PMS first"
    )
    async def retry_writeback(self, info: Info, id: strawberry.ID) -> RetryWritebackResult:
        async def work(uow: UnitOfWork, p: Principal) -> RetryWritebackSuccess:
            intent = await writebacks.retry_writeback(uow, p, id)
            attempts = list(await uow.attempts.for_intents([intent.id]))
            return RetryWritebackSuccess(writeback=Writeback.from_model(intent, attempts))

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(
        description="Record a manual item as posted in the PMS by hand, with the PMS's reference"
    )
    async def mark_writeback_posted(
        self, info: Info, id: strawberry.ID, pms_reference: str
    ) -> ManualWritebackResult:
        async def work(uow: UnitOfWork, p: Principal) -> ManualWritebackSuccess:
            intent = await writebacks.mark_posted_manually(uow, p, id, pms_reference)
            return ManualWritebackSuccess(writeback=await _writeback(uow, intent))

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(description="Hand a manual item to the automatic writeback")
    async def push_writeback(self, info: Info, id: strawberry.ID) -> ManualWritebackResult:
        async def work(uow: UnitOfWork, p: Principal) -> ManualWritebackSuccess:
            intent = await writebacks.push_through(uow, p, id)
            return ManualWritebackSuccess(writeback=await _writeback(uow, intent))

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(description="Send the location's scheduled items now")
    async def run_daily_writeback_now(
        self, info: Info, location_id: strawberry.ID
    ) -> RunDailyWritebackNowResult:
        async def work(uow: UnitOfWork, p: Principal) -> RunDailyWritebackNowSuccess:
            return RunDailyWritebackNowSuccess(
                run=DailyRun.from_model(await daily.trigger_now(uow, p, location_id))
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation
    async def acknowledge_notification(
        self, info: Info, id: strawberry.ID
    ) -> AcknowledgeNotificationResult:
        async def work(uow: UnitOfWork, p: Principal) -> AcknowledgeNotificationSuccess:
            return AcknowledgeNotificationSuccess(
                notification=Notification.from_model(await notifications.acknowledge(uow, p, id))
            )

        return await _in_unit_of_work(info, work)
