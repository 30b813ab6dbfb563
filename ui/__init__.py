"""The Litestar app, its pages, and the `kazi` command line."""
