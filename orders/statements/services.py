"""Producers' statements: issuing them from a sale's final line amounts, rendering and e-mailing their PDFs,
preparing and confirming the SEPA transfers that pay them.

Every write holds `locks.statements_lock` (one writer per collective: numbers follow one another). PDFs are
rendered outside any transaction by follow-ups (the "sheets" queue), swapped in by a short transaction; the
SEPA file is built and validated before the transaction that marks statements « virement préparé », so a
file that fails marks nothing.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Max, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from weasyprint import HTML

from marketplace import followups
from marketplace.guards import slow_work_outside_transactions
from marketplace.models import Collective, User
from marketplace.money import money
from orders import locks
from orders.models import (
    MonthlyStatement,
    Order,
    OrderLine,
    ProducerBankAccount,
    Sale,
    ShopSettings,
    Statement,
    StatementLine,
    StatementRun,
    Transfer,
)
from orders.payments import connect
from orders.statements import bank
from producers.models import Producer

ZERO = Decimal("0")


def commission_split(gross: Decimal, *, percent: Decimal, vat_rate: Decimal) -> tuple[Decimal, Decimal]:
    """The collective's commission on `gross` (sales incl. VAT): excl. VAT, and its VAT, each to the cent."""
    excl = money(gross * percent / 100)
    return excl, money(excl * vat_rate / 100)


def _basket(order: Order) -> str:
    if order.basket_number:
        return _("Panier n° %(number)s") % {"number": order.basket_number}
    return _("Commande %(number)s") % {"number": order.number}


def _sale_lines(sale: Sale) -> dict[int, list[tuple[str, OrderLine]]]:
    """Every line of the sale's placed orders, per producer, with the basket it went into."""
    lines = OrderLine.objects.select_related("offer").order_by("name", "pk")
    orders = (
        Order.objects.filter(sale=sale, status=Order.Status.PLACED)
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("basket_number", "pk")
    )
    per_producer: dict[int, list[tuple[str, OrderLine]]] = defaultdict(list)
    for order in orders:
        basket = _basket(order)
        for line in order.lines.all():
            per_producer[line.offer.producer_id].append((basket, line))
    return per_producer


def _snapshot(statement: Statement) -> list[tuple]:
    return [
        (line.basket, line.name, line.quantity, line.weight_kg, line.amount)
        for line in statement.lines.all()  # ordered by pk (Meta), prefetched by the caller
    ]


