"""Files people send and files we make, outside `static/`: reading an upload without trusting it (its size
is taken from the stream, the spooled temporary file Werkzeug wrote, before a single byte is read into
memory, and at most the limit plus one byte is read), and storing a file under `instance/uploads` with a
random name, served only by a view that checks access first."""
from __future__ import annotations

import io
import os
import secrets
from pathlib import Path

from flask import current_app

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


def upload_root() -> Path:
    return Path(current_app.instance_path) / "uploads"


def store_upload(data: bytes, kind: str, folder: str | None = None) -> str:
    """Store under instance/uploads (never under static/); return the path relative to it."""
    directory = upload_root() / folder if folder else upload_root()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    (directory / name).write_bytes(data)
    return f"{folder}/{name}" if folder else name
