"""``viksa validate``: not implemented yet (placeholder replaced by its owner)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Add the ``validate`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("validate", help="(not implemented yet)")
    parser.set_defaults(handler=lambda args: 2)
