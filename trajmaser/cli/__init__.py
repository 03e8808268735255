"""The ``trajmaser`` command line: parse, load, call, save."""

from trajmaser.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
