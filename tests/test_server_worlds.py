"""POST /api/worlds: a world built from words, saved in the scenes folder and served as a session."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
from websockets.sync.client import connect  # noqa: E402

from tests.conftest import SCENES  # noqa: E402
from tests.server_util import live_server, recv_json  # noqa: E402


def test_a_world_from_words_is_saved_served_and_streams_its_state(tmp_path):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(SCENES / "ball-off-table.yaml", scenes)
    with live_server(scenes_dir=scenes) as srv:
        bad = srv.http.post("/api/worlds", json={"prompt": "a unicorn"}, headers=srv.admin())
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "nothing_to_build"
        assert srv.http.post("/api/worlds", json={"prompt": "a ball"}).status_code in (401, 403)
        r = srv.http.post("/api/worlds", json={"prompt": "a red ball on a wooden table, in fog"}, headers=srv.admin())
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["scene"] == "red-ball-on-wooden-table-in" and body["renderer_only"] == ["fog"]
        assert (scenes / "red-ball-on-wooden-table-in.yaml").exists()
        assert "red-ball-on-wooden-table-in" in srv.http.get("/api/scenes").json()["scenes"]
        with connect(srv.ws_base + body["ws_url"], open_timeout=10) as ws:
            ws.send('{"type": "auth", "token": "%s"}' % body["player_token"])
            msg = recv_json(ws, "state")
            assert {"ball", "table"} <= set(msg["state"]["entities"])
