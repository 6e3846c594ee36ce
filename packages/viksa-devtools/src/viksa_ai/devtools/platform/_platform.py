"""One running local platform: its store, identities, faults and execution engine."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from viksa_ai.devtools.platform._config import PlatformConfig
from viksa_ai.devtools.platform.http._faults import FaultRegistry
from viksa_ai.devtools.platform.services._accounts import Accounts, Principal
from viksa_ai.devtools.platform.services._builder import Agents
from viksa_ai.devtools.platform.services._chat import Chat
from viksa_ai.devtools.platform.services._chat_runs import ChatRuns
from viksa_ai.devtools.platform.services._dashboard import DashboardAccess
from viksa_ai.devtools.platform.services._deployments import Deployments
from viksa_ai.devtools.platform.services._engine import Engine
from viksa_ai.devtools.platform.services._marketplace import Marketplace
from viksa_ai.devtools.platform.services._mcp_servers import McpServers
from viksa_ai.devtools.platform.services._overview import Overview
from viksa_ai.devtools.platform.services._scheduler import Scheduler
from viksa_ai.devtools.platform.services._secrets import Secrets
from viksa_ai.devtools.platform.services._security import new_secret
from viksa_ai.devtools.platform.services._triggers import Triggers
from viksa_ai.devtools.platform.services._vault import seal_plain_values
from viksa_ai.devtools.platform.services._workflows import Workflows
from viksa_ai.devtools.platform.store._store import SEALED_MARK, Store

__all__ = ["Platform", "SeededCredentials"]

_STARTUP_KEY_NAME = "viksa dev (printed at start)"
_PLAIN_SIGNING_KEY = "signing_key"  # how versions before 0.3.1 stored it
_SEALED_SIGNING_KEY = "signing_key_sealed"
# Keys printed at earlier starts stay valid (shells may still export them); only the
# most recent few are kept so restarts do not pile them up.
_STARTUP_KEYS_KEPT = 5


@dataclass(frozen=True)
class SeededCredentials:
    """Working credentials of the seeded developer account."""

    email: str
    password: str = field(repr=False)
    api_key: str = field(repr=False)
    user_id: str
    account_id: str
    org_id: str
    project_id: str

    def env(self, base_url: str) -> dict[str, str]:
        """The ``VIKSA_*`` variables that point ``ViksaClient.from_env()`` here."""
        return {
            "VIKSA_BASE_URL": base_url,
            "VIKSA_API_KEY": self.api_key,
            "VIKSA_ORG_ID": self.org_id,
            "VIKSA_PROJECT_ID": self.project_id,
        }


class Platform:
    """The state and services behind one platform app (see ``create_app``)."""

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self.store = Store(config.data_path)
        key = _signing_key(self.store)
        self.accounts = Accounts(
            self.store,
            key,
            access_ttl=config.access_token_ttl,
            refresh_ttl=config.refresh_token_ttl,
            sign_in_limits=config.sign_in_limits,
        )
        self.faults = FaultRegistry(config.faults)
        # Arms /_dev/faults besides the dev user's credentials; printed in the banner,
        # new at every start, never stored.
        self.fault_token = new_secret("vft")
        self.engine = Engine(
            self.store,
            workers_per_agent=config.workers_per_agent,
            warm_agents=config.warm_agents,
            approval_wait=config.approval_wait,
            sandbox=config.sandbox,
            # The data file's directory is never shown to agents, even inside one shown.
            hidden_paths=[] if config.data_path is None else [config.data_path.parent],
        )
        self.workflows = Workflows(self.store, self.engine)
        self.dashboard = DashboardAccess(self.accounts)
        self.overview = Overview(self.store)
        self.scheduler = Scheduler(self.store, self.engine, self.workflows)
        self.triggers = Triggers(self.store, self.engine)
        self.secrets = Secrets(self.store)
        self.mcp_servers = McpServers(self.store)
        # MCP server secrets (env, headers) of an earlier version's data file are sealed now.
        self.mcp_servers.seal_plain_secrets()
        self.chat = Chat(
            self.store, self.engine, validation_time_limit=config.validation_time_limit
        )
        self.chat_runs = ChatRuns(self.store, self.engine)
        self.marketplace = Marketplace(
            self.store, validation_time_limit=config.validation_time_limit
        )
        self.agents = Agents(
            self.store,
            self.engine,
            self.accounts,
            validation_time_limit=config.validation_time_limit,
        )
        self.deployments = Deployments(
            self.store, self.engine, validation_time_limit=config.validation_time_limit
        )
        # A data file may hold runs of a process that stopped mid-way: end them.
        self.engine.recover()
        self.workflows.recover()

    def close(self) -> None:
        """Release the database."""
        self.store.close()

    def seed(self) -> SeededCredentials:
        """Make sure the developer account exists with the configured password.

        Called on every start: the account, its org and project persist; the password
        is reset to the configured one and a fresh API key is issued, so the printed
        credentials always work.
        """
        email, password = self.config.seed_email, self.config.seed_password
        with self.store.transaction():
            user = self.accounts.user_by_email(email)
            if user is None:
                user = self.accounts.create_user(email, password, name="Viksa developer")
            else:
                self.accounts.set_password(user, password)
            org = self.accounts.first_org(user["account_id"])
            if org is None:
                org = self.accounts.create_org(user["account_id"], {"name": "Default org"})
            project = self.accounts.first_project(org["id"])
            if project is None:
                project = self.accounts.create_project(
                    user["account_id"], {"org_id": org["id"], "name": "Default project"}
                )
            principal = Principal(
                account_id=user["account_id"],
                user_id=user["id"],
                org_id=org["id"],
                project_id=project["id"],
                via="jwt",
            )
            old, _ = self.store.query(
                "key", where={"name": _STARTUP_KEY_NAME, "account_id": user["account_id"]}
            )
            for stale in old[: max(0, len(old) - _STARTUP_KEYS_KEPT + 1)]:
                self.store.delete("key", stale["id"])
            key = self.accounts.create_key("api", principal, _STARTUP_KEY_NAME, None)
        return SeededCredentials(
            email=email,
            password=password,
            api_key=key["key"],
            user_id=user["id"],
            account_id=user["account_id"],
            org_id=org["id"],
            project_id=project["id"],
        )

    async def tick(self, now: float | None = None) -> int:
        """Run every active schedule due at ``now`` (see :meth:`Scheduler.tick`); how many.

        Approval waits a restart resumed end too once their time is up (see
        :meth:`Workflows.expire_resumed`).
        """
        self.workflows.expire_resumed(now)
        return await self.scheduler.tick(now)

    async def aclose(self) -> None:
        """Stop background runs and agent workers, then release the database."""
        await self.engine.aclose()
        self.close()


def _signing_key(store: Store) -> bytes:
    """The JWT signing key, sealed in the data file (made on first start).

    A data file of an earlier version held it and the vault values in plain text: they
    are sealed (and the plain copies overwritten) in one transaction, so tokens issued
    before the upgrade stay valid and a failed start leaves the file as it was.
    """
    if store.was_sealed:
        sealed = store.meta_get(_SEALED_SIGNING_KEY)
        assert sealed is not None
        return bytes.fromhex(store.unseal(sealed, _SEALED_SIGNING_KEY))
    with store.transaction():
        key = store.meta_get(_PLAIN_SIGNING_KEY) or secrets.token_hex(32)
        store.meta_set(_SEALED_SIGNING_KEY, store.seal(key, _SEALED_SIGNING_KEY))
        store.meta_delete(_PLAIN_SIGNING_KEY)
        seal_plain_values(store)
        store.meta_set(SEALED_MARK, "aes-256-gcm, key in the .key file beside the data file")
    return bytes.fromhex(key)
