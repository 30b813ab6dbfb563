"""Golden tests: the three sample workspaces load cleanly and say what their YAML says."""

from __future__ import annotations

import shutil
from datetime import date, time
from pathlib import Path

import pytest

from dsl.config import load_config
from engine.core.config import FieldType, WorkspaceConfig

SAMPLES = ("retail", "firm", "distributor")


def load(repo_root: Path, name: str) -> WorkspaceConfig:
    config, diagnostics = load_config(repo_root / "configs" / name)
    assert [d.headline() for d in diagnostics] == []
    assert config is not None
    return config


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_loads_without_diagnostics(repo_root: Path, name: str) -> None:
    config = load(repo_root, name)
    assert config.slug == name
    assert config.timezone == "Africa/Nairobi"
    assert config.currency == "KES"


def test_relative_folder_gives_relative_paths(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root)
    config, _ = load_config(Path("configs/retail"))
    assert config is not None
    pipeline = config.pipeline("sales")
    assert pipeline is not None and pipeline.span is not None
    assert pipeline.span.file == "configs/retail/pipelines.yaml"
    assert (pipeline.span.line, pipeline.span.column) == (3, 11)


def test_retail_facts(repo_root: Path) -> None:
    config = load(repo_root, "retail")
    assert config.name == "Duka Bora Electronics"
    assert [(h.weekday, h.opens, h.closes) for h in config.opening_hours][-1] == (
        5,
        time(9, 0),
        time(17, 0),
    )
    assert len(config.opening_hours) == 6  # Sunday closed
    holidays = {h.day: h.name for h in config.holidays}
    assert holidays[date(2026, 12, 12)] == "Jamhuri Day"
    assert holidays[date(2026, 6, 1)] == "Madaraka Day"
    assert holidays[date(2026, 10, 20)] == "Mashujaa Day"
    sales = config.pipeline("sales")
    assert sales is not None
    assert sales.stage_names() == (
        "inquiry", "quote", "payment", "fulfilment", "delivery", "completed", "lost",
    )  # fmt: skip
    assert sales.initial == "inquiry"
    assert sales.allows("quote", "payment")
    assert not sales.allows("inquiry", "payment")
    assert [s.name for s in sales.stages if s.terminal] == ["completed", "lost"]
    team = config.team("sales")
    assert team is not None and team.members == ("wanjiru", "brian", "faith")
    brian = config.teammate("brian")
    assert brian is not None and brian.teams == ("sales",) and brian.capacity == 25
    assert [r.strategy for r in config.routing] == [
        "unassigned", "least_busy", "least_busy", "sticky", "sticky", "round_robin",
    ]  # fmt: skip
    assert config.routing[0].when is not None
    assert config.routing[0].when.text == "not business_hours"
    assert config.routing[-1].when is None
    mpesa = config.integration("mpesa")
    assert mpesa is not None
    assert mpesa.secrets["passkey"] == "KAZI_RETAIL_MPESA_PASSKEY"
    assert mpesa.settings["shortcode"] == "5123874"
    assert "passkey" not in mpesa.settings
    delivery_area = next(f for f in config.fields_of("order") if f.name == "delivery_area")
    assert delivery_area.type is FieldType.CHOICE and "westlands" in delivery_area.choices


def test_retail_sla_minutes(repo_root: Path) -> None:
    config = load(repo_root, "retail")
    # Six open days: five of 10 h, Saturday 8 h, so a business day averages 580 minutes.
    assert config.business_day_minutes == 580
    standard = config.sla_policies[-1]
    assert standard.name == "standard" and standard.applies_when is None
    assert standard.first_response_minutes == 30
    assert standard.next_response_minutes == 60
    assert standard.resolution_minutes == 2 * 580
    assert standard.resolution is not None and standard.resolution.business
    assert standard.warn_before_minutes == 10


