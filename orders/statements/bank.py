"""Bank details (IBAN, BIC) checked with schwifty, and the pain.001 file built and validated with sepaxml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError

# The version sepaxml ships a schema for and validates against, read by every French bank.
PAIN_SCHEMA = "pain.001.001.03"


def iban_clean(value: str) -> str:
    """The IBAN in its compact form (« FR7630006000011234567890189 »), or a French message saying why not."""
    try:
        return IBAN(value or "").compact
    except SchwiftyException as error:
        raise ValidationError(
            _("Cet IBAN n'est pas valide (%(reason)s) : vérifiez-le sur votre RIB.")
            % {"reason": _iban_reason(error)},
            code="iban",
        ) from error


def _iban_reason(error: Exception) -> str:
    name = type(error).__name__
    if name == "InvalidChecksumDigits":
        return _("la clé de contrôle ne correspond pas")
    if name == "InvalidLength":
        return _("la longueur ne correspond pas au pays")
    if name == "InvalidCountryCode":
        return _("le code pays est inconnu")
    return _("format inattendu")


def bic_clean(value: str) -> str:
    """The BIC in capitals (8 or 11 characters), "" when left empty, or a French message."""
    if not (value or "").strip():
        return ""
    try:
        return str(BIC(value.strip()))
    except SchwiftyException as error:
        raise ValidationError(
            _("Ce BIC n'est pas valide : 8 ou 11 caractères, par ex. BNPAFRPPXXX."), code="bic"
        ) from error


@dataclass(frozen=True)
class Credit:
    """One transfer of the file: to whom, how much, with which reference."""

    name: str
    iban: str
    bic: str
    amount: Decimal
    reference: str
    description: str


def pain001(
    *, debtor_name: str, debtor_iban: str, debtor_bic: str, execution_date: date, credits
) -> tuple[bytes, str]:
    """The pain.001.001.03 file and its message id, validated against the XSD by sepaxml (a
    ValidationError if not)."""
    config = {
        "name": debtor_name,
        "IBAN": debtor_iban,
        "batch": True,
        "currency": "EUR",
    }
    if debtor_bic:
        config["BIC"] = debtor_bic
    transfer = SepaTransfer(config, schema=PAIN_SCHEMA, clean=True)
    for credit in credits:
        payment = {
            "name": credit.name,
            "IBAN": credit.iban,
            "amount": int((credit.amount * 100).to_integral_value()),
            "execution_date": execution_date,
            "description": credit.description[:140],
            "endtoend_id": credit.reference,
        }
        if credit.bic:
            payment["BIC"] = credit.bic
        transfer.add_payment(payment)
    try:
        return transfer.export(validate=True), transfer.msg_id
    except SepaValidationError as error:
        raise ValidationError(
            _("Le fichier de virement ne respecte pas le format SEPA : vérifiez les noms et coordonnées.")
        ) from error
