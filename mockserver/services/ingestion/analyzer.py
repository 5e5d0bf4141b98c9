"""Deterministic static analysis of agent source code (mock of the ingestion base layer).

Only the standard library is used and nothing touches the network, so the same
input always yields the same result. Every public function tolerates arbitrary
input: files that do not parse are skipped instead of raising.
"""

from __future__ import annotations

import ast
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypedDict, TypeVar
from urllib.parse import urlsplit

ENTROPY_THRESHOLD = 4.5  # bits per character, as documented
ENTROPY_MIN_LENGTH = 16

# Hosts of LLM APIs: they are reported as destinations but never as tools.
PROVIDER_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}
_MODEL_KEYWORDS = ("model", "model_name", "model_id", "modelId")

# Ordered: the first matching pattern decides type/severity, so a live Stripe key
# wrapped in "Bearer ..." is reported as a high-severity api_key, not a bearer token.
_SECRET_PATTERNS = [
    (re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----"), "private_key", "high"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "aws_access_key", "high"),
    (re.compile(r"\b[sr]k_live_[0-9A-Za-z]{4,}"), "api_key", "high"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "api_key", "high"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})"), "oauth_token", "high"),
    (re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}"), "oauth_token", "high"),
    (re.compile(r"\b[sr]k_test_[0-9A-Za-z]{4,}"), "api_key", "medium"),
    (re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"), "oauth_token", "medium"),
]

_URL_RE = re.compile(r"https?://\S+\Z", re.IGNORECASE)
_HOST_RE = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\Z")
_ENV_TOOL_RE = re.compile(r"TOOL_([A-Za-z0-9_]+)_URL\Z")
# Variables the platform sets in every agent (api/deploy.md): their defaults in the code are
# in-cluster fallbacks, so neither tools nor outbound destinations.
_PLATFORM_ENV_RE = re.compile(r"(TOOL_[A-Za-z0-9_]+_URL|LLM_GATEWAY_URL|LLM_MODEL\w*|LLM_PROVIDER\w*)\Z")
GATEWAY_ENV = "LLM_GATEWAY_URL"
# Statements that hold other statements: a "use" is looked for in the simple ones only.
_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
)
# [ \t]* rather than \s* keeps this linear on files with many blank lines.
_MAIN_RE = re.compile(r"""^[ \t]*if[ \t]+__name__[ \t]*==[ \t]*['"]__main__['"]""", re.MULTILINE)

# Constructors that create an LLM client; the assigned variable becomes a model usage.
_CLIENT_CLASSES = {
    "OpenAI",
    "AsyncOpenAI",
    "AzureOpenAI",
    "AsyncAzureOpenAI",
    "Anthropic",
    "AsyncAnthropic",
    "AnthropicBedrock",
    "ChatOpenAI",
    "AzureChatOpenAI",
    "ChatAnthropic",
    "ChatOllama",
    "ChatBedrock",
    "ChatBedrockConverse",
    "OpenAIEmbeddings",
    "AzureOpenAIEmbeddings",
    "OllamaEmbeddings",
    "BedrockEmbeddings",
    "Ollama",
}
# Import root / class-name fragment -> provider, used when the model name is not recognised.
_SDK_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "boto3": "bedrock",
    "ollama": "ollama",
    "langchain_openai": "openai",
    "langchain_anthropic": "anthropic",
    "langchain_ollama": "ollama",
    "langchain_aws": "bedrock",
}
_CLASS_PROVIDERS = (("OpenAI", "openai"), ("Anthropic", "anthropic"), ("Ollama", "ollama"), ("Bedrock", "bedrock"))

