"""Deployments and Prefect settings are each defined once: `jevons serve` builds exactly prefect.yaml's
deployments, and the CLI's Prefect defaults are prefect.toml's values."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import yaml

from flows import prefect_settings
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


def _unset(monkeypatch: pytest.MonkeyPatch, names: list[str]) -> None:
    """Unset `names` for this test only: setenv first, so that monkeypatch also removes what the code under
    test sets (delenv of an unset variable records nothing, and the value would leak into later tests)."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_cli_prefect_defaults_are_prefect_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with (PROJECT / "prefect.toml").open("rb") as handle:
        toml = tomllib.load(handle)
    settings = prefect_settings.prefect_toml_settings()
    assert settings == {
        "PREFECT_SERVER_ANALYTICS_ENABLED": str(toml["server"]["analytics_enabled"]).lower(),
        "PREFECT_SERVER_EPHEMERAL_ENABLED": str(toml["server"]["ephemeral"]["enabled"]).lower(),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(toml["server"]["ephemeral"]["startup_timeout_seconds"]),
        "PREFECT_LOGGING_LEVEL": toml["logging"]["level"],
    }
    # run from elsewhere, the CLI applies them (without overriding the user's) and keeps Prefect's home in ~
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    _unset(monkeypatch, [*settings, "PREFECT_HOME"])
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    prefect_settings.apply_prefect_defaults()
    assert {name: os.environ[name] for name in settings} == {**settings, "PREFECT_LOGGING_LEVEL": "DEBUG"}
    assert os.environ["PREFECT_HOME"] == str(home / ".jevons" / "prefect")
    assert (home / ".jevons" / "prefect").is_dir()


def test_an_unwritable_home_gets_a_temporary_prefect_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CI runners and service accounts may have a $HOME nobody can write: Prefect would only warn, then its
    server fails to open its database ('unable to open database file'). The CLI picks a writable home."""
    monkeypatch.setenv("HOME", "/proc/jevons-no-such-home")  # mkdir fails there, even for root
    monkeypatch.setattr(prefect_settings.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.chdir(tmp_path)
    _unset(monkeypatch, [*prefect_settings.prefect_toml_settings(), "PREFECT_HOME"])
    prefect_settings.apply_prefect_defaults()
    chosen = Path(os.environ["PREFECT_HOME"])
    assert chosen.parent.parent == tmp_path and chosen.name == "prefect" and chosen.parent.name.startswith("jevons-")
    assert "/proc/jevons-no-such-home/.jevons/prefect cannot be written" in capsys.readouterr().err


def test_a_user_prefect_home_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    _unset(monkeypatch, list(prefect_settings.prefect_toml_settings()))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "mine"))
    prefect_settings.apply_prefect_defaults()
    assert os.environ["PREFECT_HOME"] == str(tmp_path / "mine")
