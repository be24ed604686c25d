"""Shared mechanisms: model mixins, access, audit log, outbox and jobs, mail, errors, formatting."""
