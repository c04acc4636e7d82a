"""Replay VCR.py cassettes (and generated EIA pages) through `responses`, under the real EiaClient.

We parse the YAML ourselves rather than depend on vcrpy: a cassette is a list of interactions, each a request
(method, uri) and a response (status code, headers, body string). `CassetteReplayer` serves them to whatever
`requests` sends, so the code under test is exactly the live path down to the HTTP adapter.

Matching. A request matches an interaction when the URL path and the query parameters that decide the
*content* agree: frequency, data columns (as a set), facets (as sets), start, end and offset (absent = 0).
Ignored: `api_key` (the cassettes hold MOCK_API_KEY; tests use other keys to prove it never leaks), `length`
and `sort` (ordering of a one-key series; the client sorts on every key column, the recordings only on
period). EIA treats a bare date as hour 00 of that day (the PACW recording asked for end=2023-01-08 and got
hours up to 2023-01-08T00), so `YYYY-MM-DD` and `YYYY-MM-DDT00` compare equal. Interactions play once each,
in recorded order for identical requests (the four HTTP 500s replay as four failures); a request nothing
matches gets a ConnectionError naming it, which the client treats like a network failure.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import responses
import yaml

EIA_URL = re.compile(r"https://api\.eia\.gov/.*")
_IGNORED = {"api_key", "length"}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair."""

    method: str
    uri: str
    status: int
    headers: Mapping[str, str]
    body: str
    source: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _body_text(body: Any) -> str:
    if isinstance(body, dict):
        body = body.get("string", "")
    if isinstance(body, bytes):
        return body.decode("utf-8")
    return "" if body is None else str(body)


def load_cassette(path: Path | str) -> list[Interaction]:
    """Interactions of one VCR.py YAML cassette; refuses compressed bodies (none of ours are)."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for item in doc["interactions"]:
        req, resp = item["request"], item["response"]
        headers = {k: h for k, v in (resp.get("headers") or {}).items() if (h := _first(v)) is not None}
        if any(k.lower() == "content-encoding" and v.lower() != "identity" for k, v in headers.items()):
            raise ValueError(f"{path}: compressed bodies are not supported by this replayer")
        out.append(
            Interaction(
                method=req["method"].upper(),
                uri=req["uri"],
                status=int(resp["status"]["code"]),
                headers=headers,
                body=_body_text(resp["body"]),
                source=Path(path).name,
            )
        )
    return out


def match_key(url: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """(path, content-deciding parameters) of a request URL; see the module docstring."""
    parts = urlsplit(url)
    params: set[tuple[str, str]] = set()
    has_offset = False
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in _IGNORED or name.startswith("sort["):
            continue
        if name.startswith("data["):
            name = "data[]"
        if name in ("start", "end") and _DATE_ONLY.match(value):
            value += "T00"
        has_offset = has_offset or name == "offset"
        params.add((name, value))
    if not has_offset:
        params.add(("offset", "0"))
    return parts.path.rstrip("/"), frozenset(params)


@dataclass
class CassetteReplayer:
    """Serves interactions to requests made under a `responses.RequestsMock`; records every request URL."""

    interactions: list[Interaction]
    requests_seen: list[str] = field(default_factory=list)
    _played: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_files(cls, *paths: Path | str) -> CassetteReplayer:
        return cls([i for p in paths for i in load_cassette(p)])

    def install(self, mock: responses.RequestsMock) -> CassetteReplayer:
        mock.add_callback(responses.GET, EIA_URL, callback=self._serve)
        return self

    @property
    def unplayed(self) -> list[Interaction]:
        return [i for n, i in enumerate(self.interactions) if n not in self._played]

    def _serve(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str] | Exception:
        url = str(request.url)
        key = match_key(url)
        with self._lock:
            self.requests_seen.append(url)
            for n, inter in enumerate(self.interactions):
                if n not in self._played and inter.method == "GET" and match_key(inter.uri) == key:
                    self._played.add(n)
                    headers = {k: v for k, v in inter.headers.items() if k.lower() in ("content-type", "retry-after")}
                    return inter.status, headers, inter.body
        path, params = key
        return requests.ConnectionError(f"no recorded interaction for {path} {sorted(params)}")


# --------------------------------------------------------------------------------- generated EIA responses


def eia_body(
    rows: Sequence[Mapping[str, Any]],
    total: int | str | None,
    route: str = "electricity/rto/region-data",
    date_format: str = 'YYYY-MM-DD"T"HH24',
    frequency: str = "hourly",
) -> str:
    """A v2 data body in EIA's shape (total as a string, like the API since 2.1.6)."""
    response: dict[str, Any] = {
        "dateFormat": date_format,
        "frequency": frequency,
        "data": list(rows),
        "description": "generated for tests",
    }
    if total is not None:
        response["total"] = str(total)
    return json.dumps(
        {"response": response, "request": {"command": f"/v2/{route}/data/", "params": {}}, "apiVersion": "2.1.13"}
    )


def region_rows(respondent: str, types: Iterable[str], hours: Sequence[str], value: int = 1000) -> list[dict[str, Any]]:
    """Region-data rows sorted like the client asks (period, respondent, type), values as strings."""
    rows = []
    for n, period in enumerate(hours):
        for t in sorted(types):
            rows.append(
                {
                    "period": period,
                    "respondent": respondent,
                    "respondent-name": respondent,
                    "type": t,
                    "type-name": t,
                    "value": str(value + n),
                    "value-units": "megawatthours",
                }
            )
    return rows


class PagedServer:
    """Serves generated rows page by page by the request's offset/length, like EIA, counting requests.

    `override` maps an offset to the rows served instead (a repeated page); `fail_first` maps an offset to a
    number of leading HTTP 500 answers.
    """

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any]],
        total: int | None = None,
        override: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
        fail_first: Mapping[int, int] | None = None,
        route: str = "electricity/rto/region-data",
        delay_s: float = 0.0,
    ) -> None:
        self.rows = list(rows)
        self.total = len(self.rows) if total is None else total
        self.override = dict(override or {})
        self.fail_left = dict(fail_first or {})
        self.route = route
        self.delay_s = delay_s
        self.requests: list[dict[str, list[str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def install(self, mock: responses.RequestsMock) -> PagedServer:
        mock.add_callback(responses.GET, EIA_URL, callback=self._serve)
        return self

    def _serve(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        params: dict[str, list[str]] = {}
        for name, value in parse_qsl(urlsplit(str(request.url)).query, keep_blank_values=True):
            params.setdefault(name, []).append(value)
        offset = int(params.get("offset", ["0"])[0])
        length = int(params.get("length", ["5000"])[0])
        with self._lock:
            self.requests.append(params)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            failing = self.fail_left.get(offset, 0) > 0
            if failing:
                self.fail_left[offset] -= 1
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
        finally:
            with self._lock:
                self.in_flight -= 1
        if failing:
            return 500, {"Content-Type": "application/json"}, '{"error":"Internal error","code":500}'
        page = self.override.get(offset, self.rows[offset : offset + length])
        return 200, {"Content-Type": "application/json"}, eia_body(page, self.total, self.route)

    def offsets(self) -> list[int]:
        return sorted(int(p["offset"][0]) for p in self.requests)