# Import -> pip requirement(s). Keys are a top-level module or a two-part dotted name.
_REQUIREMENTS = {
    "openai": ["openai>=1.0"],
    "langchain": ["langchain"],
    "anthropic": ["anthropic"],
    "requests": ["requests"],
    "stripe": ["stripe"],
    "boto3": ["boto3"],
    "fastapi": ["fastapi[standard]"],
    "pandas": ["pandas"],
    "numpy": ["numpy"],
    "httpx": ["httpx"],
    "langgraph": ["langgraph"],
    "flask": ["flask"],
    "langchain_openai": ["langchain-openai", "openai>=1.0"],
    "langchain_anthropic": ["langchain-anthropic", "anthropic"],
    "langchain_community": ["langchain-community"],
    "langchain_core": ["langchain-core"],
    "yaml": ["pyyaml"],
    "sklearn": ["scikit-learn"],
    "PIL": ["pillow"],
    "bs4": ["beautifulsoup4"],
    "dotenv": ["python-dotenv"],
    "cv2": ["opencv-python"],
    "google.generativeai": ["google-generativeai"],
    "google.genai": ["google-genai"],
    "google": [],  # namespace package: the pip name cannot be guessed from "google" alone
}
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}


def shannon_entropy(s: str) -> float:
    """Bits of Shannon entropy per character of `s` (0.0 for an empty string)."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _items(files: object) -> list[tuple[str, str]]:
    # Callers get JSON from the wire; silently drop anything that is not str -> str.
    if not isinstance(files, dict):
        return []
    return [(k, v) for k, v in files.items() if isinstance(k, str) and isinstance(v, str)]


def _parse(src: str) -> ast.Module | None:
    try:
        return ast.parse(src)
    except Exception:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        return None


# The nodes that carry a position (``lineno``, ``col_offset``) in Python's grammar. (3.12's
# type parameters do too; the scan reads none of them.)
Located = ast.stmt | ast.expr | ast.excepthandler | ast.arg | ast.keyword | ast.alias | ast.pattern
_LOCATED = (ast.stmt, ast.expr, ast.excepthandler, ast.arg, ast.keyword, ast.alias, ast.pattern)


class _PlatformEnv(TypedDict):
    """What ``_platform_env`` finds (see there)."""

    lookups: dict[int, tuple[ast.AST, str, ast.AST | None]]  # id(lookup) -> (lookup, variable, default)
    defaults: set[int]
    first_use: dict[int, ast.expr]
    gateway: list[tuple[ast.stmt, ast.expr]]


class _Findings(TypedDict):
    """What the scan of every file gathers; ``analyze`` turns it into the documented result."""

    tools: list[dict[str, Any]]  # the result's items, as the document's Analysis names them
    models: list[dict[str, str]]
    usages: list[dict[str, Any]]
    secrets: list[dict[str, Any]]
    hosts: set[str]
    sdk_providers: list[str]


class Requirements(TypedDict):
    requirements: list[str]
    entry_point: str


_T = TypeVar("_T")


def _positioned(tree: ast.AST) -> list[Located]:
    # ast.walk is breadth-first; sort so "first occurrence" means first in the source.
    nodes = [n for n in ast.walk(tree) if isinstance(n, _LOCATED)]
    return sorted(nodes, key=lambda n: (n.lineno, n.col_offset))


def _call_name(func: ast.AST | None) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _str_const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _parse_url(s: str) -> tuple[str, str] | None:
    """Return (host, base_url) for a literal that is exactly an http(s) URL."""
    s = s.strip()
    if not _URL_RE.match(s):
        return None
    try:
        parts = urlsplit(s)
        host, port = (parts.hostname or ""), parts.port
    except ValueError:  # bad IPv6 brackets or a non-numeric port
        return None
    if not _HOST_RE.match(host):  # rejects templates like "https://{host}/x"
        return None
    # hostname/port only, so credentials embedded as user:pass@ never leak out.
    return host, f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def tool_name_for_host(host: str) -> str:
    """api.stripe.com -> stripe-api, www.example.org -> example, hooks.slack.com -> hooks-slack.

    Drop a leading "api."/"www." label and the TLD, join the remaining labels with "-",
    and append "-api" when an "api." label was dropped. IP addresses keep every label.
    """
    labels = host.lower().split(".")
    is_api = False
    if len(labels) > 2 and labels[0] in ("api", "www"):
        is_api = labels[0] == "api"
        labels = labels[1:]
    if len(labels) > 1 and not labels[-1].isdigit():
        labels = labels[:-1]
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(labels)).strip("-") or "tool"
    return name + "-api" if is_api else name


def _is_llm_host(host: str) -> bool:
    return host in PROVIDER_HOSTS.values() or host.startswith("bedrock-runtime.")


def _env_lookup(node: ast.AST) -> tuple[str, ast.AST | None] | None:
    """(name, default) for os.environ["X"], os.environ.get("X", default) or os.getenv("X", default)."""
    if isinstance(node, ast.Subscript) and _call_name(node.value) == "environ":
        key = _str_const(node.slice)
        return (key, None) if key else None
    if isinstance(node, ast.Call) and node.args and _call_name(node.func) in ("get", "getenv"):
        key = _str_const(node.args[0])
        default = (
            node.args[1]
            if len(node.args) > 1
            else next((kw.value for kw in node.keywords if kw.arg == "default"), None)
        )
        return (key, default) if key else None
    return None


def _env_tool(key: str) -> str | None:
    """Tool name for the TOOL_<NAME>_URL variable the platform sets for each required tool."""
    m = _ENV_TOOL_RE.match(key)
    if not m or not key.startswith("TOOL_"):
        return None
    return re.sub(r"-+", "-", m.group(1).lower().replace("_", "-")).strip("-") or None


def _classify_secret(s: str, is_url: bool) -> tuple[str, str] | None:
    for pattern, kind, severity in _SECRET_PATTERNS:
        if pattern.search(s):
            return kind, severity
    # URLs are long and varied by nature; they are reported as tools, not secrets.
    if (
        not is_url
        and len(s) >= ENTROPY_MIN_LENGTH
        and not any(c.isspace() for c in s)
        and shannon_entropy(s) >= ENTROPY_THRESHOLD
    ):
        return "high_entropy_string", "low"
    return None


def provider_for_model(model: str) -> str | None:
    """Infer the provider from a model identifier; None when the name is not recognised."""
    m = model.strip().lower()
    if m.startswith(("us.", "eu.", "apac.")):  # Bedrock cross-region inference profiles
        m = m.split(".", 1)[1]
    if m.startswith(("anthropic.", "amazon.", "meta.", "cohere.", "ai21.", "mistral.")):
        return "bedrock"
    if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-")):
        return "openai"
    if m.startswith("claude-"):
        return "anthropic"
    if m.startswith(("llama", "mistral", "codellama")):
        return "ollama"
    return None


def _class_provider(name: str) -> str | None:
    return next((p for frag, p in _CLASS_PROVIDERS if frag in name), None)


def _imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, imported names) in source order; relative imports are local, so skipped."""
    out: list[tuple[str, list[str]]] = []
    for node in _positioned(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.module, [a.name for a in node.names]))
    return out


