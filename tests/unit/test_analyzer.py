"""Unit tests for the static source analyzer behind /analyze and /requirements."""

import json
from pathlib import Path

import pytest
from api_support import DOC_ANALYZE_EXAMPLE

from mockserver.services.ingestion.analyzer import (
    analyze,
    detect_requirements,
    find_syntax_error,
    provider_for_model,
    shannon_entropy,
    tool_name_for_host,
)

# The /requirements request example from api/ingestion.md, verbatim.
DOC_REQ_FILES = {
    "agent.py": "from langchain.chat_models import ChatOpenAI\n"
    "from langchain.agents import initialize_agent\nimport requests\n",
    "utils.py": "import pandas as pd\nimport numpy as np\n",
}

RANDOM_B64 = "F0SU1kk8nVw0YL4xIB5p/tqg7ui5mX9c"  # 32 chars, entropy 4.81


@pytest.fixture(scope="module")
def doc_result():
    return analyze({"agent.py": DOC_ANALYZE_EXAMPLE})


def test_result_has_every_documented_field_except_id(doc_result):
    assert set(doc_result) == {
        "tools",
        "model_providers",
        "model_usages",
        "secrets",
        "outbound_destinations",
        "detected_requirements",
        "entry_point",
        "system_prompt_suggestion",
    }


def test_doc_example_tool(doc_result):
    assert doc_result["tools"] == [
        {"name": "stripe-api", "base_url": "https://api.stripe.com", "file": "agent.py", "line": 8}
    ]


def test_doc_example_models(doc_result):
    assert doc_result["model_providers"] == [{"provider": "openai", "model": "gpt-4o"}]
    # `client = openai.OpenAI()` is on line 4 of the example source.
    assert doc_result["model_usages"] == [{"role": "default", "variable_name": "client", "file": "agent.py", "line": 4}]


def test_doc_example_secret(doc_result):
    assert doc_result["secrets"] == [{"type": "api_key", "file": "agent.py", "line": 9, "severity": "high"}]


def test_doc_example_destinations_requirements_entry(doc_result):
    assert doc_result["outbound_destinations"] == ["api.openai.com", "api.stripe.com"]
    assert doc_result["detected_requirements"] == ["openai>=1.0", "requests"]
    assert doc_result["entry_point"] == "agent.py"
    prompt = doc_result["system_prompt_suggestion"]
    assert "stripe-api" in prompt and "gpt-4o" in prompt
    assert prompt == analyze({"agent.py": DOC_ANALYZE_EXAMPLE})["system_prompt_suggestion"]


def test_secret_values_never_leak(doc_result):
    dumped = json.dumps(doc_result)
    assert "sk_live" not in dumped and "abc123" not in dumped
    src = (
        f'A = "{RANDOM_B64}"\n'
        'B = "AKIAIOSFODNN7EXAMPLE"\n'
        'C = "https://user:ghp_abcdefghijklmnopqrstuvwxyz0123@api.github.com/repos"\n'
    )
    dumped = json.dumps(analyze({"x.py": src}))
    for fragment in (RANDOM_B64, "AKIAIOSFODNN7EXAMPLE", "ghp_", "abcdefghijklmnop", "user"):
        assert fragment not in dumped


def test_requirements_doc_example_exact():
    assert detect_requirements(DOC_REQ_FILES) == {
        "requirements": ["langchain", "openai>=1.0", "requests", "pandas", "numpy"],
        "entry_point": "agent.py",
    }
    assert analyze(DOC_REQ_FILES)["detected_requirements"] == [
        "langchain",
        "openai>=1.0",
        "requests",
        "pandas",
        "numpy",
    ]


def test_requirements_mapping_stdlib_local_and_requirements_txt():
    files = {
        "requirements.txt": "# pinned\nopenai==1.30.0\n\nrich  # pretty output\n",
        "main.py": "import os, json\nimport helpers\nfrom . import sibling\n"
        "from fastapi import FastAPI\nimport openai\nimport anthropic\nimport boto3\nimport yaml\n",
        "helpers.py": "import stripe\n",
    }
    assert detect_requirements(files)["requirements"] == [
        "openai==1.30.0",
        "rich",
        "fastapi[standard]",
        "anthropic",
        "boto3",
        "pyyaml",
        "stripe",
    ]


