#!/usr/bin/env bash
# Strict mypy over every distribution, then over the code around them.
# mypy resolves the viksa_ai namespace through the installed (editable) portions, so
# packages are named with -p; test folders are checked one at a time because each
# holds top-level modules (test_*.py) whose names repeat across packages.
set -euo pipefail
cd "$(dirname "$0")/.."
uv run mypy -p viksa_ai -p viksa_ai.runtime -p viksa_ai.models -p viksa_ai.client -p viksa_ai.devtools \
  -p viksa_ai.mcp_bridge
for dir in packages/*/tests tests-integration benchmarks scripts examples; do
  if compgen -G "$dir/**/*.py" >/dev/null || compgen -G "$dir/*.py" >/dev/null; then
    uv run mypy "$dir"
  fi
done
# A user's script: every answer it reads has a precise type, no expression is Any.
uv run mypy --strict --disallow-any-expr tests-integration/typed_usage.py