def test_retail_template_variables(repo_root: Path) -> None:
    config = load(repo_root, "retail")
    english = [t for t in config.templates if t.name == "quote_ready" and t.language == "en"]
    swahili = [t for t in config.templates if t.name == "quote_ready" and t.language == "sw"]
    assert len(english) == 1 and len(swahili) == 1
    quote = english[0]
    assert quote.quick_replies == ("Pay with M-Pesa", "Ask a question")
    assert [(v.component, v.position, v.value.text) for v in quote.variables] == [
        ("header", 1, "order.reference"),
        ("body", 1, "contact.first_name"),
        ("body", 2, "order.items"),
        ("body", 3, "order.amount"),
    ]
    span = quote.variables[1].value.span
    assert (span.file.endswith("templates.yaml"), span.line, span.column) == (True, 13, 12)


def test_expression_span_points_inside_quotes(repo_root: Path) -> None:
    config = load(repo_root, "retail")
    returning = next(r for r in config.routing if r.name.startswith("returning"))
    assert returning.when is not None
    assert returning.when.text == '"returning" in contact.tags'
    source = Path(returning.when.span.file).read_text(encoding="utf-8").splitlines()
    line = source[returning.when.span.line - 1]
    assert line[returning.when.span.column - 1 :].startswith('"returning" in')
    assert line[returning.when.span.column - 2] == "'"


def test_firm_facts(repo_root: Path) -> None:
    config = load(repo_root, "firm")
    engagement = config.pipeline("engagement")
    assert engagement is not None
    assert engagement.stage_names()[:6] == (
        "inquiry", "qualification", "booking", "documents", "proposal", "engaged",
    )  # fmt: skip
    monday = [(h.opens, h.closes) for h in config.opening_hours if h.weekday == 0]
    assert monday == [(time(8, 0), time(13, 0)), (time(14, 0), time(17, 0))]
    grace = config.teammate("grace")
    assert grace is not None and grace.teams == ("tax", "partners")
    assert "booking" in config.object_kinds
    assert {f.name for f in config.fields_of("booking")} == {"mode", "advisor", "slot_label"}
    calendar = config.integration("calendar")
    assert calendar is not None and calendar.kind == "webhook"
    assert calendar.settings["events"] == "booking.created,booking.changed"


def test_distributor_facts(repo_root: Path) -> None:
    config = load(repo_root, "distributor")
    assert {p.name: p.subject for p in config.pipelines} == {
        "orders": "order",
        "support": "conversation",
    }
    orders = config.pipeline("orders")
    assert orders is not None and orders.initial == "verification"
    assert orders.allows("stock_check", "payment")
    assert [n.name for n in config.numbers] == ["sales", "support"]
    support = config.team("support")
    assert support is not None and support.members == ("zawadi", "rehema")
    erp = config.integration("order_system")
    assert erp is not None
    assert erp.secrets == {"signing_secret": "KAZI_DISTRIBUTOR_ERP_SIGNING_SECRET"}
    assert erp.settings["url"].startswith("https://")
    assert config.default_language == "sw"
    hassan_rule = next(r for r in config.routing if r.teammate == "hassan")
    assert hassan_rule.team == "sales" and hassan_rule.strategy == "sticky"


def test_block_scalar_expression_span_points_at_its_text(tmp_path: Path, repo_root: Path) -> None:
    shutil.copytree(repo_root / "tests" / "config" / "minimal", tmp_path, dirs_exist_ok=True)
    routing = (tmp_path / "routing.yaml").read_text(encoding="utf-8")
    routing = routing.replace(
        'when: contact.language == "sw"', 'when: >-\n      contact.language == "sw"'
    )
    (tmp_path / "routing.yaml").write_text(routing, encoding="utf-8")
    config, diagnostics = load_config(tmp_path)
    assert diagnostics == [] and config is not None
    when = config.routing[0].when
    assert when is not None and when.text == 'contact.language == "sw"'
    assert (when.span.line, when.span.column) == (4, 7)
