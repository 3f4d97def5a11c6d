"""A small closed-loop HTTP load generator: N clients, each with a keep-alive connection,
each running its own script of requests until time is up.

Threads suffice: a client spends its time waiting on the server, and the same generator
drives every endpoint compared in a run, so its own cost cancels out of the ratios.
"""

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Client:
    host: str
    port: int
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | str | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        """Send a request (a dict body as JSON, a str as a form) keeping the cookies set."""
        all_headers = {**self.headers, **(headers or {})}
        payload = None
        if isinstance(body, dict):
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            payload = body.encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(body, bytes):  # its Content-Type given in `headers`
            payload = body
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):  # a server may close an idle keep-alive connection
            try:
                self.connection.request(method, path, body=payload, headers=all_headers)
                response = self.connection.getresponse()
                for header in response.headers.get_all("Set-Cookie") or ():
                    name, _sep, rest = header.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        status, raw = self.request(method, path, body)
        return status, (json.loads(raw) if raw else {})


@dataclass
class Outcome:
    done: int
    seconds: float
    latencies: list[float]
    errors: dict[str, int]
    percentiles: dict[float, float] | None = None  # ms, when the generator reports them
    cpu: dict[str, float] | None = None  # CPU seconds by process group, when metered

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    def cpu_ms(self, group: str) -> float:
        """CPU milliseconds the process group spent per unit of work done."""
        if not self.cpu or not self.done:
            return float("nan")
        return self.cpu[group] * 1000 / self.done

    def percentile(self, p: float) -> float:
        if self.percentiles is not None:
            return self.percentiles[p]
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def run_clients(scripts: list[Callable[[], str | None]], seconds: float) -> Outcome:
    """Run each script (one per client) in a loop for `seconds`; a script performs one unit
    of work and returns None on success or an error label. Counts units per second."""
    stop = time.perf_counter() + seconds
    start_gate = threading.Barrier(len(scripts) + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[str, int] = {}

    def worker(script):
        mine, failed = [], {}
        start_gate.wait()
        while time.perf_counter() < stop:
            began = time.perf_counter()
            error = script()
            if error:
                failed[error] = failed.get(error, 0) + 1
            else:
                mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)
            for key, n in failed.items():
                errors[key] = errors.get(key, 0) + n

    threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in scripts]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return Outcome(len(latencies), time.perf_counter() - began, latencies, errors)


def sample_latencies(client: Client | None, paths: list) -> tuple[float, float]:
    """One request after another, by `client` or each path's own ((client, path) pairs):
    (p50, p95) in milliseconds."""
    timings = []
    for path in paths:
        by, path = (client, path) if client is not None else path
        began = time.perf_counter()
        status, _body = by.request("GET", path)
        timings.append((time.perf_counter() - began) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    timings.sort()
    return (statistics.median(timings),
            timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))])
