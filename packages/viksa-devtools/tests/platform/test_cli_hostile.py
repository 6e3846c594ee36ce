"""The CLI against hostile input, with a real ``viksa dev --memory`` where a platform is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from viksa_ai.client import ViksaSyncClient
from viksa_ai.devtools.platform import DEFAULT_EMAIL, DEFAULT_PASSWORD


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


def test_login_never_prints_the_password_of_a_base_url(dev_server: str, tmp_path: Path) -> None:
    # A platform behind a proxy that wants basic auth: the password is in the URL. The
    # client refuses such a URL (the user info would replace the key it sends), and the
    # refusal does not quote the password.
    with ViksaSyncClient.from_login(DEFAULT_EMAIL, DEFAULT_PASSWORD, base_url=dev_server) as client:
        key = client.auth.create_api_key("rt-cli")["key"]
    with_password = dev_server.replace("http://", "http://ci:pr0xy-pa55@")
    argv = ("login", "--base-url", with_password, "--api-key", "-")
    login = viksa(tmp_path, *argv, stdin=key + "\n")
    assert login.returncode == 2, login.stderr
    assert "must not hold a user name or password" in login.stderr
    assert "pr0xy-pa55" not in login.stdout + login.stderr
    assert key not in login.stdout + login.stderr
