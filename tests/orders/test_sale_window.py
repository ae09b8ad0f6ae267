"""« Dates de commande »: a coordinator moves when a sale's orders close (and open, until they do); bad
input gets a French message and changes nothing; other roles and the other collective are refused."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django_tenants.utils import tenant_context

from orders import tasks
from orders.closing import jobs
from orders.models import Sale
from tests.conftest import words
from tests.orders.conftest import make_sale


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _post(client, sale, opens_at, closes_at):
    return client.post(
        f"/ventes/{sale.pk}/dates/",
        {"opens_at": _local(opens_at), "closes_at": _local(closes_at)},
        follow=True,
    )


def test_a_coordinator_gives_members_a_day_more(browse, alpha, market):
    sale = market.sale
    client = browse(alpha, alpha.coordinator)
    page = words(client.get(f"/ventes/{sale.pk}/dates/"))
    assert "Dates de commande" in page and "Clôture des commandes" in page
    later = (sale.closes_at + timedelta(days=1)).replace(second=0, microsecond=0)
    saved = words(_post(client, sale, sale.opens_at, later))
    assert "Dates de commande enregistrées." in saved
    moved = Sale.objects.get(pk=sale.pk)
    assert moved.closes_at == later and moved.opens_at == sale.opens_at
    # The sale stays open past its old closing and closes at the new one.
    assert not jobs.sale_close(sale_id=sale.pk, now=sale.closes_at + timedelta(minutes=1))
    assert Sale.objects.get(pk=sale.pk).status_at(sale.closes_at + timedelta(minutes=1)) == Sale.Status.OPEN
    assert jobs.sale_close(sale_id=sale.pk, now=later + timedelta(seconds=1))


def test_bad_dates_get_a_french_message_and_change_nothing(browse, alpha, market):
    sale = market.sale
    client = browse(alpha, alpha.coordinator)
    now = timezone.now()
    cases = [
        ((sale.opens_at, now - timedelta(hours=1)), "La clôture doit être à venir"),
        (
            (sale.opens_at + timedelta(hours=1), sale.closes_at),
            "La vente est ouverte : son ouverture ne change plus",
        ),
        (
            (sale.opens_at, sale.distribution_starts_at + timedelta(days=1)),
            "La distribution doit avoir lieu après",
        ),
    ]
    for (opens_at, closes_at), message in cases:
        response = _post(client, sale, opens_at, closes_at)
        assert response.status_code == 400 and message in words(response), message
    garbled = client.post(f"/ventes/{sale.pk}/dates/", {"opens_at": "demain", "closes_at": ""})
    assert garbled.status_code == 400 and "Saisissez une date et une heure valides." in words(garbled)
    assert Sale.objects.get(pk=sale.pk).closes_at == sale.closes_at


def test_a_coming_sale_may_open_later_and_a_closed_one_stays(browse, alpha, market):
    coming = make_sale(market.point, [market.sale.producers.first()], opens_in_days=2, title="Vente à venir")
    client = browse(alpha, alpha.coordinator)
    opens_at = (coming.opens_at + timedelta(hours=5)).replace(second=0, microsecond=0)
    assert "Dates de commande enregistrées." in words(_post(client, coming, opens_at, coming.closes_at))
    assert Sale.objects.get(pk=coming.pk).opens_at == opens_at
    Sale.objects.filter(pk=market.sale.pk).update(closed_at=timezone.now())
    page = words(client.get(f"/ventes/{market.sale.pk}/dates/"))
    assert "Cette vente est close : ses dates de commande ne changent plus." in page
    refused = _post(client, market.sale, market.sale.opens_at, market.sale.closes_at + timedelta(days=1))
    assert refused.status_code == 400 and "Cette vente est close" in words(refused)


def test_other_roles_and_the_other_collective_are_refused(browse, alpha, beta, market):
    url = f"/ventes/{market.sale.pk}/dates/"
    for user in [alpha.member, alpha.producer, alpha.staff]:
        assert browse(alpha, user).get(url).status_code == 403
    assert browse(beta, beta.coordinator).get(url).status_code == 404
    later = market.sale.closes_at + timedelta(days=1)
    assert (
        browse(beta, beta.coordinator)
        .post(url, {"opens_at": _local(market.sale.opens_at), "closes_at": _local(later)})
        .status_code
        == 404
    )
    with tenant_context(alpha.collective):
        assert Sale.objects.get(pk=market.sale.pk).closes_at == market.sale.closes_at


def test_members_told_the_sale_is_open_are_told_its_new_closing_once(
    browse, alpha, market, mailoutbox, django_capture_on_commit_callbacks
):
    sale = market.sale
    with django_capture_on_commit_callbacks(execute=True):
        jobs.sale_open_notify(sale_id=sale.pk)
    told = {message.to[0] for message in mailoutbox}
    assert alpha.member.email in told
    mailoutbox.clear()
    client = browse(alpha, alpha.coordinator)
    earlier = (sale.closes_at - timedelta(hours=2)).replace(second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        page = words(_post(client, sale, sale.opens_at, earlier))
    assert f"Les {len(told)} membres sont prévenus de la nouvelle clôture par e-mail." in page
    assert {message.to[0] for message in mailoutbox} == told
    message = next(message for message in mailoutbox if message.to == [alpha.member.email])
    assert "ferme à une autre date" in message.subject
    new, old = timezone.localtime(earlier), timezone.localtime(sale.closes_at)
    assert f"ferment désormais le {date_format(new, 'l j F Y')} à {new:%H:%M}" in " ".join(
        message.body.split()
    )
    assert f"(et non plus le {date_format(old, 'l j F')} à {old:%H:%M})" in " ".join(message.body.split())
    assert f"http://alpha.localhost/ventes/{sale.pk}/" in message.body

    # The same dates saved again tell nobody; a sale not announced yet tells nobody either.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert "Dates de commande enregistrées." in words(_post(client, sale, sale.opens_at, earlier))
    coming = make_sale(market.point, [sale.producers.first()], opens_in_days=2, title="Vente à venir")
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, coming, coming.opens_at, coming.closes_at + timedelta(hours=3))
    assert len(mailoutbox) == 0


def test_an_e_mail_of_a_closing_moved_again_meanwhile_is_not_sent(alpha, market, mailoutbox):
    """Two moves before the worker runs: only the closing that holds is announced."""
    sale = market.sale
    Sale.objects.filter(pk=sale.pk).update(opened_notified_at=timezone.now())
    first = sale.closes_at + timedelta(hours=1)
    second = sale.closes_at + timedelta(hours=2)
    with tenant_context(alpha.collective):
        Sale.objects.filter(pk=sale.pk).update(closes_at=second)
    for closes_at in (first, second):
        tasks.sale_member_email_send(
            schema_name=alpha.collective.schema_name,
            sale_id=sale.pk,
            user_id=alpha.member.pk,
            kind="moved",
            closes_at=closes_at.isoformat(),
            previous=sale.closes_at.isoformat(),
        )
    assert len(mailoutbox) == 1
    new = timezone.localtime(second)
    assert f"à {new:%H:%M} (et non plus" in " ".join(mailoutbox[0].body.split())
