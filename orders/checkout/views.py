"""Member pages: a sale's products (the cart), checkout, my orders. Works without JavaScript."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_check, role_required
from orders import pricing
from orders.checkout import cart, offer_list, slot_choices
from orders.checkout import selectors as checkout_selectors
from orders.checkout import services as checkout_services
from orders.checkout.forms import CartForm, CheckoutForm, PreferencesForm
from orders.ledger import selectors as ledger_selectors
from orders.models import Offer, Order, Payment, PaymentMethod, PaymentStatus, Sale, ShopSettings
from orders.payments import balance as balances
from orders.payments import services as payment_services
from orders.payments.views import checkout_redirect
from orders.payments.wording import cart_card_notice, money_facts, order_card_notice
from orders.sales.selectors import with_pickup_hours
from orders.waiting import offers as offer_waits
from orders.waiting import selectors as waiting_selectors
from pickup_points import basket_codes, calendar


def _visible_sale(request, sale_id: int, *, page: bool = False, shop: bool = False) -> Sale:
    """The published sale; for a signed-in account with `member_order_id`, their order's id in it if any
    (same query: with none, the page reads no order), and their membership with it. `page`: the page is
    shown, what it needs besides comes with the sale; `shop`: the shop settings too, for the checkout
    (checkout.selectors.sale_for_member)."""
    if request.user.is_authenticated:
        sale = checkout_selectors.sale_for_member(
            sale_id=sale_id, user=request.user, collective_id=request.tenant.pk, page=page, shop=shop
        )
        if sale is not None:
            request.membership = sale.membership  # read with the sale: the middleware's read is not made
    else:
        sale = checkout_selectors.sale_for_members(sale_id=sale_id)
    if sale is None:
        raise Http404
    return sale


def _my_order(request, sale: Sale) -> Order | None:
    if not request.user.is_authenticated or getattr(sale, "member_order_id", None) is None:
        return None
    return checkout_selectors.order_of_member(sale=sale, user=request.user)


def _pricing(request, sale: Sale | None = None) -> checkout_selectors.MemberPricing:
    user = request.user if request.user.is_authenticated else None
    if user is not None and hasattr(sale, "member_tier"):  # read with the sale
        return checkout_selectors.member_pricing(user=user, tier=sale.member_tier)
    return checkout_selectors.member_pricing(user=user)


def _offer_waits(request, sale: Sale) -> dict:
    """Offer id → the member's open entry on a sold-out product's list (a query only when they have one)."""
    if not getattr(sale, "member_offer_waits", False):
        return {}
    return waiting_selectors.member_offer_waits(sale=sale, user=request.user)


def _cart_form(
    request, sale: Sale, data=None, *, low: bool = False, bring_down: bool = False
) -> tuple[CartForm, Order | None]:
    """The cart's form, over the offers typed in `data` (or those of the cart): a query for what is left of
    them, none for the sale's other offers. Units a waiting list holds for the member are theirs to take, as
    what their order already holds. `low`: the same read also brings the offers low in stock, which the page
    draws (`form.low_left`), instead of a second read. `bring_down`: see CartForm."""
    order = _my_order(request, sale)
    own = checkout_selectors.order_quantities(order=order) if order else {}
    quantities = cart.cart(request, sale) or own
    waits = _offer_waits(request, sale)
    wanted = CartForm.typed_offer_ids(data) if data is not None else set(quantities)
    wanted |= {offer_id for offer_id, wait in waits.items() if wait.is_offered}
    offers = None
    if low:  # the page is drawn: the cart's offers come with the same read, for its running total
        stock = checkout_selectors.cart_stock(sale=sale, offer_ids=wanted, below=offer_list.DRAWN_BELOW)
        read, offers = stock.left, stock.offers
    else:
        read = checkout_selectors.stock_left(sale=sale, offer_ids=wanted)
    left = {offer_id: read[offer_id] for offer_id in wanted if offer_id in read}
    takes = {**own}
    for offer_id, wait in waits.items():
        if wait.is_offered:
            takes[offer_id] = takes.get(offer_id, 0) + wait.held
    form = CartForm(data, left=left, own=takes, quantities=quantities, bring_down=bring_down)
    form.waits = waits  # type: ignore[attr-defined]
    form.low_left = read if low else None  # type: ignore[attr-defined]
    form.offers = offers  # type: ignore[attr-defined]
    return form, order


def _basket_total(
    sale: Sale, form: CartForm, prices: checkout_selectors.MemberPricing
) -> checkout_selectors.BasketTotal | None:
    """The running total of what the form shows, at the member's prices; None while a quantity is wrong."""
    quantities = form.shown_quantities()
    if quantities is None:
        return None
    read = form.offers  # type: ignore[attr-defined]  # the cart's offers, read with the stock (or None)
    if read is not None and read.keys() >= quantities.keys():
        offers = [read[offer_id] for offer_id in quantities]
    else:
        offers = checkout_selectors.offers_priced(sale=sale, offer_ids=quantities)
    offers = pricing.offers_priced(offers, prices.percent)
    return checkout_selectors.basket_total(offers=offers, quantities=quantities)


