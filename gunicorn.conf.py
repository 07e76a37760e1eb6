"""Gunicorn settings: gevent workers, so waiting answer streams cost memory, not threads.

An answer stream (server-sent events) lasts seconds to minutes and mostly waits on the model
endpoints. A gthread worker spends a thread per open stream and per slow-header
connection, so about a hundred hung streams or 64 slowloris connections starve its pages;
a gevent worker spends a greenlet and ~150 KiB (measured side by side in
``benchmarks/web/stream_capacity.py``; numbers in ``benchmarks/web/README.md``). Each worker
admits at most ``ARENA_MAX_STREAMS_PER_WORKER`` streams (default 1000) and answers 503 +
Retry-After beyond.

psycopg 3 cooperates with gevent by itself: it checks at import whether ``select`` is
monkey-patched and then waits through the patched module instead of its C wait loop.
The gevent worker patches before it loads the app, so never set ``preload_app`` here.

ARENA_WORKER_CLASS=gthread (with ARENA_THREADS) restores the threaded workers.
"""

import multiprocessing
import os

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
accesslog = "-"
# Behind a load balancer, trust its X-Forwarded-For so rate limits see the client address.
forwarded_allow_ips = os.environ.get("ARENA_FORWARDED_ALLOW_IPS", "127.0.0.1")