def test_entropy_threshold():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert shannon_entropy(RANDOM_B64) >= 4.5
    low = "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbcccccccc"  # long, no whitespace, low entropy
    near = "pU3KGCUwux1tEyze1iN7LtkeP3Ifyxlx"  # random-looking but 4.48 bits/char
    res = analyze({"a.py": f'X = "{RANDOM_B64}"\nY = "{low}"\nZ = "{near}"\n'})
    assert res["secrets"] == [{"type": "high_entropy_string", "file": "a.py", "line": 1, "severity": "low"}]


def test_secret_patterns_and_multiline_lines():
    src = (
        "import requests\n"  # 1
        "requests.post(\n"  # 2
        "    'https://hooks.slack.com/services/x',\n"  # 3
        "    json={},\n"  # 4
        "    headers={'Authorization':\n"  # 5
        "             'Bearer eyJhbGciOiJIUzI1NiJ9'},\n"  # 6
        ")\n"  # 7
        "K = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'\n"  # 8
        "P = '''-----BEGIN RSA PRIVATE KEY-----\nMIIB\n'''\n"  # 9-11
        "A = 'AKIAIOSFODNN7EXAMPLE'\n"  # 12
        "S = 'xoxb-1234567890-abcdefghij'\n"  # 13
    )
    got = [(s["type"], s["line"], s["severity"]) for s in analyze({"s.py": src})["secrets"]]
    assert got == [
        ("oauth_token", 6, "medium"),
        ("api_key", 8, "medium"),
        ("private_key", 9, "high"),
        ("aws_access_key", 12, "high"),
        ("oauth_token", 13, "high"),
    ]


def test_tool_env_lookups_and_dedupe():
    src = (
        "import os\nfrom os import getenv\n"
        "a = os.environ['TOOL_STRIPE_API_URL']\n"
        "b = os.environ.get('TOOL_GITHUB_URL')\n"
        "c = getenv('TOOL_SLACK_WEBHOOK_URL', '')\n"
        "d = os.getenv('DATABASE_URL')\n"
        "e = 'https://api.stripe.com/v1/customers'\n"
    )
    tools = analyze({"t.py": src})["tools"]
    assert tools == [
        {
            "name": "stripe-api",
            "base_url": "",
            "detected_url_pattern": "TOOL_STRIPE_API_URL",
            "file": "t.py",
            "line": 3,
        },
        {"name": "github", "base_url": "", "detected_url_pattern": "TOOL_GITHUB_URL", "file": "t.py", "line": 4},
        {
            "name": "slack-webhook",
            "base_url": "",
            "detected_url_pattern": "TOOL_SLACK_WEBHOOK_URL",
            "file": "t.py",
            "line": 5,
        },
    ]


def test_url_tools_and_provider_hosts_excluded():
    src = (
        "import anthropic\n"
        "URLS = ['https://api.github.com/repos', 'http://localhost:8080/x',\n"
        "        'https://api.openai.com/v1/chat',\n"
        "        'https://bedrock-runtime.us-east-1.amazonaws.com',\n"
        "        'https://{host}/templated', 'not a url https://x.com']\n"
    )
    res = analyze({"u.py": src})
    assert [(t["name"], t["base_url"], t["line"]) for t in res["tools"]] == [
        ("github-api", "https://api.github.com", 2),
        ("localhost", "http://localhost:8080", 2),
    ]
    assert res["outbound_destinations"] == [
        "api.anthropic.com",
        "api.github.com",
        "api.openai.com",
        "bedrock-runtime.us-east-1.amazonaws.com",
        "localhost",
    ]


def test_tool_name_rule():
    assert tool_name_for_host("api.stripe.com") == "stripe-api"
    assert tool_name_for_host("api.github.com") == "github-api"
    assert tool_name_for_host("hooks.slack.com") == "hooks-slack"
    assert tool_name_for_host("www.example.org") == "example"
    assert tool_name_for_host("10.0.0.1") == "10-0-0-1"


