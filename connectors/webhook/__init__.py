"""Outgoing webhooks to a business's own systems: signed, and never to private addresses."""
