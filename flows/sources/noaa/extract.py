"""The registry's entry points for weather: `--weather-from DIR` (files) and the live NOAA path (default).

The live path mirrors the EIA stage without a key: weather is optional, so when NOAA cannot be reached (no
network: the client fails at once on a DNS failure or a refused connection; a timeout or 5xx only after its
bounded retries) the run goes on with a `weather_unavailable` warning and the weather marts are recomputed from
whatever weather the warehouse already holds. `--require-weather` turns that warning into the error
(NoaaSourceError, exit 1). The live path fetches NOAA's newest nClimDiv files (monthly degree days, no key);
daily zone temperatures come from files only (`--weather-from DIR` with the zone files and station table).
"""

from __future__ import annotations

from flows.sources.base import ExtractContext, SourceResult, SourceWarning
from flows.sources.noaa.client import NoaaSourceError
from flows.sources.noaa.source import weather_from_dir, weather_from_noaa

LIVE_SOURCE = "noaa_live"


def extract_files(ctx: ExtractContext) -> SourceResult:
    """`--weather-from DIR`: every NOAA weather file in the folder (flows.sources.noaa.source)."""
    assert ctx.option is not None
    return weather_from_dir(ctx.option)


def extract_live(ctx: ExtractContext) -> SourceResult:
    """The newest nClimDiv files from NOAA; unreachable NOAA is a warning unless the run requires weather."""
    try:
        return weather_from_noaa()
    except NoaaSourceError as exc:
        if ctx.required:
            raise NoaaSourceError(f"--require-weather: {exc}") from None
        warning = SourceWarning(
            "weather",
            "NOAA",
            "weather_unavailable",
            f"weather not refreshed: {exc}; the weather models use the weather already in the warehouse "
            "(give --weather-from DIR to read files, --require-weather to fail instead)",
        )
        return SourceResult(source=LIVE_SOURCE, frames={}, warnings=[warning], failed_subjects=["NOAA"])


def validate(directory: str) -> None:
    """Pre-flight check of `--weather-from DIR` (the CLI runs it before the flow): every file parses."""
    weather_from_dir(directory)
