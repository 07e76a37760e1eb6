"""`arena.db.id_chunks`: a condition per chunk of ids (PostgreSQL arrays, IN lists elsewhere)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import arena.db
from arena.db import id_chunks
from arena.models import Contender, Voter


@pytest.mark.parametrize("chunk", [3, 1000])
def test_every_id_is_found_once_across_chunks(
        db: Session, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(arena.db, "ARRAY_CHUNK", chunk)
    monkeypatch.setattr(arena.db, "IN_CHUNK", chunk)
    contenders = [Contender(name=f"c{k}", base_url="", upstream_model="m") for k in range(8)]
    db.add_all(contenders)
    db.add_all(Voter(id=f"voter-{k}'\"{{}}") for k in range(7))  # quotes and braces survive
    db.flush()
    wanted = [c.id for c in contenders[1:]]
    conditions = list(id_chunks(db, Contender.id, wanted))
    assert len(conditions) == -(-len(wanted) // chunk)
    found = [i for where in conditions for i in db.scalars(select(Contender.id).where(where))]
    assert sorted(found) == sorted(wanted)
    names = [f"voter-{k}'\"{{}}" for k in (0, 2, 4, 6)] + ["nobody"]
    voters = [v for where in id_chunks(db, Voter.id, names)
              for v in db.scalars(select(Voter.id).where(where))]
    assert sorted(voters) == sorted(names[:4])
    assert list(id_chunks(db, Contender.id, [])) == []
