"""MAP_TILES_URL: no tile layer and nothing allowed from another host by default; a configured tile server
is named to the maps' script and allowed (images only) by the Content-Security-Policy; a malformed value
stops the start with a French message."""
import pytest

from marche import create_app
from marche.config import ConfigError, tiles_origin


def map_page(app):
    return app.test_client().get("/structures?vue=carte")


def test_by_default_no_tile_server_is_named_or_allowed(client):
    response = client.get("/structures?vue=carte")
    html = response.get_data(as_text=True)
    assert "data-tiles-url" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in csp and "http" not in csp


def test_a_configured_tile_server_reaches_the_script_and_the_policy(app_config):
    url = "https://{s}.tuiles.example.org/{z}/{x}/{y}.png"
    app = create_app({**app_config, "MAP_TILES_URL": url, "MAP_TILES_ATTRIBUTION": "© Contributeurs <b>OSM</b>"})
    response = map_page(app)
    html = response.get_data(as_text=True)
    assert 'data-tiles-url="https://{s}.tuiles.example.org/{z}/{x}/{y}.png"' in html
    assert 'data-tiles-attribution="© Contributeurs &lt;b&gt;OSM&lt;/b&gt;"' in html  # escaped by Jinja
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://*.tuiles.example.org;" in csp
    assert "connect-src 'self';" in csp and "script-src 'self' 'report-sample';" in csp  # images only


@pytest.mark.parametrize("value", ["javascript:alert(1)", "https://tuiles.example.org/tile.png",
                                   "//tuiles.example.org/{z}/{x}/{y}.png", "https://a b/{z}/{x}/{y}.png",
                                   "https://x.org/{z}/{x}/{y}.png' 'unsafe-inline"])
def test_a_malformed_tile_url_stops_the_start_in_french(app_config, value):
    with pytest.raises(ConfigError, match="MAP_TILES_URL doit être une adresse"):
        create_app({**app_config, "MAP_TILES_URL": value})


def test_tiles_origin_of_templates():
    assert tiles_origin("https://tile.example.org/{z}/{x}/{y}.png") == "https://tile.example.org"
    assert tiles_origin("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png") == "http://127.0.0.1:8080"
    assert tiles_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png?key=abc") == "https://*.tile.example.org"
    assert tiles_origin("https://tile.example.org/{z}/{x}.png") is None
