"""Contenders declared in a YAML file, validated with line numbers, synced into the database.

File shape::

    contenders:
      - name: Brief                 # public name, unique, shown after the vote
        organization: Demo Lab
        license: Apache-2.0
        base_url: http://127.0.0.1:8001/v1
        model: demo-brief           # upstream model id sent to the endpoint
        api_key_env: DEMO_KEY       # optional: env var holding the API key
        params: {temperature: 0.7, max_tokens: 512}
        timeouts: {connect: 5, read: 60, total: 300}
        weight: 1.0                 # sampling weight
        link: https://example.org/brief   # optional: model card or announcement
        public: true                # false: unreleased, tested under a public alias
        active: true                # false: retired, never sampled
        arena: text                 # the arena it competes in: text (default), image,
                                    # speech, music (any registered modality)
        deprecated: "superseded by Brief 2"   # optional: retire with a public reason

Every change the sync makes that the public can see (added, retired, deprecated, reactivated,
weight changed, private test started) is appended to the ledger (:mod:`arena.ledger`). A
contender that was ever public can never be made private again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena import ledger, modalities
from arena.errors import ConfigError
from arena.models import Contender, utcnow

_FIELDS = {"name", "organization", "license", "base_url", "model", "api_key_env", "params",
           "timeouts", "weight", "public", "active", "link", "deprecated", "arena"}
_REQUIRED = ("name", "base_url", "model")
_TIMEOUTS = {"connect": 5.0, "read": 60.0, "total": 300.0}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/+()-]{0,99}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SUBST = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ContenderSpec:
    name: str
    base_url: str
    model: str
    organization: str = ""
    license: str = ""
    api_key_env: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    total_timeout: float = 300.0
    weight: float = 1.0
    public: bool = True
    active: bool = True
    link: str = ""
    deprecated: str | None = None
    arena: str = "text"


def _err(source: str, node: yaml.Node, message: str) -> ConfigError:
    return ConfigError(f"{source}, line {node.start_mark.line + 1}: {message}")


def _scalar(source: str, key: str, node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise _err(source, node, f"field '{key}' must be a single value")
    return yaml.safe_load(yaml.serialize(node))


def _number(source: str, key: str, node: yaml.Node, *, positive: bool) -> float:
    value = _scalar(source, key, node)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(source, node, f"field '{key}' must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise _err(source, node, f"field '{key}' must be {'> 0' if positive else '>= 0'}")
    return float(value)


def _text(source: str, key: str, node: yaml.Node) -> str:
    value = _scalar(source, key, node)
    if not isinstance(value, str) or not value.strip():
        raise _err(source, node, f"field '{key}' must be a non-empty string")
    return value.strip()


def _flag(source: str, key: str, node: yaml.Node) -> bool:
    value = _scalar(source, key, node)
    if not isinstance(value, bool):
        raise _err(source, node, f"field '{key}' must be true or false, got {value!r}")
    return value


def _mapping(source: str, key: str, node: yaml.Node) -> dict[str, Any]:
    if not isinstance(node, yaml.MappingNode):
        raise _err(source, node, f"field '{key}' must be a mapping")
    value = yaml.safe_load(yaml.serialize(node))
    return dict(value or {})


def _parse_entry(source: str, node: yaml.Node) -> ContenderSpec:
    if not isinstance(node, yaml.MappingNode):
        raise _err(source, node, "each contender must be a mapping of fields")
    fields: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key not in _FIELDS:
            raise _err(source, key_node, f"unknown field '{key}' "
                       f"(expected one of: {', '.join(sorted(_FIELDS))})")
        if key in fields:
            raise _err(source, key_node, f"field '{key}' given twice")
        fields[key] = value_node
    for key in _REQUIRED:
        if key not in fields:
            raise _err(source, node, f"contender is missing required field '{key}'")

    spec: dict[str, Any] = {}
    for key in ("name", "base_url", "model"):
        spec[key] = _text(source, key, fields[key])
    if not _NAME.match(spec["name"]):
        raise _err(source, fields["name"], "field 'name' must be 1-100 letters, digits, "
                   "spaces or ._:/+()- and start with a letter or digit")
    url = urlparse(spec["base_url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise _err(source, fields["base_url"], "field 'base_url' must be an http(s) URL")
    for key in ("organization", "license", "deprecated"):
        if key in fields:
            spec[key] = _text(source, key, fields[key])
    if "link" in fields:
        spec["link"] = _text(source, "link", fields["link"])
        link = urlparse(spec["link"])
        if link.scheme not in ("http", "https") or not link.netloc:
            raise _err(source, fields["link"], "field 'link' must be an http(s) URL")
    if "api_key_env" in fields:
        env = _text(source, "api_key_env", fields["api_key_env"])
        if not _ENV.match(env):
            raise _err(source, fields["api_key_env"],
                       "field 'api_key_env' must be an environment variable name")
        spec["api_key_env"] = env
    if "params" in fields:
        spec["params"] = _mapping(source, "params", fields["params"])
    if "timeouts" in fields:
        timeouts = fields["timeouts"]
        if not isinstance(timeouts, yaml.MappingNode):
            raise _err(source, timeouts, "field 'timeouts' must be a mapping")
        for key_node, value_node in timeouts.value:
            if key_node.value not in _TIMEOUTS:
                raise _err(source, key_node, f"unknown timeout '{key_node.value}' "
                           "(expected connect, read, total)")
            spec[f"{key_node.value}_timeout"] = _number(
                source, f"timeouts.{key_node.value}", value_node, positive=True)
    if "weight" in fields:
        spec["weight"] = _number(source, "weight", fields["weight"], positive=False)
    for key in ("public", "active"):
        if key in fields:
            spec[key] = _flag(source, key, fields[key])
    if "arena" in fields:
        arena = _text(source, "arena", fields["arena"])
        if arena not in modalities.names():
            raise _err(source, fields["arena"], f"unknown arena '{arena}' "
                       f"(expected one of: {', '.join(modalities.names())})")
        spec["arena"] = arena
    return ContenderSpec(**spec)


def _substitute(text: str, source: str, environ: Mapping[str, str]) -> str:
    """Replace ``${NAME}`` with environment values, so one file serves several deployments."""
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        for name in _SUBST.findall(line):
            if name not in environ:
                raise ConfigError(f"{source}, line {number}: environment variable "
                                  f"'{name}' is not set")
        lines[number - 1] = _SUBST.sub(lambda m: environ[m.group(1)], line)
    return "".join(lines)


def parse_contenders(text: str, source: str = "<contenders>",
                     environ: Mapping[str, str] | None = None) -> list[ContenderSpec]:
    """Parse and validate a contenders file; errors name the line and the field."""
    text = _substitute(text, source, os.environ if environ is None else environ)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", exc)
        raise ConfigError(f"{source}{where}: not valid YAML ({problem})") from None
    if root is None:
        raise ConfigError(f"{source}: the file is empty")
    if not isinstance(root, yaml.MappingNode):
        raise _err(source, root, "the top level must be a mapping with a 'contenders' list")
    entries = None
    for key_node, value_node in root.value:
        if key_node.value != "contenders":
            raise _err(source, key_node, f"unknown top-level key '{key_node.value}'")
        entries = value_node
    if not isinstance(entries, yaml.SequenceNode):
        raise _err(source, entries or root, "'contenders' must be a list")
    specs = [_parse_entry(source, node) for node in entries.value]
    seen: dict[str, yaml.Node] = {}
    for spec, node in zip(specs, entries.value, strict=True):
        if spec.name.lower() in seen:
            raise _err(source, node, f"contender name '{spec.name}' is used twice")
        seen[spec.name.lower()] = node
    return specs


def load_contenders(path: str | Path) -> list[ContenderSpec]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read contenders file ({exc.strerror})") from None
    return parse_contenders(text, str(file))


class PrivateTestError(ConfigError):
    """A contenders file asks for what the private-testing rules forbid."""


def sync_contenders(db: Session, specs: list[ContenderSpec], *, now: datetime | None = None,
                    max_private_per_org: int | None = None) -> dict[str, list[str]]:
    """Insert or update contenders by name; ones missing from the file are retired.

    Contenders are never deleted: their battles and published ratings keep referring to them.
    Each visible change is appended to the ledger. Refused (nothing written): making a
    contender that was ever public private again, and more than ``max_private_per_org``
    active unreleased contenders of one organisation.
    """
    now = now or utcnow()
    existing = {c.name: c for c in db.scalars(select(Contender))}
    report: dict[str, list[str]] = {"added": [], "updated": [], "retired": []}
    private_per_org: dict[str, list[str]] = {}
    for spec in specs:
        row = existing.get(spec.name)
        if row is not None and not spec.public and (row.is_public or row.revealed_at):
            raise PrivateTestError(
                f"contender '{spec.name}' was public and cannot be made private again "
                "(a revealed private test is never retracted)")
        if not spec.public and spec.active and spec.deprecated is None:
            private_per_org.setdefault(spec.organization, []).append(spec.name)
    if max_private_per_org is not None:
        for org, names in private_per_org.items():
            if len(names) > max_private_per_org:
                raise PrivateTestError(
                    f"organization '{org or '(none)'}' has {len(names)} unreleased contenders "
                    f"({', '.join(names)}); at most {max_private_per_org} may be tested at once")
    for spec in specs:
        active = spec.active and spec.deprecated is None
        values = {
            "organization": spec.organization, "license": spec.license, "link": spec.link,
            "base_url": spec.base_url, "upstream_model": spec.model,
            "api_key_env": spec.api_key_env, "params": spec.params,
            "connect_timeout": spec.connect_timeout, "read_timeout": spec.read_timeout,
            "total_timeout": spec.total_timeout, "weight": spec.weight,
            "is_public": spec.public, "active": active, "arena": spec.arena,
        }
        row = existing.pop(spec.name, None)
        if row is None:
            row = Contender(name=spec.name, **values)
            if not spec.public:
                row.alias = ledger.new_alias(db)
            db.add(row)
            db.flush()
            report["added"].append(spec.name)
            _ledger_added(db, row, now)
            if not active:
                _ledger_retired(db, row, spec.deprecated, now)
            continue
        if not spec.public and row.alias is None:
            # An unreleased contender from before aliases existed starts its test now.
            row.alias = ledger.new_alias(db)
            ledger.record(db, "private_test_started", subject=row.alias, now=now,
                          details={"contender_id": row.id, "alias": row.alias})
        before = {k: getattr(row, k) for k in values}
        if before == values:
            continue
        for key, value in values.items():
            setattr(row, key, value)
        report["updated"].append(spec.name)
        if before["active"] and not active:
            report["retired"].append(spec.name)
            _ledger_retired(db, row, spec.deprecated, now)
        elif active and not before["active"]:
            ledger.record(db, "contender_reactivated", subject=ledger.public_name(row),
                          organization=_org(row), now=now)
        if before["weight"] != spec.weight:
            ledger.record(db, "weight_changed", subject=ledger.public_name(row),
                          organization=_org(row), now=now,
                          details={"from": before["weight"], "to": spec.weight})
    for row in existing.values():
        if row.active:
            row.active = False
            report["retired"].append(row.name)
            _ledger_retired(db, row, None, now)
    db.flush()
    return report


def _org(row: Contender) -> str | None:
    return row.organization if row.is_public else None


def _ledger_added(db: Session, row: Contender, now: datetime) -> None:
    details = {"contender_id": row.id, "weight": row.weight, "public": row.is_public}
    ledger.record(db, "contender_added", subject=ledger.public_name(row),
                  organization=_org(row), details=details, now=now)
    if not row.is_public:
        ledger.record(db, "private_test_started", subject=row.alias, now=now,
                      details={"contender_id": row.id, "alias": row.alias})


def _ledger_retired(db: Session, row: Contender, reason: str | None, now: datetime) -> None:
    if reason is not None:
        ledger.record(db, "contender_deprecated", subject=ledger.public_name(row),
                      organization=_org(row), reason=reason, now=now,
                      details={"contender_id": row.id, "date": now.date().isoformat()})
    else:
        ledger.record(db, "contender_retired", subject=ledger.public_name(row),
                      organization=_org(row), details={"contender_id": row.id}, now=now)
