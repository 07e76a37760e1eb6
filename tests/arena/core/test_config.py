"""Config layers: defaults → instance/config.py → ARENA_* env → test mapping; validated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.config import load_config
from arena.errors import ConfigError


def test_layers_apply_in_order(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("MAX_TURNS = 3\nMAX_PROMPT_CHARS = 100\n")
    config = load_config(str(tmp_path), {"MAX_PROMPT_CHARS": 50},
                         environ={"ARENA_MAX_TURNS": "4", "ARENA_MAX_PROMPT_CHARS": "70"})
    assert config["MAX_TURNS"] == 4  # env beats the instance file
    assert config["MAX_PROMPT_CHARS"] == 50  # the test mapping beats env
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'arena.sqlite3'}"


def test_generated_secret_key_persists_across_restarts(tmp_path: Path) -> None:
    first = load_config(str(tmp_path), environ={})["SECRET_KEY"]
    second = load_config(str(tmp_path), environ={})["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("environ", "message"), [
    ({"ARENA_MAX_TURNS": "many"}, "MAX_TURNS must be an integer"),
    ({"ARENA_RATELIMIT_ENABLED": "perhaps"}, "RATELIMIT_ENABLED must be true or false"),
    ({"ARENA_SECRET_KEY": "short"}, "SECRET_KEY must be at least 16 characters"),
    ({"ARENA_ENDPOINT_COOLDOWN_S": "-1"}, "ENDPOINT_COOLDOWN_S must not be negative"),
])
def test_invalid_values_are_rejected_at_start_up(tmp_path: Path, environ: dict[str, str],
                                                 message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), environ=environ)


def test_unknown_key_in_instance_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("MAX_TURN = 3\n")
    with pytest.raises(ConfigError, match="Unknown config keys: MAX_TURN"):
        load_config(str(tmp_path), environ={})
