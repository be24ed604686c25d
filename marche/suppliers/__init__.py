"""Inclusive structures: profile, kinds, sectors, intervention area, environmental commitments, claim."""
