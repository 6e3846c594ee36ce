"""Settings shared by every test of the workspace.

Hypothesis keeps no example database: a failure it found once would otherwise be
replayed from ``.hypothesis/`` on every later run of that checkout only, so a test's
outcome would depend on local state rather than on the code. A failing example is
printed with its reproduction blob instead; pin it with ``@example`` in the test.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("viksa", database=None, print_blob=True)
settings.load_profile("viksa")
