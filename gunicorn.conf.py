"""Gunicorn settings for Jigai (`gunicorn wsgi:app` picks this file up from the repo root).

Workers are processes, each with its own database pool; everything they share lives in the
database (and Redis for rate limits when REDIS_URL is set), so any number of them, on any
number of hosts, serve the same users. Environment overrides: JIGAI_BIND, WEB_CONCURRENCY,
JIGAI_THREADS, JIGAI_TIMEOUT.
"""

import multiprocessing
import os

bind = os.environ.get("JIGAI_BIND", "127.0.0.1:8000")
# A worker per core, two threads each: while one thread waits on the database the other
# computes. On the benchmark's two cores this serves as many transitions per second as
# 2 × cores + 1 single-threaded workers, in fewer processes (bench/RESULTS.md).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("JIGAI_THREADS", "2"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("JIGAI_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Bound each worker's life so that a slow leak cannot grow without limit; jitter staggers
# the restarts.
max_requests = int(os.environ.get("JIGAI_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("JIGAI_ACCESS_LOG")  # "-" for stdout; off by default
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Once the app is loaded, move everything it allocated (modules, mappers, compiled
    templates and SQL) out of the garbage collector's view, and collect the young
    generation less often: full collections then stop scanning hundreds of thousands of
    long-lived objects in the middle of a request."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
