"""The English catalogue is complete and compiled: no French string left in the English interface."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES"
KEYWORD = re.compile(r'^(msgid|msgid_plural|msgstr|msgstr\[\d\]) (".*")$')
CONTINUATION = re.compile(r'^(".*")$')


def _po_entries(po: Path = CATALOGUE / "django.po") -> list[dict]:
    """Each entry of a .po file as {"msgid": …, "msgstr": …, "msgstr[0]": …, "fuzzy": bool}."""
    entries = []
    for block in po.read_text().split("\n\n"):
        entry: dict = {"fuzzy": "#, fuzzy" in block}
        key = None
        for line in block.splitlines():
            if match := KEYWORD.match(line):
                key = match.group(1)
                entry[key] = ast.literal_eval(match.group(2))
            elif (match := CONTINUATION.match(line)) and key:
                entry[key] += ast.literal_eval(match.group(1))
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def test_every_string_has_an_english_translation():
    entries = _po_entries()
    assert len(entries) > 100
    missing = [
        entry["msgid"]
        for entry in entries
        if entry["fuzzy"] or not (entry.get("msgstr") or entry.get("msgstr[0]"))
    ]
    assert missing == []


def test_the_compiled_catalogue_matches_the_sources():
    with CATALOGUE.joinpath("django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    singular = [entry for entry in _po_entries() if "msgstr" in entry]
    stale = [entry["msgid"] for entry in singular if catalogue.gettext(entry["msgid"]) != entry["msgstr"]]
    assert stale == [], "run `make messages` to compile the catalogue"
    plural = [entry for entry in _po_entries() if "msgid_plural" in entry]
    assert plural
    for entry in plural:
        assert catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 2) == entry["msgstr[1]"]


def test_no_string_of_the_code_is_missing_from_the_catalogue(tmp_path):
    """Extract the strings again (as `make messages` does) in a copy of the project: none may be new."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    command = [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "--no-location"]
    command += ["--ignore", "tests/*", "--ignore", "bench/*", "--ignore", "scripts/*"]
    subprocess.run(
        command,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    extracted = _po_entries(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po")
    missing = [
        entry["msgid"]
        for entry in extracted
        if entry["fuzzy"] or not (entry.get("msgstr") or entry.get("msgstr[0]"))
    ]
    assert missing == [], "run `make messages` and translate these strings"