@transaction.atomic
def statements_issue(*, sale_id: int, now: datetime | None = None) -> list[Statement]:
    """Issue the statements of a closed sale: one per producer who sold something, from each line's final
    amount (weighed where weighed). Run again (late weighing, a cancelled line), it issues a correction only
    for the producers whose lines changed; the corrected statement is « remplacé » if unpaid, or what it
    pays is deducted from the correction. Returns the statements issued now."""
    now = now or timezone.now()
    locks.statements_lock()
    sale = Sale.objects.get(pk=sale_id)
    if sale.closed_at is None:
        raise ValidationError(_("Les relevés sont établis une fois la vente close."))
    settings_row = ShopSettings.current()
    per_producer = _sale_lines(sale)
    current = {
        statement.producer_id: statement
        for statement in Statement.objects.filter(sale=sale, is_current=True).prefetch_related("lines")
    }
    number = (Statement.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    issued = []
    for producer_id in sorted(set(per_producer) | set(current)):
        rows = [
            StatementLine(
                basket=basket,
                name=line.name,
                unit=line.unit,
                quantity=line.quantity,
                weight_kg=line.weight_kg,
                unit_price=line.base_unit_price,  # suppliers are paid the base price, whatever the tier
                vat_rate=line.vat_rate,
                amount=line.base_final_amount,
            )
            for basket, line in per_producer.get(producer_id, [])
        ]
        previous = current.get(producer_id)
        wanted = [(row.basket, row.name, row.quantity, row.weight_kg, row.amount) for row in rows]
        if previous is not None and _snapshot(previous) == wanted:
            continue
        if previous is None and not rows:
            continue
        gross = sum((row.amount for row in rows), ZERO)
        excl, vat = commission_split(
            gross, percent=settings_row.commission_percent, vat_rate=settings_row.commission_vat_rate
        )
        already_paid = ZERO
        if previous is not None:
            if previous.status in {
                Statement.Status.PREPARED,
                Statement.Status.PAID,
            } or connect.statement_being_paid(previous):
                already_paid = previous.due + previous.already_paid
            else:
                already_paid = previous.already_paid
                previous.status = Statement.Status.REPLACED
                connect.statement_replaced(previous)
            previous.is_current = False
            previous.save(update_fields=["status", "is_current"])
        statement = Statement(
            number=number,
            sale=sale,
            producer_id=producer_id,
            issued_at=now,
            gross=gross,
            commission_percent=settings_row.commission_percent,
            commission_vat_rate=settings_row.commission_vat_rate,
            commission_ht=excl,
            commission_vat=vat,
            already_paid=already_paid,
            due=gross - excl - vat - already_paid,
            corrects=previous,
        )
        statement.save()
        for row in rows:
            row.statement = statement
        StatementLine.objects.bulk_create(rows)
        number += 1
        issued.append(statement)
    StatementRun.objects.get_or_create(sale=sale, defaults={"issued_at": now})
    connect.transfers_record(statements=issued)
    schema = connection.schema_name
    months = set()
    for statement in issued:
        followups.followup_add(
            "orders.tasks.statement_pdf_make",
            key=f"{schema}:statement-{statement.pk}:pdf",
            queue="sheets",
            schema_name=schema,
            statement_id=statement.pk,
        )
        months.add((statement.producer_id, timezone.localdate(now).replace(day=1)))
    for producer_id, month in sorted(months):
        followups.followup_add(
            "orders.tasks.monthly_statement_make",
            queue="sheets",
            schema_name=schema,
            producer_id=producer_id,
            month=month.isoformat(),
            send=False,
        )
    return issued


def sales_to_state(*, now: datetime | None = None) -> list[int]:
    """Closed sales whose distribution is over, every weighed line weighed, and no statement issued yet."""
    now = now or timezone.now()
    candidates = Sale.objects.filter(
        closed_at__isnull=False, distribution_ends_at__lte=now, statement_run__isnull=True
    ).values_list("pk", flat=True)
    unweighed = set(
        OrderLine.objects.filter(
            order__sale_id__in=candidates,
            order__status=Order.Status.PLACED,
            is_variable_weight=True,
            weight_kg__isnull=True,
        ).values_list("order__sale_id", flat=True)
    )
    return [sale_id for sale_id in candidates if sale_id not in unweighed]


# PDFs ------------------------------------------------------------------------------------------------------


def _pdf(template: str, context: dict) -> bytes:
    slow_work_outside_transactions("PDF rendering")
    with translation.override("fr"):
        return HTML(string=render_to_string(template, context)).write_pdf()


def _filename(label: str) -> str:
    return f"{secrets.token_urlsafe(16)}-{slugify(label)[:60]}.pdf"


def statement_pdf_make(*, statement_id: int) -> Statement:
    """Render a statement's PDF once (it never changes), outside any transaction, and queue its e-mail."""
    statement = Statement.objects.select_related("sale", "producer", "corrects").get(pk=statement_id)
    if statement.file:
        return statement
    context = {
        "collective": Collective.objects.current(),
        "statement": statement,
        "lines": list(statement.lines.all()),
        "made_at": timezone.now(),
    }
    storage = Statement._meta.get_field("file").storage
    name = storage.save(
        f"{connection.schema_name}/statements/{_filename(statement.reference)}",
        ContentFile(_pdf("orders/sheets/statement.html", context)),
    )
    with transaction.atomic():
        updated = Statement.objects.filter(pk=statement.pk, file="").update(file=name)
        if updated:
            schema = connection.schema_name
            followups.followup_add(
                "orders.tasks.statement_email_send",
                key=f"{schema}:statement-{statement.pk}:email",
                schema_name=schema,
                statement_id=statement.pk,
            )
    if not updated:
        storage.delete(name)
    statement.refresh_from_db()
    return statement


def _recipients(producer: Producer) -> list[str]:
    emails = [user.email for user in producer.accounts.all()]
    emails += [producer.contact_email] if producer.contact_email else []
    return sorted({email.lower() for email in emails if email})


def _producer_email(
    *, producer: Producer, subject: str, subject_args: dict, template: str, context: dict, file, filename: str
) -> bool:
    """Send a statement's PDF to the producer's accounts and contact address, in French. `subject` is a
    pattern marked with gettext_noop, translated here and filled with `subject_args` and the collective's
    name. False: nobody to send to."""
    recipients = _recipients(producer)
    if not recipients:
        return False
    collective = Collective.objects.current()
    with translation.override("fr"):
        context = {**context, "collective": collective, "url": collective.base_url + "/mes-ventes/"}
        message = EmailMessage(
            subject=_(subject) % {"collective": collective.name, **subject_args},
            body=render_to_string(template, context),
            to=recipients,
        )
    with file.open("rb") as handle:
        message.attach(filename, handle.read(), "application/pdf")
    message.send()
    return True


def statement_email(*, statement_id: int) -> bool:
    """E-mail a statement's PDF to its producer, once (a follow-up, outside any transaction)."""
    statement = (
        Statement.objects.select_related("sale", "producer")
        .filter(pk=statement_id, emailed_at__isnull=True)
        .exclude(file="")
        .first()
    )
    if statement is None:
        return False
    sent = _producer_email(
        producer=statement.producer,
        subject=gettext_noop("%(collective)s : relevé %(reference)s – %(sale)s"),
        subject_args={"reference": statement.reference, "sale": statement.sale.title},
        template="orders/email/statement.txt",
        context={"statement": statement},
        file=statement.file,
        filename=f"releve-{statement.reference}.pdf",
    )
    Statement.objects.filter(pk=statement.pk).update(emailed_at=timezone.now())
    return sent


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=tz)
    return start, end


