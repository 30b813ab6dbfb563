"""One package a provider: webhook parsing, signature checks, send client, simulator."""
