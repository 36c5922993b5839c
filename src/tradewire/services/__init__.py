"""The one application service every front end (API, CLI, Python, Redis) calls."""
