"""The double's pages, in French: the hosted payment page, 3-D Secure and Connect onboarding.

Plain HTML forms with inline CSS, readable on a 360 px screen, no JavaScript.
"""

from __future__ import annotations

from html import escape

STYLE = """
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1a1f36;
line-height:1.45}
main{max-width:30rem;margin:0 auto;padding:1rem}
.test{background:#ffe8c2;color:#5c3b00;padding:.4rem .75rem;border-radius:.4rem;font-size:.85rem}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin:1rem 0;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:.75rem 0}
table{width:100%;border-collapse:collapse}td{padding:.3rem 0;vertical-align:top}td.n{text-align:right;
white-space:nowrap}tr.total td{border-top:1px solid #d8dce3;font-weight:bold;padding-top:.5rem}
label{display:block;font-weight:600;margin:.8rem 0 .25rem}
input{box-sizing:border-box;width:100%;font-size:1rem;padding:.6rem;border:1px solid #aab2bd;
border-radius:.4rem}
button{width:100%;font-size:1.05rem;padding:.75rem;margin-top:1rem;border:0;border-radius:.4rem;
background:#635bff;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#b3261e;border:1px solid #b3261e}
.error{background:#fde7e9;color:#8a1020;padding:.6rem .75rem;border-radius:.4rem}
.hint{font-size:.9rem;color:#4f566b}ul.hint{padding-left:1.2rem}code{font-size:.95em}
a{color:#4a42e0}
"""


def euros(cents: int, currency: str = "eur") -> str:
    """12,34 € — French formatting, a space between thousands."""
    whole, rest = divmod(cents, 100)
    text = f"{whole:,}".replace(",", " ") + f",{rest:02d}"
    return f"{text} €" if currency == "eur" else f"{text} {currency.upper()}"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        '<p class="test">Mode test — double local de Stripe : aucun paiement réel.</p>'
        f"{body}</main></body></html>\n"
    )


def _back(url: str | None, label: str = "Retour") -> str:
    return f'<p><a href="{escape(url)}">{escape(label)}</a></p>' if url else ""


def checkout(
    session: dict, items: list[dict], *, error: str | None = None, email: str = "", name: str = ""
) -> str:
    rows = "".join(
        f"<tr><td>{escape(item['description'])} × {item['quantity']}</td>"
        f'<td class="n">{euros(item["amount_total"], item["currency"])}</td></tr>'
        for item in items
    )
    total = euros(session["amount_total"], session["currency"])
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    email = email or session.get("customer_email") or ""
    body = f"""
<h1>Paiement de votre commande</h1>
<div class="card"><table>{rows}
<tr class="total"><td>Total</td><td class="n">{total}</td></tr></table></div>
<form class="card" method="post" action="/c/pay/{escape(session["id"])}">
{alert}
<label for="email">Adresse e-mail</label>
<input id="email" name="email" type="email" autocomplete="email" value="{escape(email)}">
<label for="name">Nom sur la carte</label>
<input id="name" name="name" autocomplete="cc-name" value="{escape(name)}">
<label for="card">Numéro de carte</label>
<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" value=""
 aria-describedby="cards" required>
<ul class="hint" id="cards">
<li><code>4242 4242 4242 4242</code> : paiement accepté</li>
<li><code>4000 0000 0000 0002</code> : carte refusée</li>
<li><code>4000 0025 0000 3155</code> : authentification demandée</li>
</ul>
<button type="submit">Payer {total}</button>
</form>
{_back(session.get("cancel_url"))}
"""
    return _page("Paiement — Stripe (démonstration)", body)


def closed(session: dict) -> str:
    if session["status"] == "complete":
        message = "Ce paiement a déjà été effectué."
    else:
        message = "Cette session de paiement a expiré : aucun paiement n'est plus possible avec ce lien."
    body = f'<h1>Paiement impossible</h1><p class="card">{message}</p>{_back(session.get("cancel_url"))}'
    return _page("Session de paiement fermée", body)


def authenticate(session: dict) -> str:
    action = f"/c/pay/{escape(session['id'])}/3ds"
    body = f"""
<h1>Authentification 3-D Secure (démonstration)</h1>
<div class="card">
<p>Votre banque demande de confirmer le paiement de {euros(session["amount_total"], session["currency"])}.</p>
<form method="post" action="{action}"><input type="hidden" name="action" value="valider">
<button type="submit">Valider</button></form>
<form method="post" action="{action}"><input type="hidden" name="action" value="echouer">
<button type="submit" class="secondary">Échouer</button></form>
</div>
"""
    return _page("Authentification 3-D Secure", body)


def onboarding(account: dict, token: str, refresh_url: str) -> str:
    email = f" ({escape(account['email'])})" if account.get("email") else ""
    state = (
        "Les paiements sont déjà activés sur ce compte."
        if account["charges_enabled"]
        else "Les paiements ne sont pas encore activés sur ce compte."
    )
    body = f"""
<h1>Compte Stripe de démonstration — activer les paiements</h1>
<div class="card">
<p>Compte <code>{escape(account["id"])}</code>{email}.</p>
<p>{state} Chez Stripe, il faudrait ici renseigner l'identité, l'activité et le compte bancaire ;
le double se contente d'un bouton.</p>
<form method="post" action="/connect/onboarding/{escape(token)}">
<button type="submit">Activer les paiements et revenir</button></form>
</div>
{_back(refresh_url, "Recommencer plus tard")}
"""
    return _page("Activer les paiements — Stripe (démonstration)", body)


def not_found() -> str:
    return _page("Page introuvable", "<h1>Page introuvable</h1><p>Ce lien ne correspond à rien.</p>")
