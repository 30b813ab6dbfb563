"""Fixed instants for record tests: times in these tests never come from the wall clock."""

from datetime import UTC, datetime

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
