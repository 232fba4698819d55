from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import fastcors
from fastcors import CORSMiddleware

fastcors.count_requests()  # counting on, in every fastcors middleware of this process


def observe(options: CallbackOptions) -> Iterable[Observation]:
    # Read when the SDK collects: the counts so far, nothing per request.
    for (kind, outcome, reason), count in fastcors.request_counts().items():
        yield Observation(count, {"kind": kind, "outcome": outcome, "reason": reason})


reader = InMemoryMetricReader()  # your exporter's reader in production
meter = MeterProvider(metric_readers=[reader]).get_meter("fastcors")
meter.create_observable_counter("fastcors.requests", callbacks=[observe])

api = FastAPI()
app = CORSMiddleware(api, allow_origins=["https://app.example.com"])
TestClient(app).get("/", headers={"Origin": "https://evil.example"})

[metric] = reader.get_metrics_data().resource_metrics[0].scope_metrics[0].metrics
points = {tuple(point.attributes.values()): point.value for point in metric.data.data_points}
assert points[("simple", "denied", "origin")] == 1
