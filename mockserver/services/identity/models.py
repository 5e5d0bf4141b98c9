"""Identity providers: create-or-update by name, namespace `default` unless given."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ..common import NamedCollection
from ..state import records

IDP_DEFAULT_NAMESPACE = "default"


class IdentityProvidersBackend(NamedCollection):
    kind = "identity providers"
    not_found_message = 'identity provider "{name}" not found'
    STATE = (records("items", key="name", schema="IdentityProvider", charge=kind),)

    def put(self, name: str, spec: Mapping[str, Any], namespace: str | None = None) -> tuple[dict[str, Any], bool]:
        return self.store(
            {"name": name, "namespace": namespace or IDP_DEFAULT_NAMESPACE, "spec": copy.deepcopy(dict(spec))}
        )
