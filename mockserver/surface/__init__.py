"""The mock's own surface: the ``/_mock/`` control API, seed data, persistence and the web console."""
