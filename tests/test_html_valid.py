"""0 errors from the Nu HTML checker (vnu) on the key pages of the demo, each as its person sees it.

The pages are rendered by the test client after `seed_demo` (tests/key_pages.py lists them), written to a
folder and checked by one run of vnu (npm's vnu-jar, pinned in tests/browser/package.json and installed by
`make test`; Java from Debian, installed by scripts/system-deps.sh). Warnings and info messages are not
failures; every error is listed with its page, line and the piece of HTML concerned.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import HostClient
from tests.key_pages import key_pages

NODE_MODULES = Path(__file__).resolve().parent / "browser" / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def vnu_errors(folder: Path) -> list[dict]:
    """Every error vnu finds in the .html files of `folder` (one JVM for all of them)."""
    java = shutil.which("java")
    if not java:
        pytest.fail("java not found: run `make system-deps` (Debian's default-jre-headless)")
    if not VNU_JAR.exists():
        pytest.fail(f"{VNU_JAR} is missing: run `make test` or `npm ci --prefix tests/browser`")
    run = subprocess.run(
        [java, "-Xss2m", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(run.stderr or run.stdout)  # vnu writes its JSON report on standard error
    return [message for message in report["messages"] if message.get("type") == "error"]


def test_key_pages_have_no_html_error(db, media_root, tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    folder = tmp_path / "pages"
    folder.mkdir()
    names: dict[str, str] = {}
    for visit in key_pages():
        client = HostClient(visit.host, visit.user)
        for name, path in visit.pages.items():
            response = client.get(path)
            where = f"{name} ({visit.who} on {visit.host}{path})"
            assert response.status_code == 200, f"{where}: HTTP {response.status_code}"
            file = folder / f"page-{len(names):02d}.html"
            file.write_bytes(response.content)
            names[file.name] = f"{name} ({visit.who}, {path})"
    assert len(names) >= 20

    errors = vnu_errors(folder)
    lines = [
        f"{names.get(Path(error['url']).name, error['url'])}, line {error.get('lastLine', '?')}: "
        f"{error['message']}\n    {error.get('extract', '').strip()[:160]}"
        for error in errors
    ]
    if errors:
        pytest.fail(f"{len(errors)} HTML errors (Nu HTML checker):\n" + "\n".join(lines), pytrace=False)