def monthly_statement_make(*, producer_id: int, month: date, send: bool) -> MonthlyStatement | None:
    """Render (again) a producer's month: every statement issued in it. With `send`, e-mail it too (the
    clock asks once the month is over)."""
    producer = Producer.objects.get(pk=producer_id)
    start, end = _month_bounds(month)
    statements = list(
        Statement.objects.filter(producer=producer, issued_at__gte=start, issued_at__lt=end)
        .select_related("sale")
        .order_by("number")
    )
    if not statements:
        return None
    counted = [item for item in statements if item.status != Statement.Status.REPLACED]
    context = {
        "collective": Collective.objects.current(),
        "producer": producer,
        "month": start,
        "statements": statements,
        "gross": sum((item.gross for item in counted), ZERO),
        "commission": sum((item.commission for item in counted), ZERO),
        "due": sum((item.due for item in counted), ZERO),
        "made_at": timezone.now(),
    }
    storage = MonthlyStatement._meta.get_field("file").storage
    name = storage.save(
        f"{connection.schema_name}/statements/{_filename(f'{producer.name}-{month:%Y-%m}')}",
        ContentFile(_pdf("orders/sheets/monthly_statement.html", context)),
    )
    try:
        with transaction.atomic():
            document = locks.monthly_statement_lock(producer_id=producer.pk, month=month)
            old_name = document.file.name if document else None
            document = document or MonthlyStatement(producer=producer, month=month)
            document.file.name = name
            document.created_at = timezone.now()
            document.save()
            if old_name and old_name != name:
                transaction.on_commit(lambda: storage.delete(old_name))
    except BaseException:
        storage.delete(name)
        raise
    if send:
        monthly_statement_email(document=document)
    return document


def monthly_statement_email(*, document: MonthlyStatement) -> bool:
    sent = _producer_email(
        producer=document.producer,
        subject=gettext_noop("%(collective)s : relevé du mois de %(month)s"),
        subject_args={"month": _month_label(document.month)},
        template="orders/email/monthly_statement.txt",
        context={"document": document},
        file=document.file,
        filename=f"releve-{document.month:%Y-%m}.pdf",
    )
    MonthlyStatement.objects.filter(pk=document.pk).update(emailed_at=timezone.now())
    return sent


def _month_label(month: date) -> str:
    return date_format(month, "F Y")


@transaction.atomic
def months_over_send(*, now: datetime | None = None) -> int:
    """Queue the last rendering and e-mail of every month that is over and not sent yet."""
    first_of_month = timezone.localdate(now or timezone.now()).replace(day=1)
    schema = connection.schema_name
    queued = 0
    for document in MonthlyStatement.objects.filter(month__lt=first_of_month, emailed_at__isnull=True):
        queued += bool(
            followups.followup_add(
                "orders.tasks.monthly_statement_make",
                key=f"{schema}:monthly-{document.producer_id}-{document.month:%Y-%m}:send",
                queue="sheets",
                schema_name=schema,
                producer_id=document.producer_id,
                month=document.month.isoformat(),
                send=True,
            )
        )
    return queued


