"""Inbound provider events: stored raw first, then processed by a job."""
