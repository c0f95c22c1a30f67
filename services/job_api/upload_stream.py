"""Client-streamed uploads: one header, chunks of bytes, then an end message.

SubmitJob and CompleteJob share this shape; the rules live here once. The
end message is what makes an upload complete: a client that is cancelled or
cut off mid-upload leaves a stream that simply stops, which on the server
can look exactly like a finished one. Only an upload whose ``end`` arrived,
declaring as many bytes as the chunks carried, is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, TypeVar

from forgesyte.jobs.v1 import job_pb2
from services.job_api.errors import InvalidArgument

HeaderT_co = TypeVar("HeaderT_co", covariant=True)


class UploadMessage(Protocol[HeaderT_co]):
    """A generated message with ``oneof payload { header; chunk; end; }``."""

    @property
    def header(self) -> HeaderT_co: ...

    @property
    def chunk(self) -> bytes: ...

    @property
    def end(self) -> job_pb2.UploadEnd: ...

    def WhichOneof(  # noqa: N802 - protobuf's name
        self, oneof_group: Literal["payload"]
    ) -> Literal["header", "chunk", "end"] | None: ...


async def split_upload(
    messages: AsyncIterator[UploadMessage[HeaderT_co]],
) -> tuple[HeaderT_co, AsyncIterator[bytes]]:
    """The header, and the chunks still to come (read lazily, as they arrive).

    The chunk iterator raises ``InvalidArgument`` unless the stream closes
    with a matching ``end`` message, so a consumer that stores chunks as they
    come must discard what it stored when iteration fails.
    """
    try:
        first = await anext(messages)
    except StopAsyncIteration:
        raise InvalidArgument("the stream was empty; send the header first") from None
    if first.WhichOneof("payload") != "header":
        raise InvalidArgument("the first message must carry the header")

    async def chunks() -> AsyncIterator[bytes]:
        received = 0
        async for message in messages:
            kind = message.WhichOneof("payload")
            if kind == "chunk":
                received += len(message.chunk)
                yield message.chunk
            elif kind == "end":
                _check_end(message.end.size_bytes, received)
                async for _ in messages:
                    raise InvalidArgument("nothing may follow the end message")
                return
            else:
                raise InvalidArgument("only chunks and then the end message may follow the header")
        raise InvalidArgument(
            "the upload stopped before its end message, so it may be incomplete; nothing was stored"
        )

    return first.header, chunks()


def _check_end(declared: int, received: int) -> None:
    if declared != received:
        raise InvalidArgument(
            f"the upload is incomplete: {received} bytes arrived but the end message "
            f"declared {declared}; nothing was stored"
        )
