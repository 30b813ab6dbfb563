"""Kazi's engine: the pure core plus storage, jobs and effect execution around it."""
