"""Turn generated Python source into callables, once, in a namespace of safe helpers only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.core.rules.runtime import NAMESPACE


def load_functions(
    source: str, constants: tuple[Any, ...], filename: str
) -> dict[str, Callable[..., Any]]:
    """Compile `source` (made by the rule compiler from a checked AST, never user text) and
    return its top-level functions by name. `K` holds constants such as compiled regexes."""
    namespace: dict[str, Any] = {
        "__builtins__": {"type": type, "dict": dict},
        **NAMESPACE,
        "K": constants,
    }
    code = compile(source, filename, "exec")
    exec(code, namespace)
    return {name: value for name, value in namespace.items() if name.startswith("f_")}
