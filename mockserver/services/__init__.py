"""One package per API group: ``models.py`` holds state and rules (no HTTP), ``responses.py``
turns requests into calls on them. ``HANDLER_SETS`` is every group's operationId -> handler map."""

from .actions.responses import handlers as actions
from .agents.responses import handlers as agents
from .billing.responses import handlers as billing
from .builds.responses import handlers as builds
from .catalog.responses import handlers as catalog
from .connectors.responses import handlers as connectors
from .drafts.responses import handlers as drafts
from .gateway.responses import handlers as gateway
from .governance.responses import handlers as governance
from .identity.responses import handlers as identity
from .ingestion.responses import handlers as ingestion
from .policies.responses import handlers as policies
from .providers.responses import handlers as providers
from .runs.responses import handlers as runs
from .runtime.responses import handlers as runtime
from .tools.responses import handlers as tools
from .workspace.responses import handlers as workspace
from .workspace_auth.responses import handlers as workspace_auth

HANDLER_SETS = (
    agents,
    tools,
    providers,
    identity,
    runs,
    governance,
    gateway,
    ingestion,
    builds,
    catalog,
    connectors,
    workspace,
    actions,
    billing,
    policies,
    runtime,
    drafts,
    workspace_auth,
)
