"""Read-only figures for managers: queue health, pipeline, SLA breaches."""
