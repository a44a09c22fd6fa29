"""The Dagster UI the auditors use loads: webserver on localhost serves the asset graph."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The code location loads the dbt assets from dbt/target/manifest.json.
pytestmark = pytest.mark.usefixtures("dbt_manifest")
STARTUP_TIMEOUT_S = 180
QUERY = """
{
  workspaceOrError { ... on Workspace { locationEntries { name
    locationOrLoadError { __typename ... on PythonError { message } } } } }
  assetNodes { assetKey { path } }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def wait_until_served(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "le serveur Dagster s'est arrêté au démarrage"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"webserver not up after {STARTUP_TIMEOUT_S} s")


def test_webserver_serves_the_asset_graph(tmp_path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "FLUX_DATA_DIR": str(tmp_path / "data")}
    webserver = Path(sys.executable).parent / "dagster-webserver"
    process = subprocess.Popen(
        [str(webserver), "-m", "dagster_project.definitions", "-h", "127.0.0.1",
         "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_served(port, process)
        data = graphql(port, QUERY)["data"]
        (location,) = data["workspaceOrError"]["locationEntries"]
        assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation", location
        keys = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
        assert {"raw/tours", "mart_flux", "published_marts", "campaign_summary"} <= keys
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/asset-groups", timeout=30) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
