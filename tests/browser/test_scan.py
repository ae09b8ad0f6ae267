"""The day page's « Scanner » in a real browser: the member shows the QR code of their order page, the
point's staff scan it with the phone's camera (BarcodeDetector), the page finds the basket and staff mark
it handed over. Chromium on Linux has no BarcodeDetector and this machine no camera: both are stood in for
(the detector reads back the code of the member's own order page, the camera is a canvas stream), the rest
— the local script, the form, the server's check of the signed code — is the real thing."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from pickup_points import basket_codes
from tests.browser.helpers import flash
from tests.conftest import PASSWORD
from tests.orders.test_calendar_checkin import shop_with_order

STAND_INS = """
window.BarcodeDetector = class {
  constructor(options) { this.formats = options.formats; }
  detect() {
    const code = window.__etalCode;
    return Promise.resolve(code ? [{ rawValue: code, format: "qr_code" }] : []);
  }
};
navigator.mediaDevices.getUserMedia = () => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  canvas.getContext("2d").fillRect(0, 0, 64, 64);
  return Promise.resolve(canvas.captureStream(5));
};
"""


def test_staff_scan_a_members_qr_code_and_hand_the_basket_over(site, alpha, person, shoot, axe_check):
    shop = shop_with_order(alpha)
    number = shop.order.basket_number
    code = basket_codes.basket_code_url(
        base_url=site.collective_url("alpha"),
        schema_name=alpha.collective.schema_name,
        booking_id=shop.booking.pk,
    )
    staff = person("Sami", "Staff-alpha", alpha.staff.email)
    staff.password = PASSWORD
    staff.context.add_init_script(STAND_INS)
    page = staff.page
    day = f"{site.collective_url('alpha')}/points/{shop.point.pk}/distributions/{shop.sale.distribution_id}/"
    page.goto(day)
    staff.log_in()
    page.goto(day)
    scan = page.get_by_role("button", name="Scanner")
    expect(scan).to_be_visible()
    axe_check(page)
    shoot(page, "day-scan-form")
    scan.click()
    expect(page.get_by_text("Visez le code QR du membre.")).to_be_visible()
    page.evaluate("code => { window.__etalCode = code; }", code)
    expect(flash(page)).to_contain_text(f"Panier n° {number} trouvé : Maud")
    basket = page.locator(f"#panier-{number}")
    expect(basket).to_have_class(re.compile(r"checkin-found"))
    shoot(page, "day-basket-found")
    basket.get_by_role("button", name=re.compile(r"^Retiré")).click()
    expect(flash(page)).to_contain_text(f"Panier n° {number} retiré.")
    expect(page.locator(f"#panier-{number}")).to_contain_text("retiré")


def test_without_barcode_detector_the_scan_button_stays_hidden_and_typing_works(site, alpha, person):
    shop = shop_with_order(alpha)
    staff = person("Sami", "Staff-alpha", alpha.staff.email)
    staff.password = PASSWORD
    page = staff.page
    day = f"{site.collective_url('alpha')}/points/{shop.point.pk}/distributions/{shop.sale.distribution_id}/"
    page.goto(day)
    staff.log_in()
    page.goto(day)
    expect(page.get_by_role("button", name="Scanner")).to_be_hidden()
    page.get_by_label("Trouver un panier : numéro ou code scanné").fill(str(shop.order.basket_number))
    page.get_by_role("button", name="Trouver", exact=True).click()
    expect(flash(page)).to_contain_text(f"Panier n° {shop.order.basket_number} trouvé")
