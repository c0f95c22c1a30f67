"""Client-streamed uploads: one header message, then chunks of bytes.

SubmitJob and CompleteJob share this shape; the rules live here once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, TypeVar

from services.job_api.errors import InvalidArgument

HeaderT_co = TypeVar("HeaderT_co", covariant=True)


class UploadMessage(Protocol[HeaderT_co]):
    """A generated message with ``oneof payload { Header header; bytes chunk; }``."""

    @property
    def header(self) -> HeaderT_co: ...

    @property
    def chunk(self) -> bytes: ...

    def WhichOneof(  # noqa: N802 - protobuf's name
        self, oneof_group: Literal["payload"]
    ) -> Literal["header", "chunk"] | None: ...


async def split_upload(
    messages: AsyncIterator[UploadMessage[HeaderT_co]],
) -> tuple[HeaderT_co, AsyncIterator[bytes]]:
    """The header, and the chunks still to come (read lazily, as they arrive)."""
    try:
        first = await anext(messages)
    except StopAsyncIteration:
        raise InvalidArgument("the stream was empty; send the header first") from None
    if first.WhichOneof("payload") != "header":
        raise InvalidArgument("the first message must carry the header")

    async def chunks() -> AsyncIterator[bytes]:
        async for message in messages:
            if message.WhichOneof("payload") != "chunk":
                raise InvalidArgument("only chunks may follow the header")
            yield message.chunk

    return first.header, chunks()
