"""VX221: main.py imports a package that no entry of ``requirements`` installs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.validate._imports import requirement_names
from viksa_ai.devtools.validate._validate import manifest_issues

ENDPOINT = """
@mcp_endpoint(description="Search flights")
async def search(payload: Dict[str, Any]) -> Dict[str, Any]:
    return {"flights": [payload.get("source")]}
"""
HEADER = "from typing import Any, Dict\n\nfrom ViksaAI import mcp_endpoint\n"


def manifest(code: str, requirements: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    files = [{"name": "main.py", "content": HEADER + code + ENDPOINT, "mime_type": "python"}]
    files.extend(extra.pop("files", []))
    data: dict[str, Any] = {
        "agent_name": "Flights",
        "agent_description": "Finds flights",
        "files": files,
        "inputs": [{"name": "source", "type": "string"}],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": "search",
                "module": "main",
                "description": "d",
                "inputs": [{"input_ref": "source"}],
            }
        ],
        **extra,
    }
    if requirements is not None:
        data["requirements"] = requirements
    return data


def import_warnings(data: dict[str, Any]) -> list[tuple[str, int | None]]:
    """(message's imported name, line) of every VX221; both validation paths agree."""
    issues = check_agent_manifest(data).issues
    assert manifest_issues(data) == issues
    found = []
    for issue in issues:
        if issue.code == "VX221":
            assert issue.severity == "warning"
            assert issue.file == "main.py"
            found.append((issue.message.split("'")[1], issue.line))
    return found


def test_a_package_missing_from_requirements_is_named_with_its_line() -> None:
    data = manifest("import httpx\nimport pandas as pd\n", ["pandas>=2"])
    assert import_warnings(data) == [("httpx", 4)]
    issue = next(i for i in check_agent_manifest(data).issues if i.code == "VX221")
    assert "add 'httpx' to requirements" in issue.message
    assert "fails there even where it works locally" in issue.message
    assert check_agent_manifest(data).ok  # a warning: the agent still validates


def test_the_usual_agent_has_no_warning() -> None:
    code = "import os\nimport json, re\nfrom collections import defaultdict\nimport httpx\n"
    assert import_warnings(manifest(code, ["httpx"])) == []
    assert import_warnings(manifest("")) == []  # only the standard library and ViksaAI


@pytest.mark.parametrize(
    ("code", "requirement"),
    [
        ("import yaml", "PyYAML==6.0"),
        ("from PIL import Image", "Pillow"),
        ("import typing_extensions", "typing-extensions"),
        ("from google.cloud import storage", "google-cloud-storage"),
        ("import dateutil.parser", "python-dateutil"),
        ("import psycopg2", "psycopg2-binary"),
        ("import jwt", "PyJWT>=2"),
        ("import cv2", "opencv-python-headless"),
        ("import sklearn", "scikit-learn ; python_version >= '3.10'"),
        ("import bs4", "beautifulsoup4[lxml]"),
        ("import requests", "requests (>=2.0)"),
        ("import foo", "git+https://example.invalid/foo.git@v1#egg=foo"),
        ("import Foo_Bar", "foo.bar"),
        ("from viksa_ai.client import ViksaClient", "viksa-client"),
        ("from viksa_ai import client", "viksa-ai"),
        ("from viksa_ai import models", "viksa-client"),
    ],
)
def test_a_requirement_provides_its_import_under_its_usual_names(
    code: str, requirement: str
) -> None:
    assert import_warnings(manifest(code + "\n", [requirement])) == []


def test_the_runtime_the_agents_files_and_relative_imports_need_no_requirement() -> None:
    code = (
        "import ViksaAI\nimport viksa_ai.runtime\nfrom viksa_ai.runtime import context\n"
        "from viksa_ai import runtime\nimport helpers.text\nimport utils\nfrom . import x\n"
    )
    files = [
        {"name": "utils.py", "content": "", "mime_type": "python"},
        {"name": "helpers/text.py", "content": "", "mime_type": "python"},
    ]
    assert import_warnings(manifest(code, [], files=files)) == []


def test_viksa_packages_other_than_the_runtime_need_their_distribution() -> None:
    code = "from viksa_ai.client import ViksaClient\nfrom viksa_ai import models\n"
    assert import_warnings(manifest(code, [])) == [
        ("viksa_ai.client", 4),
        ("viksa_ai.models", 5),
    ]
    issue = next(i for i in check_agent_manifest(manifest(code)).issues if i.code == "VX221")
    assert "add 'viksa-client' to requirements" in issue.message


def test_the_decorator_from_viksa_ai_itself_needs_the_meta_package() -> None:
    # viksa_ai/__init__.py ships in viksa-ai only: a worker's viksa_ai is a namespace.
    data = manifest("from viksa_ai import mcp_endpoint as ep\n", [])
    assert import_warnings(data) == [("viksa_ai", 4)]
    issue = next(i for i in check_agent_manifest(data).issues if i.code == "VX221")
    assert "add 'viksa-ai' to requirements" in issue.message
    assert import_warnings(manifest("from viksa_ai import mcp_endpoint\n", ["viksa-ai"])) == []


def test_imports_inside_functions_and_blocks_are_found_once_per_package() -> None:
    code = (
        "import numpy\n"
        "def helper():\n    import numpy as np\n    from numpy import linalg\n"
        "    if True:\n        for _ in ():\n            import scipy\n"
        "class Tools:\n    def run(self):\n        with open('x'):\n            import polars\n"
    )
    assert import_warnings(manifest(code, [])) == [
        ("numpy", 4),
        ("scipy", 10),
        ("polars", 14),
    ]


def test_optional_and_type_checking_imports_are_left_out() -> None:
    code = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import pandas\nelse:\n    import polars\n"
        "try:\n    import orjson\nexcept ImportError:\n    orjson = None\n"
        "try:\n    import ujson\nexcept (ValueError, ModuleNotFoundError):\n    ujson = None\n"
        "try:\n    import simplejson\nexcept:\n    simplejson = None\n"
        "try:\n    import rich\nexcept ValueError:\n    pass\n"
        "def f():\n    try:\n        import msgpack\n    except Exception:\n        return None\n"
    )
    assert [name for name, _ in import_warnings(manifest(code, []))] == ["polars", "rich"]


