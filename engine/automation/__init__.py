"""Automations in the engine: domain events through the compiled rule graph into changes."""
