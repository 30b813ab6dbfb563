"""check_secrets: every env:NAME a config names must be set when the server starts."""

from __future__ import annotations

from pathlib import Path

from dsl.config import check_secrets, load_config
from engine.core.config import WorkspaceConfig

HERE = Path(__file__).parent
NAMES = ("SHOP_WA_APP_SECRET", "SHOP_WA_ACCESS_TOKEN", "SHOP_WA_VERIFY_TOKEN")


def minimal() -> WorkspaceConfig:
    config, _ = load_config(HERE / "minimal")
    assert config is not None
    return config


def test_all_secrets_set_gives_nothing() -> None:
    assert check_secrets(minimal(), {name: "x" for name in NAMES}) == []


def test_unset_and_empty_secrets_are_reported_at_their_reference() -> None:
    env = {"SHOP_WA_APP_SECRET": "x", "SHOP_WA_ACCESS_TOKEN": ""}
    found = check_secrets(minimal(), env)
    assert [(d.code, d.span.line, d.span.column) for d in found] == [
        ("E080", 6, 19),  # access_token: env:SHOP_WA_ACCESS_TOKEN
        ("E080", 7, 19),  # verify_token: env:SHOP_WA_VERIFY_TOKEN
    ]
    assert found[0].span.file.endswith("integrations.yaml")
    assert "SHOP_WA_ACCESS_TOKEN" in found[0].message
    assert all(d.is_error for d in found)


def test_sample_secrets_are_named_per_workspace(repo_root: Path) -> None:
    config, _ = load_config(repo_root / "configs" / "retail")
    assert config is not None
    found = check_secrets(config, {})
    names = sorted({d.message.split()[2] for d in found})
    assert names == [
        "KAZI_RETAIL_MPESA_CALLBACK_TOKEN",
        "KAZI_RETAIL_MPESA_CONSUMER_KEY",
        "KAZI_RETAIL_MPESA_CONSUMER_SECRET",
        "KAZI_RETAIL_MPESA_PASSKEY",
        "KAZI_RETAIL_WA_ACCESS_TOKEN",
        "KAZI_RETAIL_WA_APP_SECRET",
        "KAZI_RETAIL_WA_VERIFY_TOKEN",
    ]
