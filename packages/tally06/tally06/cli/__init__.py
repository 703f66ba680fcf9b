"""The ``tally06`` command line: the only part of the shared package that may import a service."""

from tally06.cli.app import app, main

__all__ = ["app", "main"]
