"""``POST /api/v1/deploy/preview``: how a deploy would run, from its body and the workspace.

The decision is the one ``POST /deploy`` answers (an image runs as it is; source files are
built). What the deploy would need and the workspace lacks comes first: a required tool no
one registered (nor ``tools_to_create`` creates), a policy that does not exist, a model no
model provider serves. The first missing piece is named in ``short_reason``. Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError

if TYPE_CHECKING:
    from ..ports import PlatformPort


def _missing(platform: PlatformPort, body: Mapping[str, Any]) -> str | None:
    created = {t.get("name") for t in body.get("tools_to_create") or () if isinstance(t, dict)}
    for tool in body.get("required_tools") or ():
        if tool not in created and tool not in platform.tools.items:
            return f'tool "{tool}" is not registered in this workspace'
    for name in body.get("policies") or ():
        try:
            platform.policies.get_user_policy(name)
        except ApiError:
            return f'policy "{name}" does not exist in this workspace'
    for config in body.get("llm_configs") or ([body["llm_config"]] if body.get("llm_config") else []):
        model = config.get("model") if isinstance(config, dict) else None
        if model and platform.providers.provider_for_model(model) is None:
            return f'no model provider serves model "{model}"'
    return None


def preview(platform: PlatformPort, body: Mapping[str, Any]) -> dict[str, Any]:
    built = not body.get("image")
    details = {
        "execution_mode": "SOURCE_BUILD" if built else "IMAGE",
        "build_required": built,
        "build_profile": "source_build" if built else "image",
        "decision_reason": "source files without an image are built" if built else "pre-built image given",
    }
    with platform.lock:
        missing = _missing(platform, body)
    if missing:
        return {
            "user_state": "compatibility_setup",
            "state_label": "Setup needed",
            "eta_range": "after setup",
            "confidence": "low",
            "short_reason": missing,
            "advanced_details": details,
        }
    if built:
        return {
            "user_state": "preparing_runtime",
            "state_label": "Preparing runtime",
            "eta_range": "1-3 min",
            "confidence": "medium",
            "short_reason": "the source files are built into an image first",
            "advanced_details": details,
        }
    return {
        "user_state": "instant",
        "state_label": "Instant",
        "eta_range": "under 1 min",
        "confidence": "high",
        "short_reason": "the image runs as it is",
        "advanced_details": details,
    }
