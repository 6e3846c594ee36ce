"""Deploying the example agents of a directory (``viksa dev --with-examples``).

Goes through the platform's own routes in-process, so an example is created, built
and deployed exactly as a client would do it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from viksa_ai.devtools.platform._platform import SeededCredentials
from viksa_ai.devtools.runner import AgentLoadError, load_agent

__all__ = ["deploy_examples"]

_NOT_ALIAS = re.compile(r"[^A-Za-z0-9_-]+")


def _manifest(directory: Path) -> dict[str, Any]:
    agent = load_agent(directory)
    manifest = agent.manifest.to_wire()
    manifest["files"] = [
        {
            "name": name,
            "content": content,
            "mime_type": "python" if name.endswith(".py") else "other",
        }
        for name, content in agent.files.items()
    ]
    return manifest


def _agent_directories(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if (p / "agent.json").is_file())


async def deploy_examples(
    app: FastAPI, credentials: SeededCredentials, directory: Path
) -> list[tuple[str, str]]:
    """Create (or update), build and deploy every agent directory under ``directory``.

    Returns ``(alias, outcome)`` pairs; an example that fails says why instead of
    stopping the others.
    """
    outcomes: list[tuple[str, str]] = []
    headers = {"Authorization": f"Bearer {credentials.api_key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://viksa.local", headers=headers
    ) as client:
        for path in _agent_directories(directory):
            alias = _NOT_ALIAS.sub("_", path.name).strip("_") or "example"
            try:
                manifest = {**_manifest(path), "agent_alias": alias}
            except AgentLoadError as exc:
                outcomes.append((alias, f"skipped: {exc.message}"))
                continue
            outcomes.append((alias, await _deploy(client, alias, manifest)))
    return outcomes


async def _deploy(client: httpx.AsyncClient, alias: str, manifest: dict[str, Any]) -> str:
    created = await client.post("/builder/agent/create", json=manifest)
    if created.status_code == 409:
        found = await client.get("/builder/agent/list", params={"search": alias, "limit": 1000})
        matches = [a for a in found.json()["agents"] if a["agent_alias"] == alias]
        if not matches:
            return f"failed: {created.text}"
        created = await client.put(f"/builder/agent/{matches[0]['id']}", json=manifest)
    if created.is_error:
        return f"failed: {created.text}"
    agent_id = created.json()["id"]
    for step in ("/builder/builder/", "/builder/deploy/"):
        answer = await client.post(step, json={"agent_id": agent_id})
        if answer.is_error:
            return f"failed at {step}: {answer.text}"
    endpoints = ", ".join(e["endpoint"] for e in created.json()["agent_endpoints"])
    return f"deployed ({endpoints})"
