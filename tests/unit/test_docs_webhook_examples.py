"""The engine-config examples for webhooks are valid and sign the Standard Webhooks way.

The model's default stays ``signing = "cove"`` so configs written before the
scheme keep working; what the docs show is what a new config should say.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from cove._config_transports import TransportSettings, WebhookSettings
from tests.helpers.modules import REPO

DOCS = ("docs/sources.md", "docs/howto/webhooks.md")
_TOML_BLOCK = re.compile(r"^```toml\n(?P<body>.*?)^```$", re.S | re.M)


def _engine_examples(doc: str) -> list[dict[str, Any]]:
    """The unlabelled TOML blocks (a labelled one is a module file) that configure webhooks."""
    blocks = (m["body"] for m in _TOML_BLOCK.finditer((REPO / doc).read_text()))
    return [
        parsed
        for parsed in map(tomllib.loads, blocks)
        if "webhook" in parsed or "transports" in parsed
    ]


@pytest.mark.parametrize("doc", DOCS)
def test_every_webhook_example_with_a_secret_signs_the_standard_way(doc: str) -> None:
    examples = _engine_examples(doc)
    assert examples, f"{doc} shows the engine config a webhook needs"
    for example in examples:
        settings: list[WebhookSettings | TransportSettings] = [
            TransportSettings.model_validate(t)
            for t in example.get("transports", [])
            if t.get("kind") == "webhook"  # an mqtt transport has no signing
        ]
        if "webhook" in example:
            settings.append(WebhookSettings.model_validate(example["webhook"]))
        for setting in settings:
            if setting.secret_env is not None or setting.secret_file is not None:
                assert "standard" == setting.signing, f"{doc}: {setting!r}"
