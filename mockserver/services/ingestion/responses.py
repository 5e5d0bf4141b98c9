"""HTTP glue for /analyze (and /ingestion/analyze), /analysis/{id} and /requirements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("analyzeSource", "analyzeSourceIngestion")
def analyze_source(platform: Platform, req: ApiRequest) -> Reply:
    return 201, platform.ingestion.analyze(req.body["files"])


@handlers.operation("getAnalysis")
def get_analysis(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.ingestion.get(req.path["id"])


@handlers.operation("detectRequirements")
def detect_requirements(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.ingestion.requirements(req.body["files"])
