"""The read-only REST API (FastAPI): ``create_app(db)``; ``cityscore serve`` runs it with the dashboard."""

from .app import create_app, error_body

__all__ = ["create_app", "error_body"]
