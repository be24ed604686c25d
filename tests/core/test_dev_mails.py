"""The development mail box shows reset links: only in development, without SMTP, to this machine's browser."""
from email.message import EmailMessage

import pytest

from marche import create_app


@pytest.fixture
def dev_app(app, app_config, tmp_path):
    message = EmailMessage()
    message["To"], message["Subject"] = "camille@example.fr", "Réinitialisez votre mot de passe"
    message.set_content("Lien : http://localhost/mot-de-passe/jeton-secret")
    (tmp_path / "0001.eml").write_bytes(bytes(message))

    def build(env="development", smtp=""):
        return create_app({**app_config, "MARCHE_ENV": env, "SMTP_HOST": smtp, "MAIL_DIR": tmp_path})
    return build


def test_local_browser_in_development_reads_the_mails(dev_app):
    response = dev_app().test_client().get("/dev/mails")
    assert response.status_code == 200
    assert "jeton-secret" in response.get_data(as_text=True)


@pytest.mark.parametrize("remote, headers", [
    ("10.0.0.5", {}),                                  # another machine
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}),  # a reverse proxy on this machine
    ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}),
])
def test_anyone_else_gets_404(dev_app, remote, headers):
    client = dev_app().test_client()
    response = client.get("/dev/mails", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 404
    assert "jeton-secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("env, smtp", [("test", ""), ("staging", ""), ("development", "127.0.0.1")])
def test_only_development_without_smtp(dev_app, env, smtp):
    assert dev_app(env=env, smtp=smtp).test_client().get("/dev/mails").status_code == 404