def _sdk_providers(imports: list[tuple[str, list[str]]]) -> list[str]:
    found = []
    for module, names in imports:
        candidates = [_SDK_PROVIDERS.get(module.split(".")[0])]
        candidates += [_class_provider(n) for n in names] if module.startswith("langchain") else []
        found += [p for p in candidates if p and p not in found]
    return found


def _value(node: ast.AST, consts: dict[str, str]) -> str | None:
    """A string literal, or a variable assigned one (``MODEL = "gpt-4o"``) anywhere in the file."""
    return consts.get(node.id) if isinstance(node, ast.Name) else _str_const(node)


def _model_kw(call: ast.Call, consts: dict[str, str]) -> str | None:
    for kw in call.keywords:
        if kw.arg in _MODEL_KEYWORDS:
            return _value(kw.value, consts)
    return None


def _model_of(node: ast.AST, consts: dict[str, str]) -> str | None:
    """The model named by a call's ``model=`` or a dict's ``"model"`` key (a request payload)."""
    if isinstance(node, ast.Call):
        return _model_kw(node, consts)
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if key is not None and _str_const(key) in _MODEL_KEYWORDS:
                return _value(value, consts)
    return None


def _assigned(nodes: Sequence[ast.AST]) -> list[tuple[str, ast.AST]]:
    """(variable, value) of every ``name = value`` in source order."""
    return [
        (n.targets[0].id, n.value)
        for n in nodes
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
    ]


