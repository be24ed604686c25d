"""Importing this module registers the mail outbox handler used by accounts."""
from ..core import mail as _mail  # noqa: F401
