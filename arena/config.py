"""Layered configuration: defaults here → ``instance/config.py`` → ``ARENA_*`` env → test mapping.

Read once by :func:`load_config` inside the app factory and validated there, never at import
time. Deeper code receives plain values as arguments.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arena.errors import ConfigError

DEFAULTS: dict[str, Any] = {
    # SQLAlchemy URL; None means SQLite (WAL) at <instance>/arena.sqlite3.
    "DATABASE_URL": None,
    # Connections the database grants this whole deployment (PostgreSQL's max_connections,
    # default 100, minus its superuser reserve and other clients). Each web process's pool
    # is sized from it so that all of them together can never ask for more; see
    # arena.db.pool_size and README "Deployment".
    "DB_MAX_CONNECTIONS": 90,
    # Of DB_MAX_CONNECTIONS, kept free for jobs (publish, releases, reap, migrations) and psql.
    "DB_RESERVED_CONNECTIONS": 6,
    # Web hosts sharing the database, and gunicorn workers and threads per host; gunicorn.conf.py
    # reads the same ARENA_WORKERS / ARENA_THREADS. WORKERS None: gunicorn's default here,
    # min(4, 2 x CPUs).
    "HOSTS": 1,
    "WORKERS": None,
    "THREADS": 32,
    # Signs the voter cookie and keys IP hashes. None: a random key persisted in the instance
    # folder, so restarts keep sessions. Set it explicitly when running several hosts.
    "SECRET_KEY": None,
    # YAML file declaring contenders; synced into the DB by `flask contenders sync`.
    "CONTENDERS_FILE": None,
    # Longest prompt accepted, in characters.
    "MAX_PROMPT_CHARS": 8000,
    # Most turns a person may add to one battle before voting.
    "MAX_TURNS": 6,
    # Flask-Limiter storage. None: a SQLite file in the instance folder, shared by every worker
    # process of one host. "redis://host:6379" when several hosts serve the site. "memory://"
    # counts per process, so it is refused under gunicorn with more than one worker.
    "RATELIMIT_STORAGE_URI": None,
    # Limit on starting battles and turns, per IP hash.
    "RATELIMIT_BATTLES": "30 per minute;500 per day",
    # Limit on votes, per IP hash.
    "RATELIMIT_VOTES": "60 per minute",
    # Turn rate limiting off (tests of other behaviour, trusted internal deployments).
    "RATELIMIT_ENABLED": True,
    # Failures in a row after which a contender leaves sampling for ENDPOINT_COOLDOWN_S.
    "ENDPOINT_FAILURE_THRESHOLD": 3,
    # Seconds an unhealthy contender stays out of sampling before it is tried again.
    "ENDPOINT_COOLDOWN_S": 300,
    # Answer streams one worker process holds open at once; past it a new stream gets 503 +
    # Retry-After at once (0: no bound). See the README's Deployment section for the capacity.
    "MAX_STREAMS_PER_WORKER": 1000,
    # Contenders with fewer votes than this are marked provisional on the leaderboard.
    "LEADERBOARD_MIN_VOTES": 30,
    # Bootstrap rounds for published intervals.
    "LEADERBOARD_BOOTSTRAP": 100,
    # Seed for published bootstraps, so a snapshot can be recomputed exactly.
    "LEADERBOARD_SEED": 42,
    # L2 penalty of published fits (the engine's `reg`); None: FastChat's (ratings.FASTCHAT_REG),
    # which keeps never-beaten newcomers and contender families that never met publishable.
    # 0 gives exact maximum likelihood and refuses disconnected comparison graphs.
    "LEADERBOARD_REG": None,
    # Milliseconds a web process trusts its last look at "which snapshot is latest, and did any
    # contender change" before asking the database again; within it a leaderboard request
    # (200 or 304) touches no database. Responses already say max-age=60. 0: ask every time.
    "LEADERBOARD_CACHE_MS": 2000,
    # View a leaderboard request without ?view= gets (page and JSON API): "overall", or e.g.
    # "style" as LMArena does (it made style control its default), or any published view key.
    "LEADERBOARD_DEFAULT_VIEW": "overall",
    # Directory where data releases are written.
    "RELEASES_DIR": None,
    # Length of one release window, in days.
    "RELEASE_WINDOW_DAYS": 30,
    # Days after a window ends before it may be released.
    "RELEASE_EMBARGO_DAYS": 14,
    # Hugging Face Hub dataset repo id for `releases cut --push`, e.g. "my-org/arena-votes".
    "RELEASE_HUB_REPO": None,
    # Keep one pseudonym per voter across releases (off: pseudonyms are keyed per release).
    "RELEASE_LINKABLE_PSEUDONYMS": False,
    # Pair sampling policy: uniform, weighted (product of contender weights), boost-new
    # (LMArena's: 5x under 3,000 votes, 3x for the top ten) or adaptive (variance-targeted,
    # from the latest snapshot). Every change is a public ledger entry.
    "SAMPLING_POLICY": "weighted",
    # Share of draws spread uniformly over all allowed pairs, whatever the policy.
    "SAMPLING_EXPLORATION": 0.05,
    # No contender takes part in more than this share of the battles of the last hour...
    "SAMPLING_MAX_SHARE": 0.35,
    # ...once the last hour has at least this many battles (a quiet arena is not capped).
    "SAMPLING_CAP_MIN_BATTLES": 20,
    # Milliseconds a web process reuses its read of the active contenders (and their health)
    # for drawing pairs; its own writes to them (a failing endpoint) take effect at once.
    "SAMPLING_POOL_CACHE_MS": 1000,
    # Private tests: an unreleased contender is revealed after this many votes...
    "PRIVATE_TEST_REVEAL_VOTES": 3000,
    # ...or this many days, whichever comes first, whatever its score.
    "PRIVATE_TEST_REVEAL_DAYS": 30,
    # A revealed contender stays provisional until this many votes after its reveal.
    "PRIVATE_TEST_VOTES_AFTER_REVEAL": 1000,
    # Most unreleased contenders one organisation may test at once.
    "PRIVATE_TEST_MAX_PER_ORG": 3,
    # Where the site's code can be installed from, e.g. "git+https://github.com/org/arena"
    # (`pip install <it>` gives `python -m ratings`); shown in /data's reproduce recipe.
    "SOURCE_URL": None,
    # Public base URL of the site (for links in dataset cards); optional. On https it also marks
    # the site as served over HTTPS (Secure cookie, HSTS) when the proxy does not say so.
    "PUBLIC_URL": None,
    # Reverse proxies in front of the app that append to X-Forwarded-For / set
    # X-Forwarded-Proto (0: none, the app faces clients directly and ignores those headers).
    "PROXY_HOPS": 0,
    # Addresses/networks the nearest proxy connects from; forwarded headers from any other peer
    # are ignored. Comma-separated, e.g. "127.0.0.1,::1" or "10.0.0.0/8".
    "TRUSTED_PROXIES": "127.0.0.1,::1",
    # Secure flag of the session cookie: "auto" (when the request is HTTPS, directly or per a
    # trusted proxy, or PUBLIC_URL is https), or true / false.
    "SESSION_COOKIE_SECURE": "auto",
    # Strict-Transport-Security max-age in seconds, sent on HTTPS responses only (0: never).
    "HSTS_MAX_AGE": 31536000,
    # Largest request body in bytes; larger ones get 413 (a prompt is at most ~32 KB).
    "MAX_CONTENT_LENGTH": 1048576,
    # --- integrity (see README "Integrity") ---
    # Test every voter at publish and leave flagged voters' votes out of the default board
    # (they stay stored; `flask integrity flagged` lists them, clear/confirm decides).
    "INTEGRITY_SCREEN": True,
    # Error rate of the multiplicity correction over all per-voter tests.
    "INTEGRITY_ALPHA": 0.01,
    # "bh" (Benjamini-Hochberg, false discovery rate) or "holm" (family-wise error rate).
    "INTEGRITY_CORRECTION": "bh",
    # Voters with fewer votes are not tested (no test can tell a handful of votes apart).
    "INTEGRITY_MIN_VOTES": 5,
    # Fewest battles of one voter with one contender for a favouritism test.
    "INTEGRITY_MIN_PAIR": 3,
    # Adjacent pairs among the first N of each view get a fragility count (0: off).
    "INTEGRITY_FRAGILITY_TOP": 20,
    # Pairs that swap when fewer than this fraction of their votes is removed share a rank.
    "INTEGRITY_SHARE_RANK": 0.001,
    # A gate whose pass rate moves by this much (day against week) is reported at publish.
    "GATE_ALERT_CHANGE": 0.2,
    # Daily votes counted per pseudonym (and per signed-in account); 0: no cap. Votes over the
    # cap are kept, marked failed, and left out of the default board.
    "GATE_DAILY_CAP": 0,
    # Proof-of-work difficulty in leading zero bits of SHA-256 (static/gates.js solves it);
    # 0: off. ~20 bits costs a browser about a second.
    "GATE_POW_BITS": 0,
    # Sign-in with Hugging Face (OAuth 2 / OpenID Connect) before voting counts; off by default.
    "GATE_HF_OAUTH": False,
    # OAuth client of the Space/app, and the provider's base URL (a stand-in in tests).
    "HF_OAUTH_CLIENT_ID": None,
    "HF_OAUTH_CLIENT_SECRET": None,
    "HF_OAUTH_BASE_URL": "https://huggingface.co",
    # Seconds to wait for the identity provider before the gate counts as unavailable.
    "GATE_TIMEOUT_S": 5.0,
    # Directory of the content-addressed media store (image/audio answers); None means
    # <instance>/media.
    "MEDIA_DIR": None,
    # Seconds each image must be on screen / each clip played before the vote unlocks.
    "MEDIA_VIEW_GATE_S": 3,
    "MEDIA_LISTEN_GATE_S": 5,
    # Largest media answer accepted from an endpoint (bytes), also for URLs fetched server-side.
    "MEDIA_MAX_BYTES": 32 * 1024 * 1024,
}

_INT_KEYS = {
    "DB_MAX_CONNECTIONS", "DB_RESERVED_CONNECTIONS", "HOSTS", "WORKERS", "THREADS",
    "MAX_PROMPT_CHARS", "MAX_TURNS", "ENDPOINT_FAILURE_THRESHOLD", "ENDPOINT_COOLDOWN_S",
    "MAX_STREAMS_PER_WORKER",
    "LEADERBOARD_MIN_VOTES", "LEADERBOARD_BOOTSTRAP", "LEADERBOARD_SEED", "LEADERBOARD_CACHE_MS",
    "RELEASE_WINDOW_DAYS", "RELEASE_EMBARGO_DAYS", "SAMPLING_CAP_MIN_BATTLES",
    "SAMPLING_POOL_CACHE_MS", "PRIVATE_TEST_REVEAL_VOTES", "PRIVATE_TEST_REVEAL_DAYS",
    "PRIVATE_TEST_VOTES_AFTER_REVEAL",
    "PRIVATE_TEST_MAX_PER_ORG", "INTEGRITY_MIN_VOTES", "INTEGRITY_MIN_PAIR",
    "INTEGRITY_FRAGILITY_TOP", "GATE_DAILY_CAP", "GATE_POW_BITS",
    "PROXY_HOPS", "HSTS_MAX_AGE", "MAX_CONTENT_LENGTH",
    "MEDIA_VIEW_GATE_S", "MEDIA_LISTEN_GATE_S", "MEDIA_MAX_BYTES",
}
# shares and probabilities, in [0, 1]
_FLOAT_KEYS = {"SAMPLING_EXPLORATION", "SAMPLING_MAX_SHARE", "INTEGRITY_ALPHA",
               "INTEGRITY_SHARE_RANK", "GATE_ALERT_CHANGE"}
_SECONDS_KEYS = {"GATE_TIMEOUT_S"}
_BOOL_KEYS = {"RATELIMIT_ENABLED", "RELEASE_LINKABLE_PSEUDONYMS", "INTEGRITY_SCREEN",
              "GATE_HF_OAUTH"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(key: str, value: Any) -> Any:
    if key in _INT_KEYS:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"Config {key} must be an integer, got {value!r}.") from None
        if number < 0:
            raise ConfigError(f"Config {key} must not be negative, got {number}.")
        return number
    if key in _FLOAT_KEYS:
        try:
            share = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"Config {key} must be a number, got {value!r}.") from None
        if not 0 <= share <= 1:
            raise ConfigError(f"Config {key} must be between 0 and 1, got {share}.")
        return share
    if key == "SESSION_COOKIE_SECURE":
        if isinstance(value, bool) or value == "auto":
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE | {"auto"}:
            lowered = value.strip().lower()
            return "auto" if lowered == "auto" else lowered in _TRUE
        raise ConfigError(f"Config {key} must be auto, true or false, got {value!r}.")
    if key in _SECONDS_KEYS:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"Config {key} must be a number, got {value!r}.") from None
        if not seconds > 0:
            raise ConfigError(f"Config {key} must be positive, got {value!r}.")
        return seconds
    if key in _BOOL_KEYS and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"Config {key} must be true or false, got {value!r}.")
    return value


def _persistent_secret(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(instance_path: str, overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the validated configuration for one app.

    Layers, later wins: :data:`DEFAULTS`, ``<instance>/config.py`` (upper-case names),
    ``ARENA_<KEY>`` environment variables, then ``overrides`` (the test mapping).
    """
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    config = dict(DEFAULTS)

    file = instance / "config.py"
    if file.exists():
        namespace: dict[str, Any] = {}
        exec(compile(file.read_text(), str(file), "exec"), namespace)  # noqa: S102 - operator's file
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    for key in DEFAULTS:
        if f"ARENA_{key}" in env:
            config[key] = env[f"ARENA_{key}"]
    if overrides:
        config.update(overrides)

    unknown = sorted(k for k in config if k not in DEFAULTS and k.isupper()
                     and not k.startswith(("TESTING", "SERVER_NAME", "PREFERRED_URL")))
    if unknown:
        raise ConfigError(f"Unknown config keys: {', '.join(unknown)}.")
    if config["WORKERS"] is None:
        config["WORKERS"] = min(4, (os.cpu_count() or 1) * 2)
    for key in list(config):
        config[key] = _coerce(key, config[key])

    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'arena.sqlite3'}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _persistent_secret(instance)
    if len(str(config["SECRET_KEY"])) < 16:
        raise ConfigError("Config SECRET_KEY must be at least 16 characters.")
    if not config["RELEASES_DIR"]:
        config["RELEASES_DIR"] = str(instance / "releases")
    if not 0 < config["INTEGRITY_ALPHA"] < 1:
        raise ConfigError("Config INTEGRITY_ALPHA must be between 0 and 1.")
    if config["INTEGRITY_CORRECTION"] not in ("bh", "holm"):
        raise ConfigError("Config INTEGRITY_CORRECTION must be 'bh' or 'holm'.")
    if not config["MEDIA_DIR"]:
        config["MEDIA_DIR"] = str(instance / "media")
    from arena.sampling.policies import POLICIES

    if config["SAMPLING_POLICY"] not in POLICIES:
        raise ConfigError(f"Config SAMPLING_POLICY must be one of {', '.join(POLICIES)}, "
                          f"got {config['SAMPLING_POLICY']!r}.")
    if config["SAMPLING_MAX_SHARE"] <= 0:
        raise ConfigError("Config SAMPLING_MAX_SHARE must be above 0.")
    if isinstance(config["TRUSTED_PROXIES"], str | list | tuple):
        from arena.security.proxy import parse_networks
        try:
            parse_networks(config["TRUSTED_PROXIES"])
        except ValueError as exc:
            raise ConfigError(f"Config TRUSTED_PROXIES: {exc}.") from None
    else:
        raise ConfigError("Config TRUSTED_PROXIES must be a comma-separated list of networks.")
    if config["MAX_CONTENT_LENGTH"] < 1:
        raise ConfigError("Config MAX_CONTENT_LENGTH must be at least 1.")
    if config["MAX_PROMPT_CHARS"] < 1 or config["MAX_TURNS"] < 1:
        raise ConfigError("Config MAX_PROMPT_CHARS and MAX_TURNS must be at least 1.")
    return config
