"""Publishing a leaderboard: eligible battles → one fit per view → one publication of snapshots.

A publication is all-or-nothing: every view is fitted before anything is written, and a fit that
fails (did not converge, no finite optimum, bad input) aborts the whole run. Views with too few
battles, or whose controlled features do not vary, are skipped and reported, not failed.

Ranks shown publicly are counted among public contenders only (an unreleased contender ahead of
everyone would otherwise show as a gap at rank 1): ``rank`` is 1 + the number of public
contenders with a higher rating, ``rank_ub`` 1 + the number whose ``ci_low`` exceeds this one's
``ci_high``, and ``rank_low``/``rank_high`` are the 2.5%/97.5% quantiles of the bootstrap rank
among public contenders. With every contender public they equal the engine's numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

import ratings
from arena import __version__ as arena_version
from arena import ledger
from arena.integrity import screen as integrity
from arena.integrity.disclosure import view_fragility
from arena.integrity.gates import gate_alerts
from arena.leaderboard import ranking
from arena.leaderboard.data import (
    DEFAULT_REG,
    FIT_OPTIONS,
    FLOOD_K,
    MIN_VIEW_BATTLES,
    ViewSpec,
    fit_chosen,
    publication_digest,
    varying_features,
    view_facts,
    view_features,
    views_for,
)
from arena.leaderboard.facts import Facts, fact_state, load_facts, sync_facts
from arena.leaderboard.serving import latest_publication
from arena.models import Contender, LeaderboardSnapshot, Publication, SnapshotEntry
from arena.sampling.ipw import ipw_win_matrix

log = logging.getLogger(__name__)


class PublishError(Exception):
    """A view could not be fitted; nothing was published."""


@dataclass
class PublishReport:
    """Outcome of :func:`publish`: the new publication (or the one already up to date)."""

    publication: Publication
    up_to_date: bool
    n_battles: int
    published: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def code_version() -> str:
    """Versions of the app, the engine and its feature transform: part of the battles hash."""
    return (f"arena {arena_version}; ratings {ratings.__version__}; "
            f"features {ratings.FEATURE_TRANSFORM_VERSION}")


def _skip_reason(spec: ViewSpec, chosen: Facts, min_battles: int) -> str | None:
    if len(chosen) < min_battles:
        what = "with the features it controls for" if spec.features else "in this view"
        return f"{len(chosen)} battles {what}, fewer than {min_battles}"
    if np.unique(np.concatenate([chosen.a_id, chosen.b_id])).shape[0] < 2:
        return "fewer than two contenders"
    if spec.features and not varying_features(chosen, spec):
        return "no controlled feature varies, so no style effect can be estimated"
    return None


def _public_ranks(res: ratings.LeaderboardResult, public: np.ndarray) -> dict[str, Any]:
    """Ranks among public contenders (arrays in the order of ``res.models``)."""
    rating = np.array([m.rating for m in res.models])
    lo = np.array([m.ci_low for m in res.models])
    hi = np.array([m.ci_high for m in res.models])
    pub = public.astype(bool)
    rank = 1 + ((rating[None, :] > rating[:, None]) & pub[None, :]).sum(axis=1)
    rank_ub = 1 + ((lo[None, :] > hi[:, None]) & pub[None, :]).sum(axis=1)
    rank_low = rank_high = None
    boot = res.bootstrap_ratings
    if boot is not None and pub.any():
        sub = boot[:, pub]
        ranks = 1 + (sub[:, None, :] > boot[:, :, None]).sum(axis=2)
        rank_low = np.percentile(ranks, 2.5, axis=0, method="lower")
        rank_high = np.percentile(ranks, 97.5, axis=0, method="higher")
    return {"rank": rank, "rank_ub": rank_ub, "rank_low": rank_low, "rank_high": rank_high}


def build_snapshot(spec: ViewSpec, chosen: Facts,
                   res: ratings.LeaderboardResult, *, min_votes: int) -> LeaderboardSnapshot:
    """Snapshot rows of one fitted view (not yet added to a session)."""
    ids: dict[str, int] = {}
    public: dict[str, bool] = {}
    for cid in np.unique(np.concatenate([chosen.a_id, chosen.b_id])):
        name, is_public = chosen.contenders[int(cid)]
        ids[name], public[name] = int(cid), is_public
    names = res.names
    pub = np.array([public[n] for n in names])
    ranks = _public_ranks(res, pub)
    entries = []
    for i, m in enumerate(res.models):
        entries.append(SnapshotEntry(
            contender_id=ids[m.name], rating=m.rating, ci_low=m.ci_low, ci_high=m.ci_high,
            rank=int(ranks["rank"][i]), rank_ub=int(ranks["rank_ub"][i]),
            rank_low=None if ranks["rank_low"] is None else int(ranks["rank_low"][i]),
            rank_high=None if ranks["rank_high"] is None else int(ranks["rank_high"][i]),
            votes=m.votes, provisional=m.votes < min_votes, public=public[m.name]))
    # Matrices are keyed by contender id and hold public contenders only.
    keep = [i for i, n in enumerate(names) if public[n]]
    index = {names[i]: k for k, i in enumerate(keep)}
    counts = np.zeros((len(keep), len(keep)), dtype=int)
    slot = {cid: index[name] for name, cid in ids.items() if name in index}
    uniq, inverse = np.unique(np.concatenate([chosen.a_id, chosen.b_id]), return_inverse=True)
    pos = np.array([slot.get(int(c), -1) for c in uniq], dtype=np.int64)[inverse]
    ia, ib = pos[:len(chosen)], pos[len(chosen):]
    both = (ia >= 0) & (ib >= 0)
    np.add.at(counts, (ia[both], ib[both]), 1)
    np.add.at(counts, (ib[both], ia[both]), 1)
    win = res.win_matrix[np.ix_(keep, keep)]
    # What people read as "who beat whom": observed win rates, each battle weighted by the
    # inverse of its pair's draw probability so adaptive pairing does not bias them.
    score_a = np.array([1.0, 0.0, 0.5, 0.5])[chosen.winner.astype(np.int64)]
    propensity = (chosen.propensity if chosen.propensity is not None
                  else np.full(len(chosen), np.nan))
    observed, _ = ipw_win_matrix(ia[both], ib[both], score_a[both], propensity[both], len(keep))
    extra = {
        "contender_ids": [ids[names[i]] for i in keep],
        "win_matrix": [[round(float(x), 6) for x in row] for row in win],
        "battle_counts": counts.tolist(),
        "observed_win_rate": [[None if np.isnan(x) else round(float(x), 6) for x in row]
                              for row in observed],
        "components": [[ids[n] for n in comp if public[n]] for comp in res.components],
        "iterations": res.iterations,
        "message": res.message,
        "description": spec.description,
        "category": spec.category,
    }
    style = {s.name: {"coef": s.coef, "ci_low": s.ci_low, "ci_high": s.ci_high}
             for s in res.style}
    return LeaderboardSnapshot(
        view=spec.key, title=spec.title, n_battles=res.n_battles,
        method={**res.method, **spec.meta},
        style=style, converged=res.converged, gradient_norm=res.gradient_norm, extra=extra,
        entries=entries)


def _fragility(chosen: Facts, spec: ViewSpec, res: ratings.LeaderboardResult, reg: float,
               options: integrity.IntegrityOptions) -> dict[str, Any]:
    ids = {name: cid for cid, (name, _) in chosen.contenders.items()}
    public = {name: is_public for name, is_public in chosen.contenders.values()}
    # a style-controlled view's removals are refitted with the features its fit controls for
    return view_fragility(chosen.names("a"), chosen.names("b"), chosen.winner_labels(),
                          chosen.weight, res, public, ids, reg=reg,
                          features=view_features(chosen, spec), top=options.fragility_top,
                          threshold=options.share_rank)


def publish(db: Session, *, n_bootstrap: int, seed: int, min_votes: int,
            reg: float = DEFAULT_REG, min_battles: int = MIN_VIEW_BATTLES,
            cutoff: datetime | None = None, now: datetime | None = None,
            votes_after_reveal: int = 0,
            integrity_options: integrity.IntegrityOptions | None = None) -> PublishReport:
    """Fit every view on the eligible battles and add one publication (never commits).

    With ``integrity_options`` the default board leaves out the votes of flagged voters (and
    of operator-confirmed ones, and votes that failed a gate); the publication records what
    each filter removed, and every view gets fragility counts (see :mod:`arena.integrity`).

    Raises
    ------
    PublishError
        A view's fit failed (the message names the view and the engine's diagnosis).
    """
    now = now or datetime.now(UTC)
    cutoff = cutoff or now
    settings = {"n_bootstrap": n_bootstrap, "seed": seed, "min_votes": min_votes, "reg": reg,
                "min_battles": min_battles, "flood_k": FLOOD_K, **FIT_OPTIONS,
                "engine_min_votes": 0, "code_version": code_version()}
    # "Anything new?" is answered from indexed aggregates of the facts (a high-water mark),
    # never by reading every battle.
    sync_facts(db, now=now)
    state = fact_state(db, cutoff=cutoff)
    state["contenders"] = [list(row) for row in db.execute(
        select(Contender.id, Contender.name, Contender.is_public).order_by(Contender.id))]
    if integrity_options is not None:
        # decisions and gate verdicts change what the board counts: part of the digest
        settings["integrity"] = integrity.options_settings(
            integrity_options, integrity.decisions_in_force(db), integrity.gate_state(db))
    digest = publication_digest(state, settings)
    latest = latest_publication(db)
    if latest is not None and latest.battles_hash == digest:
        return PublishReport(publication=latest, up_to_date=True, n_battles=latest.n_battles)

    battles = load_facts(db, cutoff=cutoff, flood_k=FLOOD_K)

    report = PublishReport(publication=Publication(), up_to_date=False, n_battles=len(battles))
    screening = None
    if integrity_options is not None:
        screening = integrity.screen(
            db, battles.battle_id, battles.a_id, battles.b_id, battles.winner_labels(),
            integrity.voters_of(db, battles.battle_id), integrity_options, reg=reg,
            arena=battles.arena)
        # shadow exclusion: the votes stay stored, the default board is fitted without them
        battles = battles.take(screening.keep)
        for f in screening.filters:
            if f.votes:
                report.warnings.append(f"filter {f.name}: left out {f.votes} votes of "
                                       f"{f.voters} voters")
    snapshots = []
    recent_reveals = (ledger.provisional_after_reveal(db, votes_after=votes_after_reveal)
                      if votes_after_reveal else set())
    for spec in views_for(battles):
        chosen = view_facts(battles, spec)
        reason = _skip_reason(spec, chosen, min_battles)
        if reason is not None:
            report.skipped[spec.key] = reason
            continue
        try:
            res = fit_chosen(chosen, spec, n_bootstrap=n_bootstrap, seed=seed, min_votes=0,
                             reg=reg)
        except ratings.RatingError as exc:
            raise PublishError(f"view {spec.key!r} ({len(chosen)} battles): "
                               f"{type(exc).__name__}: {exc}") from exc
        if not res.converged:  # the engine raises instead; kept as a guard on its contract
            raise PublishError(f"view {spec.key!r}: the fit did not converge ({res.message})")
        if len(res.components) > 1:
            report.warnings.append(
                f"view {spec.key!r}: {len(res.components)} groups of contenders never met; "
                "ratings across groups are tied together only by the L2 penalty")
        snapshot = build_snapshot(spec, chosen, res, min_votes=min_votes)
        if integrity_options is not None and integrity_options.fragility_top > 1:
            snapshot.extra = {**snapshot.extra, "fragility": _fragility(
                chosen, spec, res, reg, integrity_options)}
        snapshots.append(ranking.apply(snapshot, res, min_votes=min_votes,
                                       provisional_ids=recent_reveals))
        report.published.append(spec.key)

    publication = report.publication
    publication.created_at, publication.data_cutoff = now, cutoff
    publication.n_battles, publication.battles_hash = len(battles), digest
    publication.code_version, publication.settings = code_version(), settings
    publication.snapshots = snapshots
    publication.settings["skipped_views"] = dict(report.skipped)  # the page says why
    db.add(publication)
    db.flush()
    if screening is not None and integrity_options is not None:
        integrity.record(db, publication, screening)
        alerts = gate_alerts(db, now=now, change=integrity_options.gate_alert)
        report.warnings.extend(alerts)
        publication.settings = {**settings, "filters": integrity.filter_summary(screening),
                                "integrity_summary": screening.summary, "gate_alerts": alerts}
        db.flush()
    log.info("published %d views over %d battles (skipped: %s)", len(snapshots),
             len(battles), ", ".join(report.skipped) or "none")
    return report