@pytest.mark.parametrize(
    "unknown", ["./libs/tool", "-r requirements.txt", "https://example.invalid/x.whl", "~/x"]
)
def test_a_requirement_that_names_no_package_silences_the_rule(unknown: str) -> None:
    assert import_warnings(manifest("import httpx\n", [unknown])) == []


def test_requirements_that_are_not_a_list_of_strings_leave_the_rule_to_the_structure() -> None:
    issues = check_agent_manifest(manifest("import httpx\n", [1, "x"])).issues
    assert [issue.code for issue in issues] == ["VX003"]


def test_comments_and_blank_entries_are_skipped() -> None:
    assert requirement_names(["", "  ", "# tools", "httpx  # client"]) == frozenset({"httpx"})


_NAME = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9])?", fullmatch=True)
_SPEC = st.sampled_from(["", ">=1", "==2.0.1", "[extra]", "[a,b]>=1; python_version>'3'", " @ x"])


@settings(database=None, derandomize=True, max_examples=300)
@given(_NAME, _SPEC)
def test_a_pep_508_requirement_is_read_as_its_normalized_name(name: str, spec: str) -> None:
    names = requirement_names([name + spec])
    assert names is not None
    (read,) = names
    assert read == read.lower()
    assert not set(read) & {"_", "."}
    assert "--" not in read
    assert read.replace("-", "") == "".join(c for c in name.lower() if c not in "-_.")


@settings(database=None, derandomize=True, max_examples=300)
@given(st.lists(st.text(max_size=40), max_size=5))
def test_any_requirement_text_reads_without_raising(entries: list[str]) -> None:
    names = requirement_names(entries)
    assert names is None or all(names)


@pytest.mark.parametrize(
    "code",
    [
        "import sys\nif sys.version_info >= (3, 11):\n    import tomllib\n"
        "else:\n    import tomli as tomllib\n",
        "import sys\nif sys.platform == 'win32':\n    import win32api\n",
        "from sys import platform\nif platform.startswith('darwin'):\n    import AppKit\n",
        "import os\nif os.name == 'nt':\n    import msvcrt\nelse:\n    import pexpect\n",
        "import importlib.util\nif importlib.util.find_spec('orjson'):\n    import orjson\n",
        "import contextlib\nwith contextlib.suppress(ImportError):\n    import orjson\n",
        "from contextlib import suppress\nwith suppress(ModuleNotFoundError, ValueError):\n"
        "    import orjson\n",
    ],
)
def test_imports_that_depend_on_the_interpreter_or_platform_are_left_out(code: str) -> None:
    assert import_warnings(manifest(code, [])) == []


def test_an_if_on_anything_else_and_a_with_of_anything_else_are_still_read() -> None:
    code = (
        "import os\nif os.environ.get('X'):\n    import polars\n"
        "with open('x'):\n    import rich\n"
        "from contextlib import suppress\nwith suppress(ValueError):\n    import orjson\n"
        "if __name__ != '__main__':\n    import attrs\n"
    )
    assert [name for name, _ in import_warnings(manifest(code, []))] == [
        "polars",
        "rich",
        "orjson",
        "attrs",
    ]


@pytest.mark.parametrize(
    ("code", "requirement"),
    [
        ("from google.protobuf import json_format", "protobuf"),
        ("import googleapiclient.discovery", "google-api-python-client"),
        ("import bson", "pymongo"),
    ],
)
def test_packages_known_under_another_name_provide_their_import(
    code: str, requirement: str
) -> None:
    assert import_warnings(manifest(code + "\n", [requirement])) == []


@pytest.mark.parametrize(
    ("code", "shown", "package"),
    [
        ("from google.cloud import storage", "google.cloud.storage", "google-cloud-storage"),
        ("import google.cloud.bigquery.client", "google.cloud.bigquery", "google-cloud-bigquery"),
        ("from google.auth import default", "google.auth", "google-auth"),
        ("from azure.storage.blob import BlobClient", "azure.storage.blob", "azure-storage-blob"),
        ("from azure.identity import DefaultAzureCredential", "azure.identity", "azure-identity"),
    ],
)
def test_a_namespace_package_is_named_by_its_own_module(
    code: str, shown: str, package: str
) -> None:
    data = manifest(code + "\n", [])
    assert import_warnings(data) == [(shown, 4)]
    issue = next(i for i in check_agent_manifest(data).issues if i.code == "VX221")
    assert f"add {package!r} to requirements" in issue.message
    assert import_warnings(manifest(code + "\n", [package])) == []


def test_each_package_of_a_namespace_is_named_once() -> None:
    code = "from google.cloud import storage, bigquery\nfrom google.cloud import storage as s\n"
    assert import_warnings(manifest(code, [])) == [
        ("google.cloud.storage", 4),
        ("google.cloud.bigquery", 4),
    ]
