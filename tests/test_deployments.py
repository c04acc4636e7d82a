"""Deployments and Prefect settings are each defined once: `jevons serve` builds exactly prefect.yaml's
deployments, and the CLI's Prefect defaults are prefect.toml's values."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import yaml

from flows import cli
from flows.deployments import PREFECT_YAML, build_deployments
from flows.sources import registry
from warehouse.errors import JevonsInputError

PROJECT = Path(__file__).resolve().parent.parent


def test_serve_builds_the_deployments_of_prefect_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT)  # entrypoints are relative to the project root, as in prefect.yaml
    declared = yaml.safe_load(PREFECT_YAML.read_text())["deployments"]
    built = {d.name: d for d in build_deployments()}
    assert list(built) == [d["name"] for d in declared]
    for entry in declared:
        got = built[entry["name"]]
        assert got.entrypoint == entry["entrypoint"]
        assert got.description == entry["description"]
        assert got.tags == entry["tags"]
        assert got.parameters == (entry.get("parameters") or {})
        schedules = [(s.schedule.cron, s.schedule.timezone, s.active) for s in got.schedules]  # type: ignore[union-attr]
        assert schedules == [(s["cron"], s["timezone"], s["active"]) for s in entry.get("schedules") or []]


def test_serve_options_become_parameters_where_the_flow_takes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT)
    options = {option.name: f"/data/{option.name}" for option in registry.options()}
    built = {d.name: d for d in build_deployments("0 7 * * 1-5", "America/New_York", options, "/w/jevons.duckdb")}
    assert built["daily"].parameters == {"export_to": None, **options, "warehouse": "/w/jevons.duckdb"}
    assert built["backfill"].parameters == {"warehouse": "/w/jevons.duckdb"}  # backfill takes no source option
    [schedule] = built["daily"].schedules or []
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 7 * * 1-5", "America/New_York")  # type: ignore[union-attr]
    assert built["backfill"].schedules == []
    with pytest.raises(JevonsInputError, match="--timezone: 'Mars/Olympus' is not an IANA time zone"):
        build_deployments(timezone="Mars/Olympus")


def test_cli_prefect_defaults_are_prefect_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with (PROJECT / "prefect.toml").open("rb") as handle:
        toml = tomllib.load(handle)
    settings = cli.prefect_toml_settings()
    assert settings == {
        "PREFECT_SERVER_ANALYTICS_ENABLED": str(toml["server"]["analytics_enabled"]).lower(),
        "PREFECT_SERVER_EPHEMERAL_ENABLED": str(toml["server"]["ephemeral"]["enabled"]).lower(),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(toml["server"]["ephemeral"]["startup_timeout_seconds"]),
        "PREFECT_LOGGING_LEVEL": toml["logging"]["level"],
    }
    # run from elsewhere, the CLI applies them (without overriding the user's) and keeps Prefect's home in ~
    monkeypatch.chdir(tmp_path)
    for name in [*settings, "PREFECT_HOME"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    cli._prefect_defaults()
    assert {name: os.environ[name] for name in settings} == {**settings, "PREFECT_LOGGING_LEVEL": "DEBUG"}
    assert os.environ["PREFECT_HOME"] == str(Path.home() / ".jevons" / "prefect")
