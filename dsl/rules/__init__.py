"""The rule language: grammar, parser, checker and compiler to an engine.core RuleGraph."""

from dsl.rules.build import build_graph, embedded_expressions
from dsl.rules.parser import parse_expression, parse_rules

__all__ = ["build_graph", "embedded_expressions", "parse_expression", "parse_rules"]
