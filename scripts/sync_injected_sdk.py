"""Print the exact text the platform injects as ``ViksaAI.py`` into every agent.

    python scripts/sync_injected_sdk.py > /tmp/ViksaAI.py
    diff /tmp/ViksaAI.py tests/fixtures/ViksaAI.py.expected

After changing the runtime, refresh the contract fixture the same way:

    uv run python scripts/sync_injected_sdk.py > tests/fixtures/ViksaAI.py.expected

The text is ``viksa_ai.runtime.to_module_source()``, written byte for byte.
"""

import argparse
import sys
from pathlib import Path

RUNTIME_SRC = Path(__file__).resolve().parent.parent / "packages" / "viksa-runtime" / "src"


def main(argv: list[str]) -> int:
    # No options: --help says what the script prints instead of printing it.
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    try:
        from viksa_ai.runtime import to_module_source
    except ImportError:
        # A plain `python` on a fresh checkout: use the checkout's runtime.
        sys.path.insert(0, str(RUNTIME_SRC))
        from viksa_ai.runtime import to_module_source
    sys.stdout.buffer.write(to_module_source().encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
