"""The OpenAPI documents at their conventional paths, without a key (issue 27.7): each served
document at its file name, the YAML as in the repository and the same document as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = ["openapi.yaml", "openapi-v1.yaml", "mock-openapi.yaml"]


@pytest.fixture
def keyed_mock(runagents_mock_factory):
    return runagents_mock_factory(api_keys=["only-this-key"], admin_key="admin")


@pytest.mark.parametrize("file_name", DOCUMENTS)
def test_each_document_is_served_at_its_file_name_without_a_key(keyed_mock, file_name):
    as_yaml = requests.get(f"{keyed_mock.url}/{file_name}", timeout=10)
    assert as_yaml.status_code == 200 and as_yaml.headers["Content-Type"] == "application/yaml"
    assert as_yaml.content == (REPO / file_name).read_bytes()

    as_json = requests.get(f"{keyed_mock.url}/{file_name.removesuffix('.yaml')}.json", timeout=10)
    assert as_json.status_code == 200 and as_json.headers["Content-Type"] == "application/json"
    assert as_json.json() == json.loads(json.dumps(yaml.safe_load(as_yaml.content), default=str))


def test_other_names_at_the_root_still_need_a_key(keyed_mock):
    for path in ("/openapi.yml", "/nothing.json", "/openapi.json/x"):
        response = requests.get(keyed_mock.url + path, timeout=10)
        assert response.status_code == 401, path
