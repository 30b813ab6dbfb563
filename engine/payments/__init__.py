"""Payments: M-Pesa requests, callbacks, confirmation and reconciliation (DESIGN rule 8)."""
