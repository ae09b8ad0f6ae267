"""In-process CPU of each request of the member path (helper, not committed)."""
import os, sys, time, random, statistics, cProfile, pstats
sys.argv = sys.argv[:1]
os.environ.setdefault("BENCH_MEMBERS", "120")
import order_load as ol
from django.test import Client
from django.db import connection
from marketplace.models import User
sale_id, offers, slots, emails = ol.setup()
connection.set_schema_to_public()
rng = random.Random(3)
plenty = [o for o in offers if o not in set(offers[::10])]
t = {"sante": [], "sale": [], "cart": [], "checkout": []}
prof = cProfile.Profile() if os.environ.get("PROF") else None
for i, email in enumerate(emails[:100]):
    c = Client(HTTP_HOST=ol.HOST)
    c.force_login(User.objects.get(email=email))
    def timed(key, fn):
        if prof and i >= 20 and key == "checkout": prof.enable()
        a = time.process_time(); r = fn(); b = time.process_time()
        if prof and i >= 20: prof.disable()
        if i >= 20: t[key].append((b - a) * 1000)
        return r
    timed("sante", lambda: c.get("/sante/"))
    timed("sale", lambda: c.get(f"/ventes/{sale_id}/"))
    r = timed("cart", lambda: c.post(f"/ventes/{sale_id}/", {f"qty_{o}": 1 for o in rng.sample(plenty, 5)}))
    assert r.status_code == 302, r.status_code
    r = timed("checkout", lambda: c.post(f"/ventes/{sale_id}/commander/", {"slot": rng.choice(slots), "payment_method": "cash"}))
    assert r.status_code == 302, r.status_code
for k, v in t.items():
    print(f"{k:9} CPU median {statistics.median(v):.2f} ms")
if prof:
    pstats.Stats(prof).sort_stats(os.environ.get("PROF")).print_stats(45)
