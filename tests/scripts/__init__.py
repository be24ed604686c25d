"""Tests of the helper scripts (`make run`'s supervisor and cleanup, backup and restore)."""
