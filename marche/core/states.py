"""State machines: a table of allowed moves, each move audited, any other move refused in French.

A domain declares its table once, beside its model::

    CLAIM_STATES = StateMachine("status", [
        Move(ClaimStatus.PENDING, ClaimStatus.APPROVED, "structure.claim_approved"),
        Move(ClaimStatus.PENDING, ClaimStatus.REJECTED, "structure.claim_rejected"),
    ], refused="Cette demande a déjà été traitée.")

and its services call `CLAIM_STATES.move(actor, claim, ClaimStatus.APPROVED, ...)`: the status
changes and the audit entry is written in the same session, or a `DomainError` says why not.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import audit
from .errors import DomainError


@dataclass(frozen=True)
class Move:
    """One allowed move from `source` to `target`, recorded in the audit log as `action`."""

    source: str
    target: str
    action: str


class StateMachine:
    """The allowed moves of one attribute (`status` by default) of one kind of object.

    `refused` is the French message of any other move; it may name `{current}` and `{target}`,
    replaced by the states' French labels when the states are `LabelledEnum` members."""

    def __init__(self, attribute: str, moves: Iterable[Move], refused: str):
        self.attribute = attribute
        self.refused = refused
        self._moves: dict[tuple[str, str], Move] = {}
        #: the French label of each state the table names (a value read back from the database is a plain str)
        self._labels: dict[str, str] = {}
        for move in moves:
            for state in (move.source, move.target):
                self._labels[str(state)] = getattr(state, "label", None) or str(state)
            key = (str(move.source), str(move.target))
            if key in self._moves:
                raise ValueError(f"move {key} declared twice")
            self._moves[key] = move

    def label(self, state: Any) -> str:
        return self._labels.get(str(state)) or getattr(state, "label", None) or str(state)

    def allowed(self, obj: Any, target: str) -> bool:
        return (str(getattr(obj, self.attribute)), str(target)) in self._moves

    def targets(self, obj: Any) -> list[str]:
        """The states `obj` may move to now (for the buttons a page offers)."""
        current = str(getattr(obj, self.attribute))
        return [move.target for (source, _), move in self._moves.items() if source == current]

    def check(self, obj: Any, target: str) -> Move:
        """The move from `obj`'s state to `target`; DomainError when the table does not allow it."""
        current = getattr(obj, self.attribute)
        move = self._moves.get((str(current), str(target)))
        if move is None:
            raise DomainError(self.refused.format(current=self.label(current), target=self.label(target)))
        return move

    def move(self, actor: Any, obj: Any, target: str, *, audited: Any = None, **details: Any) -> Move:
        """Check, change the state, and add the audit entry (on `audited`, or `obj` itself) to the
        session with `details` plus the states left and reached. Never commits."""
        move = self.check(obj, target)
        setattr(obj, self.attribute, move.target)
        audit.record(actor, move.action, obj if audited is None else audited,
                     **details, **{"from": str(move.source), "to": str(move.target)})
        return move
