"""Gunicorn settings: gevent workers, so waiting answer streams cost memory, not threads.

An answer stream (server-sent events) lasts seconds to minutes and mostly waits on the model
endpoints. A gthread worker spends a thread per open stream and per slow-header
connection, so about a hundred hung streams or 64 slowloris connections starve its pages;
a gevent worker spends a greenlet and ~130 KiB (measured side by side in
``benchmarks/web/stream_capacity.py``; numbers in ``benchmarks/web/README.md``). Each worker
admits at most ``ARENA_MAX_STREAMS_PER_WORKER`` streams (default 1000) and answers 503 +
Retry-After beyond.

psycopg 3 cooperates with gevent by itself: it checks at import whether ``select`` is
monkey-patched and then waits through the patched module instead of its C wait loop.
The gevent worker patches before it loads the app, so never set ``preload_app`` here.

ARENA_WORKER_CLASS=gthread (with ARENA_THREADS) restores the threaded workers.
"""

import hashlib
import multiprocessing
import os
import sys

bind = os.environ.get("ARENA_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("ARENA_WORKER_CLASS", "gevent")
# One process per core: a gevent worker is single-threaded and uses one core fully.
workers = int(os.environ.get("ARENA_WORKERS", multiprocessing.cpu_count()))
# gthread only: threads per worker (each stream holds one for its duration).
threads = int(os.environ.get("ARENA_THREADS", 32))
# gevent only: open connections per worker; above the stream bound so pages still get in.
worker_connections = int(os.environ.get("ARENA_WORKER_CONNECTIONS", 2000))
# Worker heartbeat timeout; it does not cut long-lived streams short.
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


# --- Control socket (gunicornc) -----------------------------------------------------------
# gunicorn >= 25.1 opens a control socket, by default at one path per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl): a second instance on the host
# (parallel tests, a benchmark, a blue-green deploy) unlinks and replaces the first one's socket,
# and whichever stops first deletes it for both. So each instance gets its own, named after
# the address it listens on (known only once the sockets are bound, so it is set in
# when_ready, before gunicorn opens the control socket after spawning the workers):
# <dir>/arena-127.0.0.1-8000.ctl, with <dir> gunicorn's own default folder. ARENA_CONTROL_SOCKET
# sets a path instead, or "off" disables it; --control-socket on the command line also wins.
control_socket_setting = os.environ.get("ARENA_CONTROL_SOCKET", "")
control_socket_disable = control_socket_setting.lower() in ("off", "0", "false", "no")
if control_socket_setting and not control_socket_disable:
    control_socket = control_socket_setting


def instance_control_socket(default_path, listeners, pid):  # type: ignore[no-untyped-def]
    """A control socket path of this instance's own, beside gunicorn's default one."""
    folder = os.path.dirname(default_path)
    names = []
    for listener in listeners:
        address = listener.sock.getsockname()
        if isinstance(address, tuple):
            names.append(f"{address[0]}-{address[1]}".replace(":", "_"))
        else:  # a unix socket path (or bytes): too long for a file name, so hashed
            names.append(hashlib.sha256(os.fsencode(address)).hexdigest()[:16])
    return os.path.join(folder, f"arena-{'+'.join(sorted(names)) or f'pid{pid}'}.ctl")


def when_ready(server):  # type: ignore[no-untyped-def]
    settings = server.cfg.settings
    if "control_socket" not in settings or server.cfg.control_socket_disable:
        return  # an older gunicorn without a control socket, or disabled
    if server.cfg.control_socket != settings["control_socket"].default:
        return  # chosen by ARENA_CONTROL_SOCKET or --control-socket
    path = instance_control_socket(server.cfg.control_socket, server.LISTENERS, server.pid)
    server.cfg.set("control_socket", path)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Refuse per-process rate-limit counters when several workers share the traffic; load the
    inference client."""
    from arena.limits import unshared_storage_problem

    problem = unshared_storage_problem(worker.wsgi.config, worker.cfg.workers)
    if problem:
        worker.log.error("%s", problem)
        sys.exit(3)  # gunicorn's WORKER_BOOT_ERROR: the arbiter stops instead of respawning.
    # The app imports the inference client lazily (commands never stream); a worker loads it
    # now rather than in its first battle, which would stall every other stream for ~0.3 s.
    from huggingface_hub import InferenceClient  # noqa: F401
