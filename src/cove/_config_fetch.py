"""Engine config ``[fetch]``: where pinned components are kept and how they are fetched."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, StrictInt, field_validator

from ._config_base import Duration, StrictModel
from ._units import parse_size_bytes


class FetchSettings(StrictModel):
    store: Path | None = Field(
        default=None,
        description="The content store: components by sha256, so a module starts without "
        "its sources; unset: the per-user one (`$COVE_CACHE_DIR/store`, else e.g. "
        "`~/.cache/cove/store`).",
    )
    ipfs_gateway: str | None = Field(
        default=None,
        pattern=r"^https?://[^/\s]+(/\S*)?$",
        description="HTTP gateway that `ipfs://<cid>` sources are fetched through, as "
        "`<gateway>/ipfs/<cid>`; unset: ipfs sources fail.",
    )
    timeout: Duration = Field(
        default="60s",
        description="Longest the fetch of one source may take, start to last byte; "
        "then the next source is tried.",
    )
    max_size: StrictInt | str = Field(
        default="256MiB",
        validate_default=True,
        description="Largest component a source may give; a bigger one is cut off and "
        "the next source is tried.",
    )

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: int | str) -> int:
        return parse_size_bytes(value)