def _constants(assigned: list[tuple[str, ast.AST]]) -> dict[str, str]:
    """Variables whose text is known: a string literal, or an environment lookup's string
    default (``os.environ.get("LLM_MODEL", "gpt-4o-mini")``). The first assignment wins."""
    consts: dict[str, str] = {}
    for var, value in assigned:
        lookup = _env_lookup(value)
        text = _str_const(lookup[1]) if lookup and lookup[1] is not None else _str_const(value)
        if text is not None:
            consts.setdefault(var, text)
    return consts


def _platform_env(nodes: Sequence[ast.AST], assigned_values: list[tuple[str, ast.AST]]) -> _PlatformEnv:
    """Where the code reads the variables the platform sets, and where it uses them.

    ``defaults``: ids of the fallback literals of those lookups (never tools or destinations);
    ``first_use``: id of a lookup -> the first node using it (the variable it was assigned to,
    else the lookup itself); ``gateway``: the simple statements using LLM_GATEWAY_URL, with
    the lookup each one uses.
    """
    lookups = {id(n): (n, *found) for n in nodes if (found := _env_lookup(n)) and _PLATFORM_ENV_RE.match(found[0])}
    defaults = {id(d) for _n, _k, d in lookups.values() if d is not None}
    assigned: dict[str, int] = {}  # variable -> id of the lookup it holds
    for var, value in assigned_values:
        if id(value) in lookups:
            assigned.setdefault(var, id(value))
    first_use: dict[int, ast.expr] = {}
    gateway: dict[int, tuple[ast.stmt, ast.expr]] = {}  # id(statement) -> (statement, first use in it)
    for stmt in (n for n in nodes if isinstance(n, ast.stmt) and not isinstance(n, _COMPOUND)):
        for node in ast.walk(stmt):
            if not isinstance(node, ast.expr):  # a name or a lookup (a subscript or a call)
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in assigned:
                lookup_id = assigned[node.id]
            elif id(node) in lookups and not (isinstance(stmt, ast.Assign) and stmt.value is node):
                lookup_id = id(node)
            else:
                continue
            if lookup_id not in first_use or node.lineno < first_use[lookup_id].lineno:
                first_use[lookup_id] = node
            if lookups[lookup_id][1] == GATEWAY_ENV:
                gateway.setdefault(id(stmt), (stmt, node))
    return {"lookups": lookups, "defaults": defaults, "first_use": first_use, "gateway": list(gateway.values())}


def _gateway_usages(
    name: str, env: _PlatformEnv, consts: dict[str, str], assigned: list[tuple[str, ast.AST]], acc: _Findings
) -> set[int]:
    """One ``default`` model usage per statement calling the LLM gateway (the API quickstart's
    answer: ``variable_name`` is the variable, the model is the one in the request payload,
    written in the call or in a dict assigned before). Answers the ids of the nodes whose
    models belong to these calls rather than to model_providers."""
    payloads: dict[str, tuple[list[ast.AST], str | None]] = {}  # dict variable -> (its nodes, its model)
    for var, value in assigned:
        if isinstance(value, ast.Dict) and var not in payloads:
            inner = list(ast.walk(value))
            payloads[var] = (inner, next((m for n in inner if (m := _model_of(n, consts))), None))
    claimed: set[int] = set()
    for stmt, use in env["gateway"]:
        if isinstance(stmt, ast.Assign) and _call_name(getattr(stmt.value, "func", None)) in _CLIENT_CLASSES:
            continue  # OpenAI(base_url=gateway): the client's own usage already says it
        inner = list(ast.walk(stmt))
        models = [m for n in inner if (m := _model_of(n, consts))]
        claimed.update(map(id, inner))
        for n in inner:
            if isinstance(n, ast.Name) and n.id in payloads:
                claimed.update(map(id, payloads[n.id][0]))
                payload_model = payloads[n.id][1]
                models += [payload_model] if payload_model else []
        model = next((m for m in models if m.strip() and not _classify_secret(m, False)), None)
        # Like model_providers, never a "model" that looks like a credential.
        acc["usages"].append(
            {
                "role": "default",
                **({"model": model} if model else {}),
                "variable_name": GATEWAY_ENV,
                "file": name,
                "line": use.lineno,
            }
        )
    return claimed


