"""Scheduled runs: the deployments declared in `prefect.yaml`, served by `jevons serve`.

`prefect.yaml` is the one definition of the deployments (names, entrypoints, descriptions, tags, schedules,
default parameters): `prefect deploy --all` registers them onto a process work pool (the path to workers on
other machines), and `build_deployments` reads the same file for `jevons serve` (Prefect's `serve`: no work
pool needed; runs until stopped), overriding only what the user passed (`--cron`, `--timezone`,
`--warehouse` and the source options of the registry, e.g. `--prices-from`). Overlapping runs never both
write: the warehouse run lock makes the second stop with "another jevons run (pid N) is writing" (and runs are
idempotent, so a late or repeated run is harmless).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from prefect import Flow, flow, serve
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment

from warehouse.errors import JevonsInputError

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


def validate_schedule(cron: str, timezone: str) -> CronSchedule:
    """A CronSchedule, or a JevonsInputError naming the bad cron string or time zone (exit code 2)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise JevonsInputError(
            f"--timezone: {timezone!r} is not an IANA time zone (e.g. UTC, America/New_York)"
        ) from None
    try:
        return CronSchedule(cron=cron, timezone=timezone)
    except ValueError:
        raise JevonsInputError(
            f"--cron: {cron!r} is not a valid cron string (five fields: minute hour day month weekday, "
            "e.g. '30 6 * * *')"
        ) from None


@flow(name="backfill", flow_run_name="backfill-{start}")
def backfill_flow(
    start: date,
    end: date | None = None,
    tickers: list[str] | None = None,
    warehouse: str | None = None,
    chunk_size: int = 100,
) -> dict[str, object]:
    """Live Yahoo prices for [start, end], chunk by chunk (see `jevons backfill`); returns the summary."""
    from flows.backfill import backfill

    return backfill(start, end, tickers, warehouse, chunk_size).to_json()


def declared_deployments(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The `deployments:` entries of prefect.yaml, as written."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(document["deployments"])


def flow_at(entrypoint: str) -> Flow[..., Any]:
    """The flow object an entrypoint (`flows/daily.py:daily`, relative to the project root) names."""
    file, _, name = entrypoint.partition(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    found = getattr(module, name)
    if not isinstance(found, Flow):
        raise TypeError(f"{entrypoint} is not a Prefect flow")
    return found


def build_deployments(
    cron: str | None = None,
    timezone: str | None = None,
    options: Mapping[str, str | None] | None = None,
    warehouse: str | None = None,
) -> list[RunnerDeployment]:
    """prefect.yaml's deployments as runner deployments for `serve`.

    `cron` / `timezone` replace the declared schedules' values; `options` (source option name → value, from
    flows.sources.registry) and `warehouse` become parameters of every deployment whose flow takes them.
    """
    built = []
    given = {k: v for k, v in {**(options or {}), "warehouse": warehouse}.items() if v}
    for entry in declared_deployments():
        target = flow_at(entry["entrypoint"])
        accepted = set(target.parameters.properties)
        schedules = [
            validate_schedule(cron or s["cron"], timezone or s.get("timezone", "UTC"))
            for s in entry.get("schedules") or []
        ]
        parameters = {**(entry.get("parameters") or {}), **{k: v for k, v in given.items() if k in accepted}}
        deployment = target.to_deployment(
            name=entry["name"],
            schedules=schedules or None,
            parameters=parameters,
            description=entry.get("description"),
            tags=entry.get("tags") or [],
        )
        # to_deployment is sync-compatible: called from sync code it returns the deployment, not a coroutine
        assert isinstance(deployment, RunnerDeployment)
        built.append(deployment)
    return built


def serve_deployments(
    cron: str | None = None,
    timezone: str | None = None,
    options: Mapping[str, str | None] | None = None,
    warehouse: str | None = None,
) -> None:
    """Serve every deployment until interrupted."""
    serve(*build_deployments(cron, timezone, options, warehouse))


if __name__ == "__main__":
    serve_deployments()
