"""Kazi's config language: YAML files plus the rule language, checked and compiled."""
