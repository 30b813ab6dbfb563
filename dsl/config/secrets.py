"""Check, when the server starts, that every secret a config names is set."""

from __future__ import annotations

from collections.abc import Mapping

from dsl.config import codes
from dsl.diagnostics import Diagnostic, Severity, Span
from engine.core.config import WorkspaceConfig


def check_secrets(config: WorkspaceConfig, env: Mapping[str, str]) -> list[Diagnostic]:
    """An error for each `env:NAME` secret whose variable is unset or empty in `env`."""
    found: list[Diagnostic] = []
    for integration in config.integrations:
        for setting, variable in sorted(integration.secrets.items()):
            if env.get(variable):
                continue
            span = integration.secret_spans.get(setting) or integration.span
            found.append(
                Diagnostic(
                    codes.SECRET_NOT_SET,
                    Severity.ERROR,
                    f"environment variable {variable} is not set (integration "
                    f"'{integration.name}' needs it as {setting})",
                    span or Span(f"{config.root}/integrations.yaml", 1, 1),
                    f"set {variable} in the server's environment",
                )
            )
    endpoint = config.ai.endpoint
    key = endpoint.key_variable if endpoint and config.ai.provider == "openai_compat" else None
    if endpoint is not None and key and not env.get(key):
        found.append(
            Diagnostic(
                codes.SECRET_NOT_SET,
                Severity.ERROR,
                f"environment variable {key} is not set (ai.yaml's model needs it as api_key)",
                endpoint.span or Span(f"{config.root}/ai.yaml", 1, 1),
                f"set {key} in the server's environment",
            )
        )
    return found
