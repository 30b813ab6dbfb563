"""Workspaces: their config folders, and putting a folder's people into the database."""
