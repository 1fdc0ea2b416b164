"""A ``kind = "nostr"`` entry of ``[[transports]]`` built into a ``NostrTransport``.

Each served module's keystore (``[identity.modules.<name>]``) is unlocked
here, when the app is built, so a wrong passphrase stops the engine before
anything starts, naming the transport and the keystore; the keys go to the
transport alone and are never logged.
"""

from __future__ import annotations

from .._capabilities._identity import unlock_identity
from .._config import EngineConfig
from .._config_nostr import NostrTransportSettings
from .._sources._nostr import NostrOptions, NostrTransport
from .._units import parse_duration_ms
from ..errors import ConfigError, ModuleLoadError


def nostr_transport(config: EngineConfig, settings: NostrTransportSettings) -> NostrTransport:
    keys = {}
    for module in settings.modules:
        try:
            identity = unlock_identity(module, config.identity.modules[module], config.root)
        except ModuleLoadError as exc:
            raise ConfigError(
                f"{config.source}: transports.{settings.name}.modules: {exc}"
            ) from None
        keys[module] = identity.nostr_key()
    options = NostrOptions(
        relays=tuple(settings.relays),
        keys=keys,
        lookback_s=parse_duration_ms(settings.lookback) // 1000,
        timeout_s=parse_duration_ms(settings.timeout) / 1000,
        reconnect_initial_s=parse_duration_ms(settings.reconnect_initial) / 1000,
        reconnect_max_s=parse_duration_ms(settings.reconnect_max) / 1000,
    )
    return NostrTransport(settings.name, options)


__all__ = ["nostr_transport"]
