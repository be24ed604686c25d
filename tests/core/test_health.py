"""GET /healthz reports the three services truthfully."""
import secrets
import tempfile
from pathlib import Path

from marche import create_app
from marche.core.embedded import MeiliProcess


def test_health_all_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "search": "ok", "queue": "inline"}


def test_search_down_is_reported_and_portal_keeps_serving(app_config):
    meili = MeiliProcess(Path(tempfile.mkdtemp()), secrets.token_hex(8)).start()
    app = create_app({**app_config, "MEILI_URL": meili.url, "MEILI_MASTER_KEY": meili.master_key})
    client = app.test_client()
    assert client.get("/healthz").json["search"] == "ok"
    meili.stop()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["search"] == "down"
    assert response.json["database"] == "ok"
    assert client.get("/").status_code == 200


def test_database_down_gives_503(app_config):
    app = create_app({**app_config, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "down"


def test_queue_down_is_reported(app_config):
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["queue"] == "down"
