"""Contenders file: validation errors name the line and field; sync upserts and retires."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.contenders import parse_contenders
from arena.errors import ConfigError
from arena.models import Contender

GOOD = """\
contenders:
  - name: Alpha
    organization: Org A
    license: MIT
    base_url: http://127.0.0.1:9/v1
    model: alpha-7b
    api_key_env: ALPHA_KEY
    params: {temperature: 0.5}
    timeouts: {connect: 2, read: 10, total: 60}
    weight: 2
  - name: Beta
    base_url: ${BETA_URL}
    model: beta
    public: false
"""


def test_parse_reads_every_field_and_substitutes_env() -> None:
    alpha, beta = parse_contenders(GOOD, environ={"BETA_URL": "https://beta.example/v1"})
    assert (alpha.name, alpha.model, alpha.api_key_env) == ("Alpha", "alpha-7b", "ALPHA_KEY")
    assert (alpha.connect_timeout, alpha.read_timeout, alpha.total_timeout) == (2, 10, 60)
    assert alpha.weight == 2.0 and alpha.params == {"temperature": 0.5} and alpha.public
    assert beta.base_url == "https://beta.example/v1" and beta.public is False


@pytest.mark.parametrize(("text", "expected"), [
    (GOOD.replace("weight: 2", "weight: heavy"), "line 10: field 'weight' must be a number"),
    (GOOD.replace("    license: MIT\n", "    licence: MIT\n"), "line 4: unknown field 'licence'"),
    (GOOD.replace("base_url: http://127.0.0.1:9/v1", "base_url: ftp://x"),
     "line 5: field 'base_url' must be an http(s) URL"),
    (GOOD.replace("    model: beta\n", ""), "line 11: contender is missing required field 'model'"),
    (GOOD.replace("public: false", "public: maybe"),
     "line 14: field 'public' must be true or false"),
    (GOOD.replace("connect: 2", "connect: 0"), "line 9: field 'timeouts.connect' must be > 0"),
    (GOOD.replace("name: Beta", "name: alpha"), "line 11: contender name 'alpha' is used twice"),
    ("contenders: [\n", "line 2: not valid YAML"),
    ("", "the file is empty"),
    (GOOD, "line 12: environment variable 'BETA_URL' is not set"),
])
def test_bad_file_error_names_line_and_field(text: str, expected: str) -> None:
    environ = {} if "BETA_URL" in expected else {"BETA_URL": "http://127.0.0.1:9/v1"}
    with pytest.raises(ConfigError) as info:
        parse_contenders(text, "c.yaml", environ=environ)
    assert expected in info.value.message
    assert info.value.message.startswith("c.yaml")


def test_sync_command_adds_updates_and_retires(runner: FlaskCliRunner, db: Session,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BETA_URL", "http://127.0.0.1:9/v1")
    path = tmp_path / "contenders.yaml"
    path.write_text(GOOD)
    result = runner.invoke(args=["contenders", "sync", str(path)])
    assert result.exit_code == 0, result.output
    assert "added: Alpha, Beta" in result.output
    assert db.scalar(select(func.count()).select_from(Contender)) == 2

    path.write_text(GOOD.split("  - name: Beta")[0].replace("weight: 2", "weight: 3"))
    result = runner.invoke(args=["contenders", "sync", str(path)])
    assert result.exit_code == 0, result.output
    assert "updated: Alpha" in result.output and "retired: Beta" in result.output
    db.expire_all()
    rows = {c.name: c for c in db.scalars(select(Contender))}
    assert rows["Alpha"].weight == 3.0 and rows["Beta"].active is False


def test_sync_command_rejects_bad_file_and_writes_nothing(runner: FlaskCliRunner, db: Session,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BETA_URL", "http://127.0.0.1:9/v1")
    path = tmp_path / "contenders.yaml"
    path.write_text(GOOD.replace("weight: 2", "weight: -1"))
    result = runner.invoke(args=["contenders", "sync", str(path)])
    assert result.exit_code != 0
    assert "line 10: field 'weight' must be >= 0" in result.output
    assert db.scalar(select(func.count()).select_from(Contender)) == 0
