#!/usr/bin/env bash
# Debian packages the suite needs and a fresh machine may lack; installed only when missing.
#   chromium: browser tests and screenshots (Playwright drives Debian's chromium, never a downloaded build)
#   poppler-utils: pdftoppm, to look at generated PDFs as images
#   libpango-1.0-0, libpangoft2-1.0-0, fonts-dejavu-core: WeasyPrint's text layout and the sheets' font
#   libharfbuzz-subset0: WeasyPrint subsets fonts with it in milliseconds; without it, it falls back to
#     fontTools, about 0.4 s per font and document (most of a small sheet's time)
#   gettext: xgettext, with which the tests check that every French string of the UI has its English
#   nodejs, npm: `npm ci` installs axe-core and vnu-jar (tests/browser/package-lock.json)
#   default-jre-headless: Java for the Nu HTML checker (vnu.jar, tests/test_html_valid.py)
#   iproute2, socat: bench/scale_out.py (hosts as network namespaces; socat forwards PostgreSQL and Redis)
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v xgettext >/dev/null 2>&1 || missing+=(gettext)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v socat >/dev/null 2>&1 || missing+=(socat)
ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so" || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so" || missing+=(libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so" || missing+=(libharfbuzz-subset0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[etal] missing system packages: ${missing[*]} (install them with your package manager)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "[etal] missing system packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 0
  fi
fi
echo "[etal] installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
