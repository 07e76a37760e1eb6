"""Arenas by modality: the plug-in registry, the contenders file and arena-pure pairing."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy.orm import Session

from arena import modalities
from arena.battles import create_battle, sample_pair
from arena.battles.sampling import NoContenders
from arena.contenders import parse_contenders, sync_contenders
from arena.errors import ConfigError
from arena.modalities.base import Modality, Sanitised
from arena.models import Battle, Contender, utcnow


def test_builtin_arenas_are_registered_text_first() -> None:
    assert modalities.names()[0] == "text"
    assert {"text", "image", "speech", "music"} <= set(modalities.names())
    assert modalities.get("speech").kind == "audio"
    with pytest.raises(modalities.UnknownModality):
        modalities.get("smell")


def test_a_new_modality_is_a_plugin_not_a_schema_change() -> None:
    def sanitise(data: bytes) -> Sanitised:
        return Sanitised(data=data, media_type="model/gltf-binary", extension="glb")

    plugin = modalities.register(Modality(
        name="test-3d", kind="image", title="3D", build_request=lambda p, m, k: {"prompt": p},
        parse_response=bytes, style_features=lambda facts: {}, partial="x.html",
        sanitise=sanitise))
    try:
        spec, = parse_contenders(
            "contenders:\n  - {name: M, base_url: 'http://127.0.0.1:1/v1', model: m, "
            "arena: test-3d}\n", environ={})
        assert spec.arena == "test-3d" and modalities.get("test-3d") is plugin
    finally:
        modalities.base._REGISTRY.pop("test-3d")


def test_media_modality_without_sanitiser_is_refused() -> None:
    with pytest.raises(ValueError, match="sanitiser"):
        Modality(name="bad", kind="image", title="", build_request=lambda p, m, k: {},
                 parse_response=bytes, style_features=lambda f: {}, partial="")


def test_contenders_default_to_text_and_unknown_arena_names_the_line() -> None:
    text = ("contenders:\n"
            "  - {name: A, base_url: 'http://127.0.0.1:1/v1', model: a}\n"
            "  - name: B\n    base_url: http://127.0.0.1:1/v1\n    model: b\n"
            "    arena: smell\n")
    with pytest.raises(ConfigError, match=r"line 6: unknown arena 'smell'"):
        parse_contenders(text, environ={})
    first, = parse_contenders(text.split("  - name: B")[0], environ={})
    assert first.arena == "text"


def test_sync_stores_the_arena(db: Session) -> None:
    specs = parse_contenders(
        "contenders:\n"
        "  - {name: Painter, base_url: 'http://127.0.0.1:1/v1', model: p, arena: image}\n"
        "  - {name: Writer, base_url: 'http://127.0.0.1:1/v1', model: w}\n", environ={})
    sync_contenders(db, specs)
    db.commit()
    arenas = {c.name: c.arena for c in db.query(Contender)}
    assert arenas == {"Painter": "image", "Writer": "text"}


def test_battles_pair_only_contenders_of_one_arena(db: Session, make_contender: Any) -> None:
    for n in range(3):
        make_contender(name=f"text-{n}")
    for n in range(2):
        make_contender(name=f"image-{n}", arena="image")
    make_contender(name="speech-0", arena="speech")
    rng = random.Random(7)
    for _ in range(200):
        a, b = sample_pair(db, rng, utcnow(), "image")
        assert {a.name, b.name} == {"image-0", "image-1"}
        a, b = sample_pair(db, rng, utcnow())
        assert a.arena == b.arena == "text"
    with pytest.raises(NoContenders):  # one speech contender cannot battle itself
        sample_pair(db, rng, utcnow(), "speech")
    created = create_battle(db, voter_id="v" * 32, ip_hash="h", prompt="a red fox", rng=rng,
                            now=utcnow(), arena="image")
    db.commit()
    battle = db.get(Battle, created.id)
    assert battle is not None
    assert battle.arena == "image" and battle.contender_a.arena == "image"
    text_created = create_battle(db, voter_id="v" * 32, ip_hash="h", prompt="hi", rng=rng,
                                 now=utcnow())
    text_battle = db.get(Battle, text_created.id)
    assert text_battle is not None and text_battle.arena == "text"
