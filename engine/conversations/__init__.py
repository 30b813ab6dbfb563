"""Contacts and conversations: resolving who wrote and which thread it belongs to."""