def test_model_providers_and_usages():
    src = (
        "from anthropic import Anthropic\n"
        "from langchain_openai import ChatOpenAI, OpenAIEmbeddings\n"
        "import boto3\n"
        "MODEL = 'claude-3-5-sonnet-20241022'\n"
        "claude = Anthropic()\n"
        "llm = ChatOpenAI(\n    model='gpt-4o-mini',\n)\n"
        "emb = OpenAIEmbeddings(model='text-embedding-3-small')\n"
        "br = boto3.client('bedrock-runtime')\n"
        "claude.messages.create(model=MODEL, max_tokens=5)\n"
        "br.invoke_model(modelId='anthropic.claude-v2')\n"
        "ChatOpenAI(model='gpt-4o-mini')\n"
    )
    res = analyze({"m.py": src})
    assert res["model_providers"] == [
        {"provider": "openai", "model": "gpt-4o-mini"},
        {"provider": "openai", "model": "text-embedding-3-small"},
        {"provider": "anthropic", "model": "claude-3-5-sonnet-20241022"},
        {"provider": "bedrock", "model": "anthropic.claude-v2"},
    ]
    assert [(u["role"], u["variable_name"], u["line"]) for u in res["model_usages"]] == [
        ("default", "claude", 5),
        ("chat", "llm", 6),
        ("embedding", "emb", 9),
        ("default", "br", 10),
    ]
    assert {"api.openai.com", "api.anthropic.com"} <= set(res["outbound_destinations"])


def test_provider_for_model():
    assert provider_for_model("o1-mini") == "openai"
    assert provider_for_model("claude-3-opus") == "anthropic"
    assert provider_for_model("meta.llama3-70b-instruct-v1:0") == "bedrock"
    assert provider_for_model("llama3.1") == "ollama"
    assert provider_for_model("my-finetune") is None


def test_entry_point_rules():
    files = {"x.py": "", "app.py": "", "main.py": ""}
    assert detect_requirements(files)["entry_point"] == "main.py"
    assert detect_requirements({"a.py": "", "b.py": "if __name__ == '__main__':\n    pass\n"})["entry_point"] == "b.py"
    assert detect_requirements({"z.py": "", "y.py": ""})["entry_point"] == "z.py"
    assert detect_requirements({"requirements.txt": "requests\n"})["entry_point"] == ""


def test_find_syntax_error():
    assert find_syntax_error({"agent.py": DOC_ANALYZE_EXAMPLE, "notes.txt": "(((("}) is None
    msg = find_syntax_error({"ok.py": "x = 1\n", "agent.py": "x = 1\ny = 2\ndef f(:\n"})
    assert msg is not None and msg.startswith("agent.py: line 3: ")
    nul = find_syntax_error({"n.py": "a = 1\nb = 2\x00\n"})
    assert nul is not None and nul.startswith("n.py: line 2")


def test_unparsable_files_are_skipped_by_analyze():
    bad = "import stripe\nx = 'https://api.x.com'\ndef ("
    res = analyze({"bad.py": bad, "good.py": "import numpy\n"})
    assert res["tools"] == [] and res["detected_requirements"] == ["numpy"]
    assert res["entry_point"] == "bad.py"


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"": ""},
        {"a.py": "\x00\x00\x00"},
        {"a.py": "(" * 5000},
        {"a.py": "x" + ".a" * 2000 + " = OpenAI()\n"},
        {"a.py": "x = " + "1+" * 100_000 + "1"},
        {"a.py": "x = " + "[" * 300 + "]" * 300},
        {"a.py": "'''unterminated"},
        {"a.py": "\n" * 200_000 + "x = 'https://api.example.com'"},
        {"a.py": "s = '" + "A" * 300_000 + "'"},
        {"a.py": "u = 'https://[::1'\nv = 'http://h:notaport/'\nw = 'https://'\n"},
        {"a.py": "os.environ['TOOL___URL']\nf(model=None)\nf(model='')\nx: int = OpenAI()\n"},
        {"a.py": "\ufeff# bom\nx = '\udcff'\n"},
        {"requirements.txt": "#only comments\n\n"},
        {"a.py": None, 3: "x", "b.py": b"bytes"},
        "not a dict",
        None,
    ],
)
def test_never_raises_on_garbage(files):
    res = analyze(files)
    json.dumps(res)  # always serialisable
    assert isinstance(res["tools"], list) and isinstance(res["entry_point"], str)
    detect_requirements(files)
    find_syntax_error(files)


def test_attribute_target_usage_and_annotated_assignment():
    src = (
        "import openai\n"
        "class Agent:\n"
        "    def __init__(self):\n"
        "        self.client = openai.AsyncOpenAI()\n"
        "embedder: object = openai.OpenAI()\n"
    )
    usages = analyze({"c.py": src})["model_usages"]
    assert [(u["variable_name"], u["line"], u["role"]) for u in usages] == [
        ("self.client", 4, "default"),
        ("embedder", 5, "default"),
    ]


