"""Settings of one local platform instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from viksa_ai.devtools._validation_workers import VALIDATION_TIME_LIMIT_SECONDS
from viksa_ai.devtools.platform.services._sign_in_throttle import SIGN_IN_LIMITS, SignInLimits

__all__ = [
    "DEFAULT_BODY_TIMEOUT_SECONDS",
    "DEFAULT_EMAIL",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_PASSWORD",
    "DEFAULT_PORT",
    "PlatformConfig",
]

DEFAULT_PORT = 8765
DEFAULT_EMAIL = "dev@viksa.local"
# The password of an in-process platform (it has no listener). ``viksa dev`` serves on
# loopback, where agent code can reach it, so it seeds a fresh random password at each
# start instead (printed in its banner; ``--password`` chooses one).
DEFAULT_PASSWORD = "viksa-dev"  # noqa: S105
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_BODY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PlatformConfig:
    """How a local platform behaves.

    ``data_path`` None keeps all state in memory. Token lifetimes are in seconds.
    ``faults`` are fault specs (the ``X-Viksa-Fault`` syntax) armed for the whole run.
    ``workers_per_agent`` bounds the warm worker processes of one deployed agent and
    ``warm_agents`` how many agents keep warm workers at once (the least recently used
    are stopped first); ``approval_wait`` is how long (seconds) a workflow step waits for an
    approval decision, from its request (a restart meanwhile included): then the step's
    execution ends ``timeout`` and its approval ``cancelled``; a request such as
    ``pulse.execute`` never waits for one, it answers ``awaiting_approval`` at once.
    ``sandbox`` runs agents in the runner's Linux sandbox where one is available
    (``viksa dev --no-sandbox``: false).
    ``validation_time_limit`` bounds one run of the agent validator (seconds; 422 when it
    runs out) and ``max_body_bytes`` the size of a request body (413 above it; 10 MiB by
    default); ``body_timeout`` is how long (seconds) a request body may take to arrive
    once the application reads it (408 and the connection closed after it; 30 s).
    ``sign_in_limits`` bounds password attempts per email and per client address (429
    past them; see :class:`SignInLimits`).
    """

    data_path: Path | None = None
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    seed_email: str = DEFAULT_EMAIL
    seed_password: str = field(default=DEFAULT_PASSWORD, repr=False)
    faults: tuple[str, ...] = ()
    examples_dir: Path | None = None
    idempotency_ttl: float = 24 * 3600
    workers_per_agent: int = 2
    warm_agents: int = 8
    approval_wait: float = 300.0
    validation_time_limit: float = VALIDATION_TIME_LIMIT_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout: float = DEFAULT_BODY_TIMEOUT_SECONDS
    sandbox: bool = True
    sign_in_limits: SignInLimits = SIGN_IN_LIMITS
