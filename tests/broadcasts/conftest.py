"""The broadcast tests run on the inbox's small world (people, teams) and its web client."""

from tests.inbox.conftest import _fast_password_hashing, db, runtime, web, web2, world

__all__ = ["_fast_password_hashing", "db", "runtime", "web", "web2", "world"]
