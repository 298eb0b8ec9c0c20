"""Prometheus metrics of the service (``GET /metrics``), through ``prometheus_client``.

Each app has its own registry (tests build several apps in one process). Counters of the
web process (requests, cache hits, jobs submitted) are ordinary client metrics; the job
and worker gauges are read from the job store and the runner when ``/metrics`` is scraped,
by :class:`JobStoreCollector`, so they count the jobs of every process that shares the
database.

Metric names: ``lps_http_requests_total``, ``lps_http_request_duration_seconds``,
``lps_jobs``, ``lps_jobs_submitted_total``, ``lps_paths_tracked_total``,
``lps_cache_hits_total``, ``lps_cache_entries``, ``lps_database_bytes``, ``lps_workers``,
``lps_worker_replacements_total``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Summary, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from api.jobs.runner import Runner
from api.jobs.store import JobStore

#: the text format :func:`generate_latest` writes
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class JobStoreCollector(Collector):
    """Job, cache and worker figures, read at scrape time.

    Parameters
    ----------
    source : callable
        Returns ``(store, runner)`` of the running app, either None while starting.
    workers : int
        Configured solver processes.
    """

    def __init__(self, source: Callable[[], tuple[JobStore | None, Runner | None]], workers: int) -> None:
        self.source, self.workers = source, workers

    def collect(self) -> Iterator[Metric]:
        store, runner = self.source()
        if store is not None:
            jobs = GaugeMetricFamily("lps_jobs", "Jobs in the database by state.", labels=["state"])
            for status, n in store.counts_by_status().items():
                jobs.add_metric([status], n)
            yield jobs
            yield CounterMetricFamily("lps_paths_tracked_total", "Homotopy paths tracked by finished jobs.",
                                      value=store.paths_tracked())
            yield GaugeMetricFamily("lps_cache_entries", "Results in the cache.", value=store.cache_size())
            yield GaugeMetricFamily("lps_database_bytes", "Size of the SQLite database on disk (with its WAL).",
                                    value=store.size_bytes())
        counts = runner.counts() if runner is not None else {}
        workers = GaugeMetricFamily("lps_workers", "Solver processes.", labels=["state"])
        workers.add_metric(["configured"], self.workers)
        for state in ("alive", "ready", "busy"):
            workers.add_metric([state], counts.get(state, 0))
        yield workers
        yield CounterMetricFamily("lps_worker_replacements_total",
                                  "Worker processes replaced (crash, cancel, timeout).",
                                  value=runner.workers_replaced if runner is not None else 0)


class ServiceMetrics:
    """The app's registry and its in-process counters.

    Parameters
    ----------
    source, workers
        For the :class:`JobStoreCollector` registered with them.
    """

    def __init__(self, source: Callable[[], tuple[JobStore | None, Runner | None]], workers: int) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("lps_http_requests", "HTTP requests by method, route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.duration = Summary("lps_http_request_duration_seconds", "Time spent answering requests, by route.",
                                ["route"], registry=self.registry)
        self.jobs_submitted = Counter("lps_jobs_submitted", "Jobs created by this process.", registry=self.registry)
        self.cache_hits = Counter("lps_cache_hits", "Requests answered from the result cache by this process.",
                                  registry=self.registry)
        self.registry.register(JobStoreCollector(source, workers))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(route).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text of every metric (see :data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


def app_source(state: Any) -> Callable[[], tuple[JobStore | None, Runner | None]]:
    """``(store, runner)`` of an app's ``state``, read when called (set by the lifespan)."""
    return lambda: (getattr(state, "store", None), getattr(state, "runner", None))
