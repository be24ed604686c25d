"""Sessions end everywhere: logout, password change and reset refuse every copied session or remember cookie."""
from marche.config import Config
from tests.conftest import login, submit

REMEMBER = "remember_token"


def logged_in_with_remember(app, email="a@example.fr"):
    first = app.test_client()
    response = submit(first, "/connexion", {"email": email, "password": "motdepasse-solide-1", "remember": "y"})
    assert response.status_code == 302
    assert first.get_cookie(REMEMBER) is not None, "la case « Rester connecté » pose le cookie"
    return first


def copy_cookies(source, target, names=("session", REMEMBER)):
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, name
        target.set_cookie(name, cookie.value)


def assert_anonymous(client):
    response = client.get("/compte")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_copied_cookies_work_until_logout_then_never(app, make_user):
    make_user("a@example.fr")
    first = logged_in_with_remember(app)
    thief, remember_only = app.test_client(), app.test_client()
    copy_cookies(first, thief)
    copy_cookies(first, remember_only, names=(REMEMBER,))
    assert thief.get("/compte").status_code == 200  # a copy works while the session lives (the boundary)
    assert remember_only.get("/compte").status_code == 200  # the remember cookie alone logs in too
    assert submit(first, "/deconnexion", {}, form_url="/compte").status_code == 302
    assert_anonymous(first)
    fresh_thief, fresh_remember = app.test_client(), app.test_client()
    copy_cookies(thief, fresh_thief)
    fresh_remember.set_cookie(REMEMBER, first_remember_value(thief))
    assert_anonymous(thief)
    assert_anonymous(fresh_thief)
    assert_anonymous(fresh_remember)


def first_remember_value(client) -> str:
    return client.get_cookie(REMEMBER).value


def test_password_change_ends_other_sessions_and_keeps_this_one(app, make_user):
    make_user("a@example.fr")
    first = logged_in_with_remember(app)
    second = app.test_client()
    copy_cookies(first, second)
    remember_value = first.get_cookie(REMEMBER).value
    response = submit(first, "/compte/mot-de-passe", {"current_password": "motdepasse-solide-1",
                                                     "password": "nouveau-secret-42", "password_confirm": "nouveau-secret-42"})
    assert response.status_code == 302
    assert first.get("/compte").status_code == 200  # the browser that changed it stays logged in
    assert_anonymous(second)
    stale = app.test_client()
    stale.set_cookie(REMEMBER, remember_value)
    assert_anonymous(stale)


def test_password_reset_ends_every_session(app, make_user, mailbox):
    make_user("a@example.fr")
    first = logged_in_with_remember(app)
    assert first.get("/compte").status_code == 200
    other = app.test_client()
    assert submit(other, "/mot-de-passe-oublie", {"email": "a@example.fr"}).status_code == 302
    link = mailbox.link_to("a@example.fr", "/mot-de-passe/").replace("http://localhost", "")
    assert submit(other, link, {"password": "nouveau-secret-42", "password_confirm": "nouveau-secret-42"}).status_code == 302
    assert_anonymous(first)
    assert login(other, "a@example.fr", "nouveau-secret-42").status_code == 302


def test_cookies_are_secure_and_http_only_in_production(tmp_path):
    settings = Config.from_env(tmp_path, environ={
        "MARCHE_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://db/marche",
        "MEILI_URL": "http://meili:7700", "MEILI_MASTER_KEY": "k" * 20}).as_flask()
    assert settings["REMEMBER_COOKIE_SECURE"] is True and settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_HTTPONLY"] is True and settings["SESSION_COOKIE_HTTPONLY"] is True
    development = Config.from_env(tmp_path, environ={"MARCHE_ENV": "development", "SECRET_KEY": "x" * 40,
                                                     "DATABASE_URL": "postgresql://db/marche"}).as_flask()
    assert development["REMEMBER_COOKIE_SECURE"] is False  # plain http on 127.0.0.1 must still work
