"""The pure heart of Kazi: standard library only, no I/O."""