# --- the quickstarts' agent code (tests/fixtures/quickstart_agents/, verbatim from the pages) ---

QUICKSTARTS = Path(__file__).parent.parent / "fixtures" / "quickstart_agents"


def _quickstart_answer(tool_line: int, gateway_line: int) -> dict:
    """What getting-started/api-quickstart.md step 3 shows, with the tool's documented
    base_url field (empty: the URL is only known at run time) and the mock's prompt."""
    return {
        "tools": [
            {
                "name": "echo-tool",
                "base_url": "",
                "detected_url_pattern": "TOOL_ECHO_TOOL_URL",
                "file": "agent.py",
                "line": tool_line,
            }
        ],
        "model_providers": [],
        "model_usages": [
            {
                "role": "default",
                "model": "gpt-4o-mini",
                "variable_name": "LLM_GATEWAY_URL",
                "file": "agent.py",
                "line": gateway_line,
            }
        ],
        "secrets": [],
        "outbound_destinations": [],
        "detected_requirements": [],
        "entry_point": "agent.py",
        "system_prompt_suggestion": "You are a helpful assistant that uses echo-tool.",
    }


@pytest.mark.parametrize(
    "fixture, tool_line, gateway_line",
    [
        ("api_quickstart_curl.py.txt", 10, 20),  # the page's answer, line for line
        ("api_quickstart_python.py.txt", 11, 20),  # the Python tab's copy has a leading blank line and `import os`
        ("cli_quickstart.py.txt", 11, 22),  # no defaults in the lookups
    ],
)
def test_quickstart_agents_get_the_pages_answer(fixture, tool_line, gateway_line):
    source = (QUICKSTARTS / fixture).read_text()
    assert analyze({"agent.py": source}) == _quickstart_answer(tool_line, gateway_line)


def test_platform_variables_defaults_are_neither_tools_nor_destinations():
    src = (
        "import os, requests\n"
        "stripe = os.getenv('TOOL_STRIPE_URL', 'https://api.stripe.com')\n"  # 2
        "model = os.environ.get('LLM_MODEL', 'claude-3-5-haiku')\n"  # 3
        "gw = os.environ['LLM_GATEWAY_URL']\n"  # 4
        "payload = {'model': model, 'messages': []}\n"  # 5
        "requests.post(f'{stripe}/v1/charges')\n"  # 6
        "requests.post(gw + '/v1/chat/completions', json=payload)\n"  # 7
    )
    res = analyze({"a.py": src})
    assert res["tools"] == [
        {"name": "stripe", "base_url": "", "detected_url_pattern": "TOOL_STRIPE_URL", "file": "a.py", "line": 6}
    ]
    assert res["outbound_destinations"] == []
    assert res["model_providers"] == []  # the gateway call's model is the usage's
    assert res["model_usages"] == [
        {"role": "default", "model": "claude-3-5-haiku", "variable_name": "LLM_GATEWAY_URL", "file": "a.py", "line": 7}
    ]


def test_models_in_dicts_and_variables_are_found():
    src = (
        "import requests, os\n"
        "MODEL = 'gpt-4o'\n"
        "def ask(text):\n"
        "    small = 'claude-3-5-haiku-latest'\n"
        "    requests.post('https://api.openai.com/v1/chat/completions', json={'model': MODEL})\n"
        "    body = {'model': small, 'max_tokens': 5}\n"
        "    named = os.getenv('MY_MODEL', 'llama3.1')\n"
        "    return dict(model=named), {'model': 'sk-' + 'x'}, {'model': 'sk-abcdefghijklmnopqrstuvwxyz'}\n"
    )
    assert analyze({"m.py": src})["model_providers"] == [
        {"provider": "openai", "model": "gpt-4o"},
        {"provider": "anthropic", "model": "claude-3-5-haiku-latest"},
        {"provider": "ollama", "model": "llama3.1"},
    ]


def test_an_sdk_client_on_the_gateway_is_one_usage():
    src = (
        "import os, openai\n"
        "client = openai.OpenAI(base_url=os.environ['LLM_GATEWAY_URL'])\n"
        "client.chat.completions.create(model='gpt-4o-mini', messages=[])\n"
    )
    res = analyze({"c.py": src})
    assert res["model_usages"] == [{"role": "default", "variable_name": "client", "file": "c.py", "line": 2}]
    assert res["model_providers"] == [{"provider": "openai", "model": "gpt-4o-mini"}]
