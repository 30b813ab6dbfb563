"""The `kazi` subcommands, one module per concern, each exposing `register(subparsers)`."""
