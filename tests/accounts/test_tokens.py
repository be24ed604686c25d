"""Signed links: each one works until the last second of its lifetime and not one second more,
serves only its own purpose, and a reset link dies with the password it was made for."""
import pytest
from itsdangerous import TimestampSigner

from marche.accounts import services, tokens
from marche.accounts.models import Invitation, User
from marche.extensions import db

T0 = 1_900_000_000  # a fixed signing instant, seconds since the epoch


@pytest.fixture
def clock(monkeypatch):
    """The signer's clock, set by the test (itsdangerous reads it when it signs and when it checks)."""
    now = [T0]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now[0])
    return now


def saved_user(email="lien@example.fr") -> User:
    user = services.create_user(email, "motdepasse-solide-1", "Camille Lien")
    db.session.flush()
    return user


@pytest.mark.parametrize("purpose, setting", [(tokens.CONFIRM, "TOKEN_MAX_AGE"),
                                              (tokens.RESET, "RESET_TOKEN_MAX_AGE")])
def test_a_link_lives_exactly_its_configured_lifetime(app_ctx, clock, purpose, setting):
    lifetime = app_ctx.config[setting]
    assert lifetime == {"TOKEN_MAX_AGE": 48 * 3600, "RESET_TOKEN_MAX_AGE": 2 * 3600}[setting]
    user = saved_user()
    token = tokens.make_token(purpose, user)
    read = services.confirm_email if purpose == tokens.CONFIRM else services.user_for_reset
    for age in (lifetime - 1, lifetime):
        clock[0] = T0 + age
        assert read(token).id == user.id
    clock[0] = T0 + lifetime + 1
    with pytest.raises(tokens.TokenError) as error:
        read(token)
    assert error.value.expired is True and str(error.value) == "expired"


def test_an_invitation_lives_seven_days(app_ctx, clock):
    user = saved_user("hote@example.fr")
    from marche.accounts.models import Organisation, OrganisationKind

    org = Organisation(name="Ville", kind=OrganisationKind.PRIVATE_COMPANY, siret="21590350000017")
    invitation = Invitation(organisation=org, email="Invitee@Example.fr", invited_by_id=user.id, status="pending")
    db.session.add_all([org, invitation])
    db.session.flush()
    token = tokens.make_invitation_token(invitation)
    clock[0] = T0 + 7 * 86400
    assert services.invitation_for(token).id == invitation.id
    clock[0] = T0 + 7 * 86400 + 1
    with pytest.raises(tokens.TokenError) as error:
        services.invitation_for(token)
    assert error.value.expired is True


def test_a_tampered_link_is_invalid_not_expired(app_ctx, clock):
    token = tokens.make_token(tokens.CONFIRM, saved_user())
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(tokens.TokenError) as error:
        services.confirm_email(forged)
    assert error.value.expired is False and str(error.value) == "invalid"


def test_a_link_serves_only_its_own_purpose(app_ctx, clock):
    user = saved_user()
    confirm = tokens.make_token(tokens.CONFIRM, user)
    reset = tokens.make_token(tokens.RESET, user)
    with pytest.raises(tokens.TokenError) as error:
        services.user_for_reset(confirm)
    assert error.value.expired is False
    with pytest.raises(tokens.TokenError):
        services.confirm_email(reset)
    assert "fp" not in tokens.read_token(tokens.CONFIRM, confirm, 60)  # only reset links carry the password's print


def test_a_reset_link_dies_when_the_password_changes(app_ctx, clock):
    user = saved_user()
    token = tokens.make_token(tokens.RESET, user)
    assert services.user_for_reset(token).id == user.id
    services.reset_password(token, "un-autre-mot-de-passe-2")
    with pytest.raises(tokens.TokenError) as error:
        services.user_for_reset(token)
    assert error.value.expired is False


def test_a_confirmation_link_is_bound_to_the_address(app_ctx, clock):
    user = saved_user()
    token = tokens.make_token(tokens.CONFIRM, user)
    user.email = "nouvelle@example.fr"
    with pytest.raises(tokens.TokenError):
        services.confirm_email(token)
