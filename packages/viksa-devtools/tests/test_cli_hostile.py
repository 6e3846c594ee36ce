"""The CLI against hostile input, with a real ``viksa dev --memory`` where a platform is needed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_BANNER_LINES = 40  # bounds the read of the start banner


@dataclass(frozen=True)
class DevPlatform:
    base_url: str
    api_key: str


@pytest.fixture
def dev_platform(tmp_path: Path) -> Iterator[DevPlatform]:
    """A real ``viksa dev --memory`` on a free 127.0.0.1 port, stopped after the test."""
    command = [sys.executable, "-m", "viksa_ai.devtools.cli", "dev", "--memory", "--port", "0"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "VIKSA_CONFIG_DIR": str(tmp_path / "dev-config")},
    )
    assert process.stdout is not None
    try:
        found: dict[str, str] = {}
        for _ in range(_BANNER_LINES):
            name, _, value = process.stdout.readline().strip().partition("=")
            if name in ("export VIKSA_BASE_URL", "export VIKSA_API_KEY"):
                found[name] = value
            if len(found) == 2:
                break
        base_url = found["export VIKSA_BASE_URL"]
        port = int(base_url.rsplit(":", 1)[1])
        for _ in range(200):  # the banner comes just before uvicorn serves
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield DevPlatform(base_url, found["export VIKSA_API_KEY"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        process.stdout.close()


def viksa(tmp_path: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``viksa ARGV`` in a clean environment whose config dir is under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIKSA_")}
    env["VIKSA_CONFIG_DIR"] = str(tmp_path / "config")
    return subprocess.run(
        [sys.executable, "-m", "viksa_ai.devtools.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_login_never_prints_the_password_of_a_base_url(
    dev_platform: DevPlatform, tmp_path: Path
) -> None:
    # A platform behind a proxy that wants basic auth: the password is in the URL.
    with_password = dev_platform.base_url.replace("http://", "http://ci:pr0xy-pa55@")
    login = viksa(
        tmp_path, "login", "--base-url", with_password, "--api-key", "-", stdin=dev_platform.api_key
    )
    assert login.returncode == 0, login.stderr
    assert login.stdout.startswith(f"Logged in to {dev_platform.base_url} (org ")
    assert "pr0xy-pa55" not in login.stdout + login.stderr
