"""HTTP glue for /analyze (and /ingestion/analyze), /analysis/{id} and /requirements."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("analyzeSource", "analyzeSourceIngestion")
def analyze_source(platform, req):
    return 201, platform.ingestion.analyze(req.body["files"])


@handlers.operation("getAnalysis")
def get_analysis(platform, req):
    return 200, platform.ingestion.get(req.path["id"])


@handlers.operation("detectRequirements")
def detect_requirements(platform, req):
    return 200, platform.ingestion.requirements(req.body["files"])
