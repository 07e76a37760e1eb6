"""Units behind the gunicorn tests: the shared rate-limit storage and log redaction."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask

from arena.limits import SQLiteStorage, unshared_storage_problem
from arena.security.logs import redact_addresses


def test_default_storage_is_a_sqlite_file_in_the_instance_folder(app: Flask) -> None:
    uri = app.config["RATELIMIT_STORAGE_URI"]
    assert uri == f"sqlite:///{Path(app.instance_path) / 'ratelimits.sqlite3'}"


def test_sqlite_storage_counts_in_fixed_windows_shared_by_instances(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    one, two = SQLiteStorage(uri), SQLiteStorage(uri)  # as two worker processes would
    assert [one.incr("k", 1), two.incr("k", 1), one.incr("k", 1, amount=2)] == [1, 2, 4]
    assert two.get("k") == 4 and one.get("other") == 0
    assert time.time() < two.get_expiry("k") <= time.time() + 1
    time.sleep(1.1)
    assert one.get("k") == 0
    assert two.incr("k", 60) == 1  # a new window starts from zero
    one.clear("k")
    assert two.get("k") == 0 and one.check()


def test_memory_storage_is_refused_only_with_several_processes() -> None:
    memory = {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ENABLED": True}
    assert unshared_storage_problem(memory, 1) is None
    assert "multiplied by 4" in (unshared_storage_problem(memory, 4) or "")
    assert unshared_storage_problem({**memory, "RATELIMIT_ENABLED": False}, 4) is None
    shared = {"RATELIMIT_STORAGE_URI": "sqlite:///x", "RATELIMIT_ENABLED": True}
    assert unshared_storage_problem(shared, 4) is None


def test_addresses_are_redacted_except_the_servers_own() -> None:
    keep = frozenset({"127.0.0.1"})
    assert redact_addresses("Invalid request from ip=192.0.2.7: bad", keep) == (
        "Invalid request from ip=[address]: bad")
    assert redact_addresses("peers 2001:db8::7, ::ffff:10.1.2.3 and ::1", keep) == (
        "peers [address], [address] and [address]")
    assert redact_addresses("Listening at: http://127.0.0.1:8000 (12)", keep) == (
        "Listening at: http://127.0.0.1:8000 (12)")
    assert redact_addresses("at 12:30:45, gunicorn 27.0.1, v1.2.3.4.5", keep) == (
        "at 12:30:45, gunicorn 27.0.1, v1.2.3.4.5")
