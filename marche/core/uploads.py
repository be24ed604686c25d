"""Reading an uploaded file without trusting it: its size is taken from the stream (the spooled temporary
file Werkzeug wrote) before a single byte is read into memory, and at most the limit plus one byte is read."""
from __future__ import annotations

import io
import os

from .errors import DomainError


class UploadTooLarge(DomainError):
    """The file is over its limit: nothing of it was read into memory."""


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} Mo".replace(".", ",")


def too_large_message(limit: int) -> str:
    return f"Le fichier dépasse la taille autorisée ({_megabytes(limit)})."


def upload_size(storage) -> int | None:
    """The size of an uploaded file from its stream's end position, the stream left at its start;
    None when the stream cannot seek (then `read_upload` still reads at most the limit + 1 byte)."""
    stream = getattr(storage, "stream", storage)
    try:
        position = stream.tell()
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(position)
        return size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def read_upload(storage, max_bytes: int, field: str | None = None) -> bytes:
    """The file's bytes, or UploadTooLarge (French message, naming `field`) when it is over `max_bytes`."""
    size = upload_size(storage)
    if size is not None and size > max_bytes:
        raise UploadTooLarge(too_large_message(max_bytes), field)
    stream = getattr(storage, "stream", storage)
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadTooLarge(too_large_message(max_bytes), field)
    return data
