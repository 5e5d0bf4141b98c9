"""The shared basics every layer may use: errors, JSON answers, redaction, nesting limits, the clock."""
