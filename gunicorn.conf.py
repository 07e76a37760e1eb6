"""Gunicorn settings: threaded workers so long answer streams don't starve other requests.

Each answer stream (server-sent events) holds one thread for its whole duration, so the sync
worker would serve one person at a time. ``gthread`` gives every worker a pool of threads:
capacity ≈ workers × threads concurrent streams. Tune with ARENA_WORKERS / ARENA_THREADS.
"""

import multiprocessing
import os

bind = os.environ.get("ARENA_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("ARENA_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("ARENA_THREADS", 32))
# Worker heartbeat timeout; with gthread it does not cut long-lived streams short.
timeout = int(os.environ.get("ARENA_WORKER_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# Behind a load balancer, trust its X-Forwarded-For so rate limits see the client address.
forwarded_allow_ips = os.environ.get("ARENA_FORWARDED_ALLOW_IPS", "127.0.0.1")
