"""Gunicorn settings: threaded workers so long answer streams don't starve other requests.

Each answer stream (server-sent events) holds one thread for its whole duration, so the sync
worker would serve one person at a time. ``gthread`` gives every worker a pool of threads:
capacity ≈ workers × threads concurrent streams. Tune with ARENA_WORKERS / ARENA_THREADS.
"""

import multiprocessing
import os
import sys

bind = os.environ.get("ARENA_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("ARENA_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("ARENA_THREADS", 32))
# Worker heartbeat timeout; with gthread it does not cut long-lived streams short.
timeout = int(os.environ.get("ARENA_WORKER_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5

# --- Proxies and privacy -------------------------------------------------------------------
# The app, not gunicorn, decides what a proxy may tell it (ARENA_PROXY_HOPS and
# ARENA_TRUSTED_PROXIES, see arena/security/proxy.py): gunicorn never takes the client address
# from X-Forwarded-For, and letting it also read X-Forwarded-Proto on its own would give two
# answers to "is this HTTPS?". So gunicorn trusts no scheme header from anybody.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = ""
# No client address, referrer or user agent in the access log; the error log has addresses
# redacted (arena/security/logs.py).
accesslog = "-"
access_log_format = '%(t)s %(p)s "%(r)s" %(s)s %(b)s %(M)sms'
logger_class = "arena.security.logs.PrivateLogger"


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Refuse per-process rate-limit counters when several workers share the traffic."""
    from arena.limits import unshared_storage_problem

    problem = unshared_storage_problem(worker.wsgi.config, worker.cfg.workers)
    if problem:
        worker.log.error("%s", problem)
        sys.exit(3)  # gunicorn's WORKER_BOOT_ERROR: the arbiter stops instead of respawning.