def _target_name(node: ast.AST) -> str | None:
    """Dotted name of an assignment target (e.g. self.client); iterative to survive deep chains."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(attrs)]) if isinstance(node, ast.Name) else None


def _scan_file(name: str, tree: ast.Module, acc: _Findings) -> None:
    sdk = _sdk_providers(_imports(tree))
    acc["sdk_providers"].extend(p for p in sdk if p not in acc["sdk_providers"])
    nodes = _positioned(tree)
    assigned = _assigned(nodes)
    consts = _constants(assigned)
    env = _platform_env(nodes, assigned)
    first_usage = len(acc["usages"])
    gateway_nodes = _gateway_usages(name, env, consts, assigned, acc)
    for node in nodes:
        text = _str_const(node)
        if text is not None:
            url = None if id(node) in env["defaults"] else _parse_url(text)
            if url:
                acc["hosts"].add(url[0])
                if not _is_llm_host(url[0]):
                    acc["tools"].append(
                        {"name": tool_name_for_host(url[0]), "base_url": url[1], "file": name, "line": node.lineno}
                    )
            secret = _classify_secret(text, url is not None)
            if secret:  # only the classification is kept, never the literal itself
                acc["secrets"].append({"type": secret[0], "file": name, "line": node.lineno, "severity": secret[1]})
            continue
        lookup = env["lookups"].get(id(node))
        env_tool = _env_tool(lookup[1]) if lookup else None
        if lookup and env_tool:  # the URL is only known at run time; the line is where the code uses it
            use = env["first_use"].get(id(node), node)
            acc["tools"].append(
                {"name": env_tool, "base_url": "", "detected_url_pattern": lookup[1], "file": name, "line": use.lineno}
            )
        if isinstance(node, (ast.Call, ast.Dict)) and id(node) not in gateway_nodes:
            model = _model_of(node, consts)
            # A "model" that looks like a credential is dropped so it cannot leak via the result.
            if model and model.strip() and not _classify_secret(model, False):
                provider = (
                    provider_for_model(model)
                    or _class_provider(_call_name(getattr(node, "func", None)))
                    or (sdk[0] if sdk else "unknown")
                )
                acc["models"].append({"provider": provider, "model": model})
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            _model_usage(node, node.value, name, consts, acc)
    acc["usages"][first_usage:] = sorted(acc["usages"][first_usage:], key=lambda u: u["line"])


def _model_usage(
    node: ast.Assign | ast.AnnAssign, call: ast.Call, name: str, consts: dict[str, str], acc: _Findings
) -> None:
    """A model client assigned to a variable (``call`` is ``node``'s value)."""
    cls = _call_name(call.func)
    first_arg = _str_const(call.args[0]) if call.args else None
    is_bedrock = cls == "client" and first_arg == "bedrock-runtime"  # boto3 Bedrock client
    if cls not in _CLIENT_CLASSES and not is_bedrock:
        return
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    var = next((v for v in map(_target_name, targets) if v), None)
    if not var:
        return
    model = (_model_kw(call, consts) or "").lower()
    role = (
        "embedding"
        if "embed" in cls.lower() or "embed" in model
        else "chat"
        if cls.startswith(("Chat", "AzureChat"))
        else "default"
    )
    acc["usages"].append({"role": role, "variable_name": var, "file": name, "line": node.lineno})


def _local_modules(names: list[str]) -> set[str]:
    # Directories and .py stems of the uploaded files shadow any PyPI package name.
    parts = [n.replace("\\", "/").split("/") for n in names]
    return {d for p in parts for d in p[:-1] if d} | {p[-1][:-3] for p in parts if p[-1].endswith(".py")}


def _req_key(req: str) -> str:
    # Compare by normalised distribution name so "openai==1.3" covers "openai>=1.0".
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else req


def _requirements(items: list[tuple[str, str]], trees: dict[str, ast.Module | None]) -> list[str]:
    reqs: list[str] = []
    for fname, src in items:  # an explicit requirements.txt always comes first
        if fname.replace("\\", "/").rsplit("/", 1)[-1] == "requirements.txt":
            for line in src.splitlines():
                line = line.split(" #", 1)[0].strip()
                if line and not line.startswith("#") and line not in reqs:
                    reqs.append(line)
    seen = {_req_key(r) for r in reqs}
    local = _local_modules([n for n, _ in items])
    for fname, _src in items:
        tree = trees.get(fname)
        for module, names in _imports(tree) if tree else []:
            parts = module.split(".")
            if parts[0] in _STDLIB or parts[0] in local:
                continue
            found = _REQUIREMENTS.get(".".join(parts[:2]), _REQUIREMENTS.get(parts[0], [parts[0]]))
            if parts[0].startswith("langchain"):  # e.g. langchain.chat_models.ChatOpenAI
                sdk_reqs = {"openai": "openai>=1.0", "anthropic": "anthropic"}
                found = found + [sdk_reqs[p] for p in map(_class_provider, names) if p in sdk_reqs]
            for req in found:
                if _req_key(req) not in seen:
                    seen.add(_req_key(req))
                    reqs.append(req)
    return reqs


def _entry_point(items: list[tuple[str, str]]) -> str:
    py = [(n, s) for n, s in items if n.endswith(".py")]
    for cand in ("agent.py", "main.py", "app.py"):
        hits = [n for n, _ in py if n == cand or n.replace("\\", "/").endswith("/" + cand)]
        if hits:
            return min(hits, key=lambda n: n.count("/"))  # shallowest, then file order
    return next((n for n, s in py if _MAIN_RE.search(s)), py[0][0] if py else "")


def detect_requirements(files: dict[str, str]) -> Requirements:
    """Requirements and entry point only (the lightweight /requirements endpoint)."""
    items = _items(files)
    trees = {n: _parse(s) for n, s in items if n.endswith(".py")}
    return {"requirements": _requirements(items, trees), "entry_point": _entry_point(items)}


def find_syntax_error(files: dict[str, str]) -> str | None:
    """Message like "agent.py: line 3: invalid syntax" for the first unparsable .py file."""
    for name, src in _items(files):
        if not name.endswith(".py"):
            continue
        try:
            ast.parse(src)
        except Exception as exc:  # SyntaxError, plus ValueError/RecursionError on odd input
            # A NUL byte is rejected without a line number, so locate it ourselves.
            nul_line = src.count("\n", 0, src.find("\0")) + 1 if "\0" in src else 1
            line = getattr(exc, "lineno", None) or nul_line
            return f"{name}: line {line}: {getattr(exc, 'msg', None) or exc}"
    return None


def _dedupe(items: list[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    """The items, the first of each key only, in order."""
    seen: set[Hashable] = set()
    kept = []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            kept.append(item)
    return kept


def _suggest_prompt(tools: list[dict[str, Any]], providers: list[dict[str, str]]) -> str:
    names = [t["name"] for t in tools]
    names = names[:5] + [f"{len(names) - 5} more"] if len(names) > 5 else names
    text = "You are a helpful assistant"
    if names:
        listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        text += " that uses " + listed
    if providers:
        text += f" via {providers[0]['provider']} {providers[0]['model']}"
    return text + "."


def analyze(files: dict[str, str]) -> dict[str, Any]:
    """Full analysis result (every documented field except "id")."""
    items = _items(files)
    trees = {n: _parse(s) for n, s in items if n.endswith(".py")}
    acc: _Findings = {"tools": [], "models": [], "usages": [], "secrets": [], "hosts": set(), "sdk_providers": []}
    for name, _src in items:
        tree = trees.get(name)
        if tree is not None:
            _scan_file(name, tree, acc)
    tools = _dedupe(acc["tools"], lambda t: t["name"])
    models = _dedupe(acc["models"], lambda m: (m["provider"], m["model"]))
    providers = set(acc["sdk_providers"]) | {m["provider"] for m in models}
    hosts = acc["hosts"] | {PROVIDER_HOSTS[p] for p in providers if p in PROVIDER_HOSTS}
    return {
        "tools": tools,
        "model_providers": models,
        "model_usages": acc["usages"],
        "secrets": acc["secrets"],
        "outbound_destinations": sorted(hosts),
        "detected_requirements": _requirements(items, trees),
        "entry_point": _entry_point(items),
        "system_prompt_suggestion": _suggest_prompt(tools, models),
    }
