"""The composition root: ``App`` builds an engine, its control plane and what the config declares."""

from ._app import App
from ._declared import WebhookParts, webhook_parts

__all__ = ["App", "WebhookParts", "webhook_parts"]
