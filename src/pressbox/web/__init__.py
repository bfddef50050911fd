"""The web server: REST, the live WebSocket, and the built browser UI."""

from pressbox.web.app import create_app

__all__ = ["create_app"]
