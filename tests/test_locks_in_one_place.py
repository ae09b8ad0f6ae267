"""Row locks are taken in one place per app (its locks.py), so that their order can be read and kept: a
`select_for_update` anywhere else in the apps fails this test."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["marketplace", "producers", "pickup_points", "orders"]


def test_every_row_lock_is_in_a_locks_module():
    elsewhere = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if path.name == "locks.py" or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "select_for_update":
                    elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert elsewhere == []


def test_each_app_documents_its_lock_order():
    for app in APPS:
        doc = ast.get_docstring(ast.parse((ROOT / app / "locks.py").read_text())) or ""
        assert "→" in doc, f"{app}/locks.py does not say in which order it locks"
