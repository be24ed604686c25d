"""One access module: `can(user, action, obj)` answers "may this user do X to that object".

A domain collects its rules in a `RuleSet` (`@RULES.rule("edit", Organisation)`, one per action
and object type) and its `init_app` registers them with `register(RULES)`. An unknown question is
answered "no", so a forgotten rule fails closed.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import abort

Rule = Callable[[Any, Any], bool]
_rules: dict[tuple[str, type | None], Rule] = {}


class RuleSet:
    """One domain's rules, collected where they are written; nothing is active until `register`."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, type | None], Rule] = {}

    def rule(self, action: str, obj_type: type | None = None):
        def collect(func: Rule) -> Rule:
            if (action, obj_type) in self.rules:
                raise ValueError(f"two rules for {action!r} on {obj_type}")
            self.rules[(action, obj_type)] = func
            return func

        return collect


def register(rule_set: RuleSet) -> None:
    """Make a domain's rules answer `can()` (called by the domain's `init_app`)."""
    _rules.update(rule_set.rules)


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
