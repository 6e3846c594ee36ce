"""``viksa completion bash|zsh|fish``: a shell completion script, built by shtab.

The script is generated from the argparse tree itself, so every subcommand and flag is
completed and none can be forgotten.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["add_parser"]

_EPILOG = """\
install:
  bash:  viksa completion bash > ~/.local/share/bash-completion/completions/viksa
  zsh:   viksa completion zsh > "${fpath[1]}/_viksa"     (then: compinit)
  fish:  viksa completion fish > ~/.config/fish/completions/viksa.fish
"""


def add_parser(subparsers: Any, build_parser: Callable[[], argparse.ArgumentParser]) -> None:
    """Add the ``completion`` subcommand; ``build_parser`` builds the tree to complete."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print the completion script of `viksa` for SHELL.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("shell", metavar="SHELL", choices=("bash", "zsh", "fish"))
    parser.set_defaults(handler=lambda args: _completion(args, build_parser))


def _completion(
    args: argparse.Namespace, build_parser: Callable[[], argparse.ArgumentParser]
) -> int:
    try:
        import shtab
    except ImportError:  # pragma: no cover - a dependency of viksa-devtools
        print("viksa completion needs shtab: pip install shtab", file=sys.stderr)
        return 2
    script = shtab.complete(build_parser(), shell=args.shell)
    sys.stdout.write(script if script.endswith("\n") else script + "\n")
    return 0
