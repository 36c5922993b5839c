"""The API bearer token: from settings (TRADEWIRE_API_TOKEN), else a file in the data directory,
else generated once into that file (mode 0600) and printed once."""

import os
import secrets
import sys

from tradewire.runtime.settings import Settings


def ensure_token(settings: Settings) -> str:
    configured = settings.api_token.get_secret_value().strip() if settings.api_token else ""
    if configured:
        return configured
    path = settings.token_path
    if path.is_file():
        token = path.read_text().strip()
        if token:
            return token
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    sys.stderr.write(
        f"Generated an API token (shown once; also saved to {path}):\n\n    {token}\n\n"
        "Send it as 'Authorization: Bearer <token>'. Set TRADEWIRE_API_TOKEN to choose your own.\n"
    )
    return token


def read_token(settings: Settings) -> str | None:
    """For clients on the same machine: the configured token or the one in the data directory."""
    configured = settings.api_token.get_secret_value().strip() if settings.api_token else ""
    if configured:
        return configured
    path = settings.token_path
    return path.read_text().strip() if path.is_file() else None