def _offers_shown(
    sale: Sale, form: CartForm, can_order: bool, prices: checkout_selectors.MemberPricing
) -> dict[str, str]:
    """The cached offer list (orders.checkout.offer_list) at the member's prices (one list per tier), with
    this member's quantities, their errors and what is left of the offers low in stock filled in."""
    listing = offer_list.offer_list(sale=sale, percent=prices.percent)
    low = form.low_left  # type: ignore[attr-defined]
    if low is None:
        low = checkout_selectors.stock_left(sale=sale, below=offer_list.DRAWN_BELOW)
    left = {**low, **form.left}
    html = offer_list.offer_list_html(
        listing=listing,
        can_order=can_order,
        left=left,
        own=form.own,
        values=form.shown_values(),
        errors=form.field_errors(),
        waits=form.waits,  # type: ignore[attr-defined]
        sale_id=sale.pk,
    )
    return {"nav": mark_safe(listing.nav), "list": html}  # noqa: S308 - rendered by the template


def sale_shop(request, sale_id: int):
    """The products of a sale; members choose quantities here (their cart). « Mettre à jour le total »
    (`update_total`) only re-renders the page with the total, keeping what was typed; with JavaScript,
    htmx asks `sale_basket_total` for the total at each change instead."""
    sale = _visible_sale(request, sale_id, page=request.method != "POST")
    can_order = bool(sale.is_open and request.membership and request.membership.has_role(Role.MEMBER))
    # « Continuer »: what went meanwhile is brought down to what is left, said on the checkout page.
    bring_down = request.method == "POST" and "update_total" not in request.POST
    form, order = _cart_form(
        request, sale, request.POST or None, low=request.method != "POST", bring_down=bring_down
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_order:
            messages.error(
                request,
                _("Cette vente n'est pas ouverte aux commandes.")
                if not sale.is_open
                else _("Seuls les membres du collectif peuvent commander."),
            )
            return redirect("sale_shop", sale_id=sale.pk)
        if form.is_valid():
            quantities = form.quantities()
            if "update_total" in request.POST:
                cart.cart_save(request, sale, quantities)  # the cart only: nothing is ordered yet
            elif not quantities:
                form.add_error(None, _("Votre panier est vide : indiquez au moins une quantité."))
            else:
                cart.cart_save(request, sale, quantities)
                if form.brought_down:
                    for words in _brought_down_words(sale, form.quantities(), form.brought_down):
                        messages.warning(request, words)
                return redirect("sale_checkout", sale_id=sale.pk)
    prices = _pricing(request, sale)  # read only to show the page: « Continuer » goes on without it
    context = {
        "sale": with_pickup_hours([sale])[0],
        "form": form,
        "offers": _offers_shown(sale, form, can_order, prices),
        "order": order,
        "can_order": can_order,
        "total": _basket_total(sale, form, prices),
        "prices": prices,
    }
    return render(request, "orders/sale_shop.html", context, status=400 if form.errors else 200)


@require_POST
def sale_basket_total(request, sale_id: int):
    """The running total of the sale page for htmx, from the quantities typed: the same access as the page
    (a published sale of this collective), and it writes nothing, not even the cart."""
    sale = _visible_sale(request, sale_id)
    if not request.headers.get("HX-Request"):
        return redirect("sale_shop", sale_id=sale.pk)
    form, _order = _cart_form(request, sale, request.POST)
    total = _basket_total(sale, form, _pricing(request))
    return render(request, "orders/_basket_total.html", {"total": total})


@require_POST
@role_required(Role.MEMBER)
def offer_wait_join(request, sale_id: int, offer_id: int):
    """« M'inscrire sur la liste d'attente » of a sold-out product, a button of the sale page's form: the
    quantities typed meanwhile are kept in the cart (when they are right), then the member joins the list
    for the number of units asked (`wait_<offer id>`, 1 if empty)."""
    sale = _visible_sale(request, sale_id)
    if not waiting_selectors.offer_of_sale(sale_id=sale.pk, offer_id=offer_id):
        raise Http404
    form, _order = _cart_form(request, sale, request.POST)
    if form.is_valid() and form.quantities():
        cart.cart_save(request, sale, form.quantities())
    raw = request.POST.get(f"wait_{offer_id}", "").strip() or "1"
    try:
        wanted = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0
        offer_waits.offer_wait_join(offer_id=offer_id, user=request.user, wanted=wanted)
    except offer_waits.OfferWaitRefused as refusal:
        messages.warning(request, str(refusal))
        return redirect("sale_shop", sale_id=sale.pk)
    messages.success(
        request,
        _(
            "Vous êtes sur la liste d'attente : si ce produit se libère, il vous est réservé et vous recevez "
            "un e-mail."
        ),
    )
    return redirect("sale_shop", sale_id=sale.pk)


@require_POST
@role_required(Role.MEMBER)
def offer_wait_accept(request, offer_wait_id: int):
    """« Les ajouter à ma commande »: units held for the member go into their order in one step, or, with
    no order yet, into their cart (the checkout takes them with the rest)."""
    wait = waiting_selectors.offer_wait_of_member(wait_id=offer_wait_id, user=request.user)
    if wait is None:
        raise Http404
    try:
        order = checkout_services.offer_wait_accept(wait_id=wait.pk, user=request.user)
    except checkout_services.OrderRefused as refusal:
        messages.warning(request, str(refusal))
        return redirect("my_waits")
    if order is None:
        quantities = cart.cart(request, wait.sale)
        # At least what is held (a second click, or the units already typed, adds nothing).
        quantities[wait.offer_id] = max(quantities.get(wait.offer_id, 0), wait.held)
        cart.cart_save(request, wait.sale, quantities)
        messages.info(
            request,
            _("C'est dans votre panier, réservé pour vous : choisissez le reste puis validez la commande."),
        )
        return redirect("sale_shop", sale_id=wait.sale_id)
    messages.success(request, _("C'est fait : ils sont ajoutés à votre commande."))
    return redirect("order_detail", order_id=order.pk)


@role_required(Role.MEMBER, checked_in_view=True)
def sale_checkout(request, sale_id: int):
    sale = _visible_sale(request, sale_id, shop=True)  # with the membership: the role is checked now
    role_check(request, Role.MEMBER)
    order = checkout_selectors.order_of_member(sale=sale, user=request.user) if sale.member_order_id else None
    quantities = cart.cart(request, sale) or (
        checkout_selectors.order_quantities(order=order) if order else {}
    )
    if not quantities:
        messages.info(request, _("Votre panier est vide : choisissez vos produits."))
        return redirect("sale_shop", sale_id=sale.pk)
    # Posted, the slot is checked by the order service as it takes the place: the list is read only if the
    # page must be shown again.
    slots = None if request.method == "POST" else checkout_selectors.sale_slots(sale=sale)
    initial = {}
    if order and order.booking_id:
        initial = {"slot": order.booking.slot_id, "payment_method": order.payment_method}
    # Only a member on one of the sale's slot lists has entries to read (said by the sale's statement).
    waits = (
        waiting_selectors.member_slot_waits(sale=sale, user=request.user)
        if slots is not None and sale.member_slot_waits
        else {}
    )
    held = [slot_id for slot_id, wait in waits.items() if wait.is_offered]
    if held and not order:
        initial["slot"] = held[0]  # the place a waiting list holds for them
    form = CheckoutForm(
        request.POST or None,
        initial=initial,
        slots=slots,
        payment_methods=ShopSettings.current().accepted_methods(
            card_ready=payment_services.card_ready(request.tenant)
        ),
        credit=ledger_selectors.credit_available(user_id=request.user.pk),
    )
    if request.method == "POST" and form.is_valid():
        try:
            if order:
                placed = checkout_services.order_update(
                    order_id=order.pk,
                    user=request.user,
                    quantities=quantities,
                    slot_id=form.cleaned_data["slot"],
                    payment_method=form.cleaned_data["payment_method"],
                    pricing_seen=form.cleaned_data["pricing"],
                )
            else:
                placed = checkout_services.order_place(
                    sale_id=sale.pk,
                    user=request.user,
                    quantities=quantities,
                    slot_id=form.cleaned_data["slot"],
                    payment_method=form.cleaned_data["payment_method"],
                    pricing_seen=form.cleaned_data["pricing"],
                )
        except checkout_services.StockShort as short:
            quantities = _cart_brought_down(request, sale, quantities, short, form, changing=bool(order))
            if not quantities:
                return redirect("sale_shop", sale_id=sale.pk)
        except checkout_services.OrderRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            cart.cart_forget(request, sale)
            if form.cleaned_data.get("use_credit"):
                placed = _pay_with_credit(request, placed)
            if placed.payment_status == PaymentStatus.AWAITING:  # straight on to paying
                return checkout_redirect(request, placed)
            messages.success(
                request,
                _("Commande modifiée.")
                if order
                else _("Merci ! Votre commande %(number)s est enregistrée.") % {"number": placed.number},
            )
            return redirect("order_detail", order_id=placed.pk)
    if request.method == "POST":
        form.slots = checkout_selectors.sale_slots(sale=sale)  # the places as they are now
        waits = waiting_selectors.member_slot_waits(sale=sale, user=request.user)
    for slot in form.slots:
        slot.my_wait = waits.get(slot.pk)
    offers = checkout_selectors.cart_offers(sale=sale, quantities=quantities)
    prices = _checkout_pricing(request, sale, offers, quantities)
    form.data = form.data.copy() if form.is_bound else form.data
    if form.is_bound:
        form.data["pricing"] = prices.seen  # the prices shown now are the ones the next submit accepts
    else:
        form.initial["pricing"] = prices.seen
    summary = checkout_selectors.cart_summary(offers=offers, quantities=quantities, percent=prices.percent)
    mine = order.booking.slot_id if order and order.booking_id else None
    chosen = str(form["slot"].value())  # the slot shown checked
    context = {
        "sale": sale,
        "form": form,
        "summary": summary,
        "prices": prices,
        "points": [
            (group, group.may_wait(mine), slot_choices.slot_items_html(group.slots, chosen=chosen, mine=mine))
            for group in checkout_selectors.slots_by_point(form.slots)
        ],
        "order": order,
        "card_notice": cart_card_notice(sale=sale, lines=summary.lines)
        if PaymentMethod.CARD in dict(form.fields["payment_method"].choices)
        else "",
    }
    return render(request, "orders/sale_checkout.html", context, status=400 if form.errors else 200)


def _brought_down_words(sale: Sale, kept: dict[int, int], offer_ids) -> list[str]:
    """What the member is told of the offers of `offer_ids`, brought down to what is left (`kept`: the
    quantity the cart keeps of each, 0 when it leaves the cart)."""
    names = checkout_selectors.offer_names(sale=sale, offer_ids=offer_ids)
    said = []
    for offer_id in sorted(offer_ids):
        left, name = kept.get(offer_id, 0), names.get(offer_id, "")
        if left > 0:
            said.append(
                _(
                    "Il ne reste que %(count)s × « %(name)s » pour vous : votre panier en compte maintenant "
                    "%(count)s."
                )
                % {"count": left, "name": name}
            )
        else:
            said.append(_("« %(name)s » est épuisé : il est retiré de votre panier.") % {"name": name})
    return said


def _cart_brought_down(
    request,
    sale: Sale,
    quantities: dict[int, int],
    short: checkout_services.StockShort,
    form,
    *,
    changing: bool,
) -> dict[int, int]:
    """A checkout refused for products with less left than the cart asks: the cart comes down to what is
    left (a sold-out product leaves it), and the page says so and asks to confirm again; nothing is ordered
    meanwhile. An emptied cart sends the member back to the sale page, with the same words."""
    kept = dict(quantities)
    for offer_id, lacking in short.shortfall.items():
        kept[offer_id] = quantities.get(offer_id, 0) - lacking
    said = _brought_down_words(sale, kept, short.shortfall)
    kept = {offer_id: quantity for offer_id, quantity in kept.items() if quantity > 0}
    if not kept:
        cart.cart_forget(request, sale)
        for words in said:
            messages.warning(request, words)
        messages.info(request, _("Votre panier est vide : choisissez vos produits."))
        return kept
    cart.cart_save(request, sale, kept)
    for words in said:
        form.add_error(None, words)
    form.add_error(
        None,
        _("Votre commande n'est pas encore modifiée : vérifiez le panier ci-dessous, puis validez à nouveau.")
        if changing
        else _("Rien n'est encore commandé : vérifiez votre panier ci-dessous, puis validez à nouveau."),
    )
    return kept


def _checkout_pricing(
    request, sale: Sale, offers: list[Offer], quantities: dict[int, int]
) -> checkout_selectors.MemberPricing:
    """The member's prices for this basket (its offers: cart_offers): with a discount, only if the fund
    covers all of it."""
    prices = _pricing(request, sale)  # the tier read with the sale
    if prices.tier is None or not prices.tier.has_discount:
        return prices
    discount = checkout_selectors.basket_discount(
        offers=offers, quantities=quantities, percent=prices.tier.percent
    )
    return checkout_selectors.member_pricing(user=request.user, discount=discount, tier=prices.tier)


def _pay_with_credit(request, order: Order) -> Order:
    """The member ticked « Utiliser mon avoir »: it pays what it can (all of it, for a card order)."""
    try:
        spent = payment_services.credit_spend(order_id=order.pk, user=request.user)
    except payment_services.PaymentRefused as refusal:
        messages.warning(request, str(refusal))
    else:
        messages.info(request, _("%(amount)s payés avec votre avoir.") % {"amount": euros(spent)})
    return Order.objects.get(pk=order.pk)


@role_required(Role.MEMBER)
def my_orders(request):
    context = {
        "orders": checkout_selectors.orders_of_user(user=request.user),
        "balance": ledger_selectors.member_total(user=request.user),
    }
    return render(request, "orders/my_orders.html", context)


@role_required(Role.MEMBER)
def order_detail(request, order_id: int):
    order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    if order is None:
        raise Http404
    # Payments with their refunds, once: the balance and the list below both read them.
    prefetch_related_objects(
        [order], Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds"))
    )
    can_change = order.is_placed and order.sale.status_at(timezone.now()) == Sale.Status.OPEN
    balance = balances.order_balance(order)
    can_pay = can_change and order.payment_status == PaymentStatus.AWAITING
    context = {
        "order": order,
        "vat": checkout_selectors.vat_breakdown(order.lines.all()),
        "can_change": can_change,
        "can_pay": can_pay,
        "balance": balance,
        "amounts": balances.order_amounts(order),
        "money_facts": money_facts(order, balance),
        "card_notice": order_card_notice(order) if can_pay else "",
        "payments": order.payments.all(),
        "credit_available": ledger_selectors.credit_available(user_id=request.user.pk),
        "credit_payable": _credit_payable(order, request.user),
    }
    if order.is_placed and order.booking:
        url = basket_codes.basket_code_url(
            base_url=request.tenant.base_url, schema_name=connection.schema_name, booking_id=order.booking.pk
        )
        context["qr_svg"] = basket_codes.qr_svg(
            url, title=_("Code du panier n° %(number)s") % {"number": order.basket_number}
        )
    return render(request, "orders/order_detail.html", context)


def _credit_payable(order: Order, user) -> Decimal | None:
    """What « Payer avec mon avoir » would pay; None when the credit cannot pay this order (no button)."""
    if not order.is_placed:
        return None
    try:
        return payment_services.credit_spendable(order=order, user=user)
    except payment_services.PaymentRefused:
        return None


@role_required(Role.MEMBER)
def order_calendar(request, order_id: int):
    """The order's pickup slot as a calendar invitation (.ics), for the member's own calendar program."""
    order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    if order is None or not order.is_placed or order.booking is None:
        raise Http404
    body = calendar.booking_ics(
        collective=request.tenant,
        booking=order.booking,
        url=f"{request.tenant.base_url}/commandes/{order.pk}/",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="retrait-{order.number}.ics"'
    return response


@require_POST
@role_required(Role.MEMBER)
def order_cancel(request, order_id: int):
    order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    if order is None:
        raise Http404
    try:
        checkout_services.order_cancel(order_id=order.pk, user=request.user)
    except checkout_services.OrderRefused as refusal:
        messages.error(request, str(refusal))
    else:
        cart.cart_forget(request, order.sale)
        messages.success(request, _("Commande annulée : les produits et votre créneau sont libérés."))
    return redirect("order_detail", order_id=order.pk)


@role_required(Role.MEMBER)
def my_preferences(request):
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            checkout_services.member_preferences_update(
                user=request.user, reminders=form.cleaned_data["reminders"]
            )
            messages.success(request, _("Vos préférences sont enregistrées."))
            return redirect("my_preferences")
    else:
        preferences = checkout_selectors.member_preferences(user=request.user)
        form = PreferencesForm(initial={"reminders": preferences.reminders})
    return render(request, "orders/my_preferences.html", {"form": form})
