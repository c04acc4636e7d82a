"""The shipped seeds validate, and every malformed seed fails with a SeedError naming file, line and field."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from warehouse.errors import JevonsInputError, SeedError
from warehouse.seeds import (
    CATEGORIES,
    EVENTS_CSV,
    GROUPS,
    UNIVERSE_CSV,
    read_events,
    read_universe,
)
from warehouse.tables.core import AI_EVENTS, UNIVERSE

EVENTS_HEADER = "event_id,event_date,name,category,description,source_url"
UNIVERSE_HEADER = "ticker,name,group,benchmark"
GOOD_EVENT = 'deepseek_r1,2025-01-20,DeepSeek-R1,efficiency,"Open reasoning model, MIT",https://example.com/r1'
GOOD_EVENT_2 = "stargate,2025-01-21,Stargate,demand,$500B of AI infrastructure,https://example.com/stargate"

REQUIRED_EVENTS = {
    "gpt4o_mini": date(2024, 7, 18),
    "tmi_restart_deal": date(2024, 9, 20),
    "deepseek_v3": date(2024, 12, 26),
    "deepseek_r1": date(2025, 1, 20),
    "stargate": date(2025, 1, 21),
    "deepseek_selloff": date(2025, 1, 27),
}

EXPECTED_GROUPS = {
    "independent_power": {"CEG", "VST", "NRG", "TLN"},
    "nuclear_uranium": {"OKLO", "SMR", "CCJ", "NNE", "LEU"},
    "grid_equipment": {"GEV", "ETN", "VRT"},
    "regulated_utilities": {"NEE", "SO", "DUK", "D", "AEP", "EXC", "PEG", "ETR"},
    "gas": {"EQT", "KMI", "WMB"},
    "sector_etfs": {"XLU", "URA", "XLE"},
    "ai_hardware": {"NVDA", "AVGO"},
    "benchmarks": {"SPY", "QQQ"},
}

_DTYPES = {"VARCHAR": pl.String, "DATE": pl.Date}


def _write(tmp_path: Path, lines: list[str], name: str = "seed.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _events(tmp_path: Path, *rows: str, header: str = EVENTS_HEADER) -> Path:
    return _write(tmp_path, [header, *rows], "ai_events.csv")


def _universe(tmp_path: Path, *rows: str, header: str = UNIVERSE_HEADER) -> Path:
    return _write(tmp_path, [header, *rows], "universe.csv")


def _where(path: Path, line: int | None, field: str | None) -> str:
    """Regex for the 'file, line N, field 'x'' prefix every SeedError message starts with."""
    where = str(path)
    if line is not None:
        where += f", line {line}"
    if field is not None:
        where += f", field '{field}'"
    return "^" + re.escape(where + ": ")


# ---------------------------------------------------------------- shipped seeds


def test_shipped_events_validate_and_match_core_ai_events() -> None:
    events = read_events()
    assert events.columns == AI_EVENTS.column_names
    assert list(events.schema.values()) == [_DTYPES[c.dtype] for c in AI_EVENTS.columns]
    assert events.height >= 24
    assert events["event_id"].is_unique().all()
    assert set(events["category"]) == set(CATEGORIES)
    assert events["event_date"].min() >= date(2024, 1, 1)  # type: ignore[operator]
    assert events["event_date"].max() <= date(2026, 12, 31)  # type: ignore[operator]
    assert all(url.startswith("https://") for url in events["source_url"])


def test_shipped_events_include_the_key_events_on_their_dates() -> None:
    dates = dict(read_events().select("event_id", "event_date").iter_rows())
    for event_id, expected in REQUIRED_EVENTS.items():
        assert dates.get(event_id) == expected, event_id
    later_deepseek = {
        "deepseek_r1_0528",
        "deepseek_v3_1",
        "deepseek_v3_2_exp",
        "deepseek_v3_2",
        "deepseek_v4_preview",
    }
    assert later_deepseek <= set(dates)


def test_shipped_selloff_is_an_efficiency_event() -> None:
    events = read_events()
    row = events.filter(pl.col("event_id") == "deepseek_selloff").row(0, named=True)
    assert row["category"] == "efficiency"
    assert "CEG" in row["description"] and "VST" in row["description"]


def test_shipped_universe_validates_with_every_group_filled() -> None:
    universe = read_universe()
    assert universe.columns == UNIVERSE.column_names
    assert list(universe.schema.values()) == [_DTYPES[c.dtype] for c in UNIVERSE.columns]
    assert tuple(EXPECTED_GROUPS) == GROUPS
    by_group = {g: set(universe.filter(pl.col("group") == g)["ticker"]) for g in GROUPS}
    assert by_group == EXPECTED_GROUPS
    assert set(universe["benchmark"]) == {"SPY"}


def test_default_paths_sit_beside_the_module() -> None:
    assert EVENTS_CSV.name == "ai_events.csv" and EVENTS_CSV.is_file()
    assert UNIVERSE_CSV.name == "universe.csv" and UNIVERSE_CSV.is_file()
    assert EVENTS_CSV.read_text(encoding="utf-8").splitlines()[0] == EVENTS_HEADER
    assert UNIVERSE_CSV.read_text(encoding="utf-8").splitlines()[0] == UNIVERSE_HEADER + ",history_from,history_source"


# ---------------------------------------------------------------- what is tolerated


def test_bom_whitespace_quotes_and_blank_lines_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "ai_events.csv"
    text = (
        "\ufeff" + EVENTS_HEADER + "\r\n"
        "\r\n"
        '  deepseek_r1 , 2025-01-20 ,DeepSeek-R1, efficiency ,"Cheap, open\nreasoning model",'
        " https://example.com/r1 \r\n" + GOOD_EVENT_2 + "\r\n"
    )
    path.write_bytes(text.encode("utf-8"))
    events = read_events(path)
    assert events.columns == AI_EVENTS.column_names
    assert events.row(0) == (
        "deepseek_r1",
        date(2025, 1, 20),
        "DeepSeek-R1",
        "efficiency",
        "Cheap, open\nreasoning model",
        "https://example.com/r1",
    )
    assert events.height == 2


def test_columns_may_come_in_any_order(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,benchmarks,SPY,SPDR S&P 500 ETF Trust", header="ticker,group,benchmark,name")
    universe = read_universe(path)
    assert universe.columns == UNIVERSE.column_names
    assert universe.row(0) == ("SPY", "SPDR S&P 500 ETF Trust", "benchmarks", "SPY", None, None)


def test_a_benchmark_may_be_listed_after_the_rows_using_it(tmp_path: Path) -> None:
    path = _universe(tmp_path, "CEG,Constellation,independent_power,SPY", "SPY,SPDR,benchmarks,SPY")
    assert read_universe(path)["ticker"].to_list() == ["CEG", "SPY"]


def test_seed_error_is_an_input_error() -> None:
    assert issubclass(SeedError, JevonsInputError)


# ---------------------------------------------------------------- file-level errors


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(SeedError, match=_where(path, None, None) + "file not found$"):
        read_events(path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="not a regular file"):
        read_universe(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n  \n"], ids=["zero-bytes", "bom-only", "blank"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ai_events.csv"
    path.write_bytes(content)
    with pytest.raises(SeedError, match=_where(path, 1, None) + "file is empty") as info:
        read_events(path)
    assert info.value.file == str(path) and info.value.line == 1


def test_header_only_file(tmp_path: Path) -> None:
    path = _events(tmp_path)
    with pytest.raises(SeedError, match=_where(path, 1, None) + "no data rows after the header"):
        read_events(path)


def test_not_utf8_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "ai_events.csv"
    lines = [EVENTS_HEADER, GOOD_EVENT, "stargate,2025-01-21,Stargate,demand,Caf\xe9 money,https://example.com/s"]
    path.write_bytes("\n".join(lines).encode("latin-1"))
    with pytest.raises(SeedError, match=_where(path, 3, "description") + r"not valid UTF-8 \(byte 0xe9\)") as info:
        read_events(path)
    assert info.value.line == 3 and info.value.field == "description"


def test_not_utf8_inside_a_multiline_field_names_the_physical_line(tmp_path: Path) -> None:
    path = tmp_path / "ai_events.csv"
    body = f'{EVENTS_HEADER}\nstargate,2025-01-21,Stargate,demand,"first line\nsecond \xff line",https://x.org\n'
    path.write_bytes(body.encode("latin-1"))
    with pytest.raises(SeedError, match=_where(path, 3, "description") + "not valid UTF-8"):
        read_events(path)


def test_not_utf8_in_header(tmp_path: Path) -> None:
    path = tmp_path / "universe.csv"
    path.write_bytes(b"ticker,n\xe4me,group,benchmark\nSPY,SPDR,benchmarks,SPY\n")
    with pytest.raises(SeedError, match=_where(path, 1, None) + "not valid UTF-8"):
        read_universe(path)


def test_malformed_quoting(tmp_path: Path) -> None:
    path = _events(tmp_path, GOOD_EVENT, 'stargate,2025-01-21,Stargate,demand,"quoted"junk,https://x.org')
    with pytest.raises(SeedError, match=_where(path, 3, None) + "malformed CSV"):
        read_events(path)


def test_unclosed_quote_names_the_line_where_the_record_starts(tmp_path: Path) -> None:
    path = _events(tmp_path, GOOD_EVENT, 'stargate,2025-01-21,Stargate,demand,"never closed,https://x.org', "more")
    with pytest.raises(SeedError, match=_where(path, 3, None) + "malformed CSV"):
        read_events(path)


# ---------------------------------------------------------------- header errors


def test_missing_required_column(tmp_path: Path) -> None:
    path = _events(
        tmp_path,
        "deepseek_r1,2025-01-20,DeepSeek-R1,Open model,https://example.com/r1",
        header="event_id,event_date,name,description,source_url",
    )
    with pytest.raises(SeedError, match=_where(path, 1, "category") + "missing required column"):
        read_events(path)


def test_unknown_extra_column(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY,US", header=UNIVERSE_HEADER + ",country")
    with pytest.raises(SeedError, match=_where(path, 1, "country") + r"unknown column\(s\): country;"):
        read_universe(path)


def test_misspelt_column_names_both_missing_and_unknown(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY", header="ticker,name,grop,benchmark")
    with pytest.raises(SeedError, match=_where(path, 1, "group") + r".*unknown column\(s\): grop"):
        read_universe(path)


def test_duplicate_header_column(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY,X", header=UNIVERSE_HEADER + ",name")
    with pytest.raises(SeedError, match=_where(path, 1, "name") + r"column 'name' appears twice.*columns 2 and 5"):
        read_universe(path)


def test_header_column_without_a_name(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY,", header=UNIVERSE_HEADER + ",")
    with pytest.raises(SeedError, match=_where(path, 1, None) + "header column 5 has no name"):
        read_universe(path)


# ---------------------------------------------------------------- row errors (events)


@pytest.mark.parametrize("field", AI_EVENTS.column_names)
def test_blank_required_field(tmp_path: Path, field: str) -> None:
    values = dict(zip(AI_EVENTS.column_names, next(csv.reader([GOOD_EVENT])), strict=True))
    values[field] = "   "
    row = ",".join(f'"{v}"' for v in values.values())
    path = _events(tmp_path, GOOD_EVENT_2, row)
    with pytest.raises(SeedError, match=_where(path, 3, field) + "required value is blank$"):
        read_events(path)


def test_short_row_reports_the_first_absent_field(tmp_path: Path) -> None:
    path = _events(tmp_path, "deepseek_r1,2025-01-20,DeepSeek-R1")
    with pytest.raises(SeedError, match=_where(path, 2, "category") + r".*only 3 of 6 fields"):
        read_events(path)


def test_extra_fields_from_an_unquoted_comma(tmp_path: Path) -> None:
    path = _events(tmp_path, "deepseek_r1,2025-01-20,DeepSeek-R1,efficiency,Cheap, open,https://example.com/r1")
    with pytest.raises(SeedError, match=_where(path, 2, None) + "row has 7 fields but the header has 6"):
        read_events(path)


def test_trailing_empty_fields_are_tolerated(tmp_path: Path) -> None:
    path = _events(tmp_path, GOOD_EVENT + ",,")
    assert read_events(path).height == 1


@pytest.mark.parametrize("value", ["01/20/2025", "2025-1-20", "20250120", "2025-01-20T00:00", "Jan 20 2025"])
def test_bad_date_format(tmp_path: Path, value: str) -> None:
    path = _events(tmp_path, f"deepseek_r1,{value},DeepSeek-R1,efficiency,Open model,https://example.com/r1")
    with pytest.raises(SeedError, match=_where(path, 2, "event_date") + re.escape(f"'{value}' is not an ISO date")):
        read_events(path)


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "2025-00-10", "2024-02-30"])
def test_impossible_date(tmp_path: Path, value: str) -> None:
    path = _events(tmp_path, GOOD_EVENT, f"x_event,{value},X,policy,Y,https://example.com/x")
    with pytest.raises(SeedError, match=_where(path, 3, "event_date") + re.escape(f"'{value}' is not a real")):
        read_events(path)


def test_unknown_category_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = _events(tmp_path, "deepseek_r1,2025-01-20,DeepSeek-R1,Efficiency,Open model,https://example.com/r1")
    expected = "unknown category 'Efficiency'; allowed: efficiency, demand, policy"
    with pytest.raises(SeedError, match=_where(path, 2, "category") + re.escape(expected) + "$"):
        read_events(path)


def test_duplicate_event_id_names_both_lines(tmp_path: Path) -> None:
    path = _events(tmp_path, GOOD_EVENT, GOOD_EVENT_2, "", GOOD_EVENT)
    with pytest.raises(SeedError) as info:
        read_events(path)
    assert str(info.value) == (
        f"{path}, line 5, field 'event_id': duplicate event_id 'deepseek_r1': already used on line 2"
    )
    assert (info.value.line, info.value.field) == (5, "event_id")


@pytest.mark.parametrize("value", ["DeepSeek_R1", "deepseek-r1", "deepseek r1", "1st_event", "a__b", "_a", "a_"])
def test_event_id_not_a_slug(tmp_path: Path, value: str) -> None:
    path = _events(tmp_path, f"{value},2025-01-20,DeepSeek-R1,efficiency,Open model,https://example.com/r1")
    with pytest.raises(SeedError, match=_where(path, 2, "event_id") + re.escape(f"'{value}' is not a lowercase")):
        read_events(path)


@pytest.mark.parametrize(
    "value", ["ftp://example.com/x", "example.com/x", "https://", "https://exa mple.com", "mailto:a@b.c", "http://[::1"]
)
def test_source_url_not_http(tmp_path: Path, value: str) -> None:
    path = _events(tmp_path, f'deepseek_r1,2025-01-20,DeepSeek-R1,efficiency,Open model,"{value}"')
    with pytest.raises(SeedError, match=_where(path, 2, "source_url") + re.escape(f"'{value}' is not an http(s) URL")):
        read_events(path)


def test_line_numbers_count_multiline_records_and_blank_lines(tmp_path: Path) -> None:
    path = _events(
        tmp_path,
        'deepseek_r1,2025-01-20,DeepSeek-R1,efficiency,"line one\nline two\nline three",https://example.com/r1',
        "",
        "stargate,2025-01-21,Stargate,hype,x,https://example.com/s",
    )
    with pytest.raises(SeedError, match=_where(path, 6, "category")):
        read_events(path)


def test_long_values_are_shortened_in_messages(tmp_path: Path) -> None:
    path = _events(tmp_path, f"deepseek_r1,2025-01-20,DeepSeek-R1,{'x' * 500},Open model,https://example.com/r1")
    with pytest.raises(SeedError) as info:
        read_events(path)
    assert len(str(info.value)) < len(str(path)) + 250


# ---------------------------------------------------------------- row errors (universe)


def test_unknown_group_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY", "CEG,Constellation,power,SPY")
    with pytest.raises(SeedError) as info:
        read_universe(path)
    assert str(info.value) == (
        f"{path}, line 3, field 'group': unknown group 'power'; allowed: independent_power, nuclear_uranium, "
        "grid_equipment, regulated_utilities, gas, sector_etfs, ai_hardware, benchmarks"
    )


def test_duplicate_ticker_names_both_lines(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY", "CEG,Constellation,independent_power,SPY", " CEG ,C,gas,SPY")
    with pytest.raises(
        SeedError, match=_where(path, 4, "ticker") + "duplicate ticker 'CEG': already listed on line 3$"
    ):
        read_universe(path)


@pytest.mark.parametrize("value", ["ceg", "CEG$", "BRK B", "CEG/X", "ÄBC"])
def test_bad_ticker_format(tmp_path: Path, value: str) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY", f"{value},Some company,gas,SPY")
    with pytest.raises(SeedError, match=_where(path, 3, "ticker") + re.escape(f"'{value}' is not a valid ticker")):
        read_universe(path)


@pytest.mark.parametrize("value", ["BRK-B", "^GSPC", "CL=F", "RDS.A", "7203.T"])
def test_good_ticker_formats(tmp_path: Path, value: str) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY", f"{value},Some company,gas,SPY")
    assert value in read_universe(path)["ticker"].to_list()


def test_benchmark_not_in_universe(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY", "CEG,Constellation,independent_power,IWM")
    with pytest.raises(SeedError) as info:
        read_universe(path)
    assert str(info.value) == (
        f"{path}, line 3, field 'benchmark': benchmark 'IWM' is not a ticker in this file; add a row for it "
        "(a benchmark's own benchmark may be itself)"
    )


def test_benchmark_with_bad_format(tmp_path: Path) -> None:
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,spy")
    with pytest.raises(SeedError, match=_where(path, 2, "benchmark") + "'spy' is not a valid ticker"):
        read_universe(path)


_REQUIRED_UNIVERSE = [c.name for c in UNIVERSE.columns if not c.nullable or c.name in UNIVERSE.primary_key]


@pytest.mark.parametrize("field", _REQUIRED_UNIVERSE)
def test_universe_blank_required_field(tmp_path: Path, field: str) -> None:
    values = {"ticker": "CEG", "name": "Constellation", "group": "independent_power", "benchmark": "SPY"}
    values[field] = ""
    path = _universe(tmp_path, "SPY,SPDR,benchmarks,SPY", ",".join(values.values()))
    with pytest.raises(SeedError, match=_where(path, 3, field) + "required value is blank"):
        read_universe(path)
