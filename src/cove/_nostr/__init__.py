"""Nostr: BIP-340 identities from module keys, signed events and NIP-44 v2 payloads."""
