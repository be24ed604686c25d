"""One access module: `can(user, action, obj)` answers "may this user do X to that object".

Domains register one rule per (action, object type) with `@rule("edit", Organisation)`.
An unknown question is answered "no", so a forgotten rule fails closed.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import abort

Rule = Callable[[Any, Any], bool]
_rules: dict[tuple[str, type | None], Rule] = {}


def rule(action: str, obj_type: type | None = None):
    def register(func: Rule) -> Rule:
        _rules[(action, obj_type)] = func
        return func

    return register


def can(user, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        user = None
    if user is not None and getattr(user, "is_platform_admin", False):
        return True
    for cls in (type(obj).__mro__ if obj is not None else (None,)):
        func = _rules.get((action, cls))
        if func is not None:
            return bool(func(user, obj))
    return False


def get_or_404(obj: Any, user, action: str = "view") -> Any:
    """A hidden object answers 404, exactly like a missing one."""
    if obj is None or not can(user, action, obj):
        abort(404)
    return obj