# Bank details and settings ---------------------------------------------------------------------------------


@transaction.atomic
def bank_account_save(*, producer: Producer, holder: str, iban: str, bic: str) -> ProducerBankAccount:
    account = ProducerBankAccount.objects.filter(producer=producer).first() or ProducerBankAccount(
        producer=producer
    )
    errors = {}
    try:
        account.iban = bank.iban_clean(iban)
    except ValidationError as error:
        errors["iban"] = error.messages
    try:
        account.bic = bank.bic_clean(bic)
    except ValidationError as error:
        errors["bic"] = error.messages
    account.holder = holder.strip()
    if not account.holder:
        errors["holder"] = [_("Indiquez le titulaire du compte, tel qu'il figure sur le RIB.")]
    if errors:
        raise ValidationError(errors)
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def statement_settings_update(
    *,
    commission_percent: Decimal,
    commission_vat_rate: Decimal,
    bank_holder: str,
    bank_iban: str,
    bank_bic: str,
    producer_payout: str | None = None,
) -> ShopSettings:
    """The collective's commission, its own account (the one the transfers leave from) and how producers
    are paid (SEPA files, or Stripe Connect where the instance runs as a platform)."""
    settings_row = ShopSettings.current()
    errors = {}
    if producer_payout:
        if producer_payout == ShopSettings.Payout.CONNECT and not (
            connect.connect_offered() and Collective.objects.current().stripe_account_id
        ):
            errors["producer_payout"] = [
                _("Reliez d'abord le compte Stripe du collectif : la commission y est versée.")
            ]
        settings_row.producer_payout = producer_payout
    settings_row.commission_percent = commission_percent
    settings_row.commission_vat_rate = commission_vat_rate
    settings_row.bank_holder = bank_holder.strip()
    try:
        settings_row.bank_iban = bank.iban_clean(bank_iban) if bank_iban.strip() else ""
    except ValidationError as error:
        errors["bank_iban"] = error.messages
    try:
        settings_row.bank_bic = bank.bic_clean(bank_bic)
    except ValidationError as error:
        errors["bank_bic"] = error.messages
    if settings_row.bank_iban and not settings_row.bank_holder:
        errors["bank_holder"] = [_("Indiquez le titulaire du compte du collectif.")]
    if errors:
        raise ValidationError(errors)
    settings_row.full_clean()
    settings_row.save()
    return settings_row


# Paying: SEPA transfers ------------------------------------------------------------------------------------


def payout_blocker(statement: Statement) -> str:
    """Why a statement cannot be put in a transfer file ("" when it can)."""
    if statement.status != Statement.Status.ISSUED or not statement.is_current:
        return _("Ce relevé n'est plus à payer.")
    connect_rows = statement.stripe_transfers.all()
    if any(row.kind == row.Kind.PRODUCER for row in connect_rows):
        failed = [
            row for row in connect_rows if row.kind == row.Kind.PRODUCER and row.status == row.Status.FAILED
        ]
        if failed:
            return _("Versement Stripe refusé : %(error)s") % {"error": failed[0].last_error}
        return _("Versé par Stripe Connect : voir la page Stripe de la trésorerie.")
    if statement.due <= 0:
        return _("Rien à virer : le montant net est nul ou négatif (à déduire du prochain relevé).")
    account = getattr(statement.producer, "bank_account", None)
    if account is None:
        return _(
            "Pas d'IBAN : le producteur saisit ses coordonnées bancaires dans « Mes ventes », ou la "
            "trésorerie d'après son RIB."
        )
    return ""


def collective_bank_blocker(settings_row: ShopSettings) -> str:
    if not settings_row.bank_iban or not settings_row.bank_holder:
        return _(
            "Saisissez d'abord l'IBAN et le titulaire du compte du collectif dans les réglages des relevés."
        )
    return ""


