"""The signed link of an e-mail invitation to a grouping (a company not yet on the portal): it names the member
row and the address; it expires after INVITATION_MAX_AGE and is worthless once the invitation is answered."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..accounts.tokens import TokenError

SALT = "marche-grouping-invitation"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(member) -> str:
    return _serializer().dumps({"mid": member.id, "email": (member.invited_email or "").lower()})


def read_token(token: str) -> dict:
    try:
        return _serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError(expired=False) from exc