def transfer_prepare(*, statement_ids, execution_date: date, by: User) -> Transfer:
    """Build and validate the pain.001 file paying the chosen statements, then, in one transaction, record
    the transfer and mark them « virement préparé ». A statement that cannot be paid, a file that does not
    validate, or a statement changed meanwhile: a ValidationError, and nothing is marked."""
    slow_work_outside_transactions("SEPA file building")
    ids = sorted({int(pk) for pk in statement_ids})
    if not ids:
        raise ValidationError(_("Cochez au moins un relevé à payer."))
    if execution_date < timezone.localdate():
        raise ValidationError(_("La date d'exécution ne peut pas être passée."))
    settings_row = ShopSettings.current()
    blocker = collective_bank_blocker(settings_row)
    if blocker:
        raise ValidationError(blocker)
    chosen = list(
        Statement.objects.filter(pk__in=ids).select_related("producer__bank_account", "sale").order_by("pk")
    )
    if len(chosen) != len(ids):
        raise ValidationError(_("Un des relevés choisis n'existe pas."))
    problems = [
        f"{item.reference} ({item.producer.name}) : {payout_blocker(item)}"
        for item in chosen
        if payout_blocker(item)
    ]
    if problems:
        raise ValidationError(problems)
    credits = [
        bank.Credit(
            name=item.producer.bank_account.holder,
            iban=item.producer.bank_account.iban,
            bic=item.producer.bank_account.bic,
            amount=item.due,
            reference=f"ETAL-{item.reference}",
            description=f"{item.reference} {item.sale.title}",
        )
        for item in chosen
    ]
    content, message_id = bank.pain001(
        debtor_name=settings_row.bank_holder,
        debtor_iban=settings_row.bank_iban,
        debtor_bic=settings_row.bank_bic,
        execution_date=execution_date,
        credits=credits,
    )
    seen = {item.pk: (item.due, item.producer.bank_account.iban) for item in chosen}
    storage = Transfer._meta.get_field("file").storage
    name = storage.save(
        f"{connection.schema_name}/statements/{secrets.token_urlsafe(16)}-virement-{execution_date:%Y%m%d}.xml",
        ContentFile(content),
    )
    try:
        with transaction.atomic():
            locks.statements_lock()
            rows = locks.statements_rows_lock(ids)
            for row in rows:
                account = getattr(row.producer, "bank_account", None)
                if payout_blocker(row) or account is None or (row.due, account.iban) != seen[row.pk]:
                    raise ValidationError(
                        _("Le relevé %(reference)s a changé entre-temps : recommencez.")
                        % {"reference": row.reference}
                    )
            transfer = Transfer.objects.create(
                message_id=message_id,
                created_by=by,
                execution_date=execution_date,
                total=sum((row.due for row in rows), ZERO),
                count=len(rows),
                file=name,
            )
            Statement.objects.filter(pk__in=ids).update(status=Statement.Status.PREPARED, transfer=transfer)
    except BaseException:
        storage.delete(name)
        raise
    return transfer


@transaction.atomic
def transfer_mark_paid(*, transfer_id: int, paid_on: date) -> Transfer:
    """The treasurer confirms the bank made the transfer: it and its statements become « payé »."""
    locks.statements_lock()
    transfer = locks.transfer_lock(transfer_id)
    if transfer.status == Transfer.Status.PAID:
        return transfer
    if paid_on > timezone.localdate():
        raise ValidationError(_("La date du virement ne peut pas être dans le futur."))
    if paid_on < timezone.localdate(transfer.created_at):
        raise ValidationError(_("La date du virement ne peut pas précéder sa préparation."))
    locks.statements_rows_lock(transfer.statements.values_list("pk", flat=True))
    transfer.status = Transfer.Status.PAID
    transfer.paid_on = paid_on
    transfer.save(update_fields=["status", "paid_on"])
    transfer.statements.update(status=Statement.Status.PAID, paid_on=paid_on)
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer_id: int) -> None:
    """A prepared file the bank refused or that was never sent: its statements are « à payer » again."""
    locks.statements_lock()
    transfer = locks.transfer_lock(transfer_id)
    if transfer.status != Transfer.Status.PREPARED:
        raise ValidationError(_("Ce virement est déjà payé : il ne peut plus être annulé."))
    rows = locks.statements_rows_lock(transfer.statements.values_list("pk", flat=True))
    if any(not row.is_current for row in rows):
        # A correction was issued while the file was out: it counts this statement as paid. Cancelling
        # would leave the producer short; the bank's refusal is settled with the correction instead.
        raise ValidationError(
            _(
                "Un relevé de ce virement a été corrigé depuis : le virement ne peut plus être annulé. "
                "Marquez-le payé une fois le virement fait."
            )
        )
    Statement.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=Statement.Status.ISSUED, transfer=None
    )
    name, storage = transfer.file.name, transfer.file.storage
    transfer.delete()
    transaction.on_commit(lambda: storage.delete(name))
