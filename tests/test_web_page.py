"""The web page as a user meets it, in real headless Chromium against a real server: the busy state,
Stop, undo and rewind messages, the offline state and reconnecting after a restart, the narration
log and entity panel, replay of the last turn, MP4 download, the depth and segmentation views, the
scene picker, Enter VR's disabled state, and the layout at a desktop and a phone size."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.browser_util import CHROMIUM

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (it drives /usr/bin/chromium)")
pytest.importorskip("fastapi")

from tests.browser_util import ARGS, BALL_DROP, canvas_pixels, red_centroid, wait_pixels  # noqa: E402
from tests.server_util import free_port, live_server  # noqa: E402

CUBE = """\
name: cube-rest
description: A green cube rests on the floor; nothing moves until someone acts.
camera: {position: [0, -3.0, 1.2], look_at: [0, 0, 0.3], fov: 45}
render: {width: 320, height: 240, fps: 24}
entities:
- {id: cube, shape: box, size: [0.4, 0.4, 0.4], position: [0, 0, 0.2], color: "#10c020", description: a green cube}
steps: []
"""


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenes")
    (folder / "ball-drop.yaml").write_text(BALL_DROP)
    (folder / "cube-rest.yaml").write_text(CUBE)
    return folder


@pytest.fixture(scope="module")
def srv(scenes):
    with live_server(scenes_dir=scenes) as s:
        yield s


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(chromium):
    """Opens the page at a fragment (#key=...&session=...&token=...); closes it after the test and
    fails the test on any uncaught script error."""
    opened = []

    def go(srv, fragment: str, width: int = 1280, height: int = 800):
        context = chromium.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{srv.base}/#{fragment}")
        opened.append((context, errors))
        return page

    yield go
    for context, errors in opened:
        context.close()
        assert not errors, errors


def fragment(srv, sess: dict, key: bool = False, token: str = "player_token") -> str:
    out = f"session={sess['session']}&token={sess[token]}"
    return f"key={srv.key}&{out}" if key else out


def online(page, timeout: float = 15000) -> None:
    page.wait_for_function("() => window.callosum?.online && window.callosum.live", timeout=timeout)


def idle(page, timeout: float = 30000) -> None:
    page.wait_for_function("() => window.callosum?.online && !window.callosum.busy", timeout=timeout)


def act(page, text: str, seconds: float) -> None:
    page.fill("#duration", str(seconds))
    page.fill("#action", text)
    page.press("#action", "Enter")


def disabled(page, selector: str) -> bool:
    return page.locator(selector).is_disabled()


def state(srv, sess) -> dict:
    return srv.http.get(f"/api/sessions/{sess['session']}/state",
                        headers={"Authorization": f"Bearer {sess['spectator_token']}"}).json()


BUSY = re.compile(r"Turn (\d+) · ([a-z ]+) · (\d+\.\d) s")


def test_a_running_turn_shows_stage_and_elapsed_and_locks_the_controls(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    assert not disabled(page, "#send") and disabled(page, "#stop") and disabled(page, "#undo")
    act(page, "let the ball fall", 3.0)
    page.wait_for_selector("#busy", state="visible")
    first = BUSY.fullmatch(page.locator("#busy-text").inner_text())
    assert first and first.group(1) == "1", page.locator("#busy-text").inner_text()
    for sel in ("#action", "#send", "#undo", "#duration"):
        assert disabled(page, sel), sel
    assert not disabled(page, "#stop") and "turn is running" in page.get_attribute("#send", "title")
    page.wait_for_function("() => /playing/.test(document.getElementById('busy-text').textContent)", timeout=15000)
    page.wait_for_timeout(700)
    later = BUSY.fullmatch(page.locator("#busy-text").inner_text())
    assert later.group(2) == "playing" and float(later.group(3)) > float(first.group(3))
    idle(page)
    assert page.locator("#busy").is_hidden()
    assert not disabled(page, "#send") and not disabled(page, "#undo") and disabled(page, "#stop")


def test_stop_during_playback_keeps_nothing(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    start = red_centroid(wait_pixels(page, lambda img: red_centroid(img) is not None, what="the ball"))
    act(page, "let the ball fall", 4.0)
    page.wait_for_function("() => /playing/.test(document.getElementById('busy-text').textContent)", timeout=15000)
    wait_pixels(page, lambda img: (c := red_centroid(img)) is None or c[1] > start[1] + 0.05, what="the ball to fall")
    page.click("#stop")
    idle(page, timeout=5000)
    assert "Turn 1 was stopped; nothing of it was kept." in page.locator("#log").inner_text()
    assert page.locator("#log li.turn.undone").count() == 1  # its narration line is struck through
    body = state(srv, sess)
    assert body["steps"] == 0 and body["state"]["entities"]["ball"]["position"] == [0.0, 0.0, 1.5]
    assert srv.app.state.manager.db.turns(sess["session"]) == []
    back = wait_pixels(page, lambda img: (c := red_centroid(img)) is not None and abs(c[1] - start[1]) < 0.02,
                       what="the ball back where it started")
    assert red_centroid(back)[1] == pytest.approx(start[1], abs=0.02)
    assert "0.00, 0.00, 1.50" in page.locator("#entities tr[data-id=ball]").inner_text()


def test_undo_and_rewind_say_what_they_took_back(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    assert disabled(page, "#undo") and "Nothing to undo" in page.locator("#undo").get_attribute("title")
    for text in ("first push", "second push", "third push"):
        act(page, text, 0.25)
        page.wait_for_function(f"() => window.callosum?.steps === {['first push', 'second push', 'third push'].index(text) + 1}"
                               " && !window.callosum.busy", timeout=20000)
    page.locator("#log li.turn[data-step='1'] button.link").click()  # "rewind here" on turn 1
    page.wait_for_function("() => window.callosum.steps === 1", timeout=10000)
    line = page.locator("#log li.undo").last.inner_text()
    assert line.startswith("rewind") and "Back to step 1 (t = 0.25 s). Took back “second push”, “third push”." in line
    assert [li.get_attribute("data-step") for li in page.locator("#log li.turn.undone").all()] == ["2", "3"]
    assert state(srv, sess)["steps"] == 1
    page.click("#undo")
    page.wait_for_function("() => window.callosum.steps === 0", timeout=10000)
    line = page.locator("#log li.undo").last.inner_text()
    assert line.startswith("undo") and "Back to step 0 (t = 0.00 s). Took back “first push”." in line
    assert disabled(page, "#undo")
    assert state(srv, sess)["steps"] == 0


def test_offline_keeps_the_typed_text_and_a_restart_reopens_the_session(scenes, tmp_path, open_page):
    port, key, db = free_port(), "k" * 32, tmp_path / "s.db"
    with live_server(scenes_dir=scenes, db=db, port=port, server_key=key) as first:
        sess = first.create("ball-drop")
        page = open_page(first, fragment(first, sess, key=True))
        online(page)
        act(page, "let the ball fall", 0.25)
        page.wait_for_function("() => window.callosum?.steps === 1 && !window.callosum.busy", timeout=20000)
        page.fill("#action", "kept text")
    page.wait_for_function("() => document.getElementById('conn').textContent === 'offline'", timeout=10000)
    assert page.locator("#overlay").inner_text().startswith("Offline: the server at")
    assert disabled(page, "#action") and disabled(page, "#send") and disabled(page, "#undo")
    assert page.input_value("#action") == "kept text"
    attempts = [int(re.search(r"attempt (\d+)", page.locator("#overlay").inner_text()).group(1))]
    page.wait_for_timeout(2000)
    attempts.append(int(re.search(r"attempt (\d+)", page.locator("#overlay").inner_text()).group(1)))
    assert attempts[1] > attempts[0]  # it keeps trying, further apart each time

    with live_server(scenes_dir=scenes, db=db, port=port, server_key=key) as second:
        online(page, timeout=30000)
        log = page.locator("#log").inner_text()
        assert f"The server restarted; session {sess['session']} was opened again at step 1." in log
        assert "turn 1" in log and "let the ball fall" in log  # the history came back with it
        assert page.input_value("#action") == "kept text" and not disabled(page, "#action")
        page.press("#action", "Enter")
        page.wait_for_function("() => window.callosum?.steps === 2 && !window.callosum.busy", timeout=20000)
        assert [t.action for t in second.app.state.manager.db.turns(sess["session"])] == ["let the ball fall",
                                                                                          "kept text"]
        assert page.locator("#overlay").inner_text() == ""


def test_narration_log_and_entity_panel(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    assert "falls as soon as time runs" in page.locator("#description").inner_text()
    ball, post = page.locator("#entities tr[data-id=ball]"), page.locator("#entities tr[data-id=post]")
    assert "a red ball" in ball.inner_text() and "0.00, 0.00, 1.50" in ball.inner_text() and "free" in ball.inner_text()
    assert "a blue post" in post.inner_text() and "held" in post.inner_text()
    act(page, "let the ball fall", 0.5)
    idle(page)
    page.wait_for_function("() => window.callosum.steps === 1")
    line = page.locator("#log li.turn").first.inner_text()
    assert line.startswith("turn 1") and "let the ball fall" in line
    z = float(ball.locator("td").nth(1).inner_text().split(",")[2])
    assert z < 1.0  # the panel follows the world: the ball has fallen
    speed = float(ball.locator("td").nth(2).inner_text().split()[0])
    assert speed > 0.5
    page.reload()
    online(page)
    assert page.locator("#log li.turn").first.inner_text().startswith("turn 1")  # the log survives a reload


def _scrub(page, index: int) -> None:
    page.evaluate("(i) => { const s = document.getElementById('scrub'); s.value = String(i);"
                  " s.dispatchEvent(new Event('input')); }", index)


def test_replay_and_scrub_the_last_turn(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    assert disabled(page, "#replay-play") and disabled(page, "#scrub")
    act(page, "let the ball fall", 1.0)
    idle(page)
    count = page.evaluate("() => window.callosum.recording.frames.length")
    assert 12 <= count <= 24
    _scrub(page, 0)
    page.wait_for_function("() => /frame 1\\//.test(document.getElementById('replay-badge').textContent)")
    top = red_centroid(wait_pixels(page, lambda img: red_centroid(img) is not None, what="the first frame"))
    _scrub(page, count - 1)
    page.wait_for_function(f"() => /frame {count}\\//.test(document.getElementById('replay-badge').textContent)")
    low = wait_pixels(page, lambda img: (c := red_centroid(img)) is None or c[1] > top[1] + 0.1, what="the last frame")
    assert (c := red_centroid(low)) is None or c[1] > top[1] + 0.1
    page.click("#replay-play")
    page.wait_for_function("() => /frame [1-5]\\//.test(document.getElementById('replay-badge').textContent)",
                           timeout=5000)
    page.wait_for_function(f"() => /frame {count}\\//.test(document.getElementById('replay-badge').textContent)",
                           timeout=10000)
    assert not disabled(page, "#live")
    page.click("#live")
    assert page.locator("#replay-badge").is_hidden() and disabled(page, "#live")


def test_download_the_session_as_mp4(srv, open_page, tmp_path):
    import imageio.v3 as iio

    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    assert disabled(page, "#download")  # nothing recorded yet
    act(page, "let the ball fall", 0.5)
    idle(page)
    page.wait_for_function("() => !document.getElementById('download').disabled")
    with page.expect_download(timeout=30000) as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == f"ball-drop-{sess['session']}.mp4"
    path = tmp_path / "x.mp4"
    download.save_as(path)
    assert iio.imread(path, index=None).shape == (12, 240, 320, 3)  # 0.5 s at 24 fps, the scene camera


def _legend_colour(page, entity: str) -> np.ndarray:
    chip = page.locator("#legend .chip", has_text=entity)
    css = chip.locator(".swatch").evaluate("(e) => getComputedStyle(e).backgroundColor")
    return np.array([int(v) for v in re.findall(r"\d+", css)[:3]])


def test_view_toggle_shows_depth_and_segments(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    rgb = wait_pixels(page, lambda img: red_centroid(img) is not None, what="the colour view")
    ball = (rgb[..., 0] > 140) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    page.click("#view-depth")
    page.wait_for_function("() => window.callosum.live.header.view === 'depth'")
    assert page.get_attribute("#view-depth", "aria-pressed") == "true"
    depth = canvas_pixels(page)
    inner = depth[20:-20, 20:-20]
    assert np.percentile(np.abs(inner[..., 0] - inner[..., 2]), 99) <= 12  # grey
    assert depth[ball].mean() > 40  # the ball is near: bright
    assert re.fullmatch(r"\d\.\d m\s+\d\.\d m and beyond", page.locator("#legend").inner_text())
    page.click("#view-segmentation")
    page.wait_for_function("() => window.callosum.live.header.view === 'segmentation'")
    seg = canvas_pixels(page)
    colour = _legend_colour(page, "ball")
    assert np.abs(np.median(seg[ball], axis=0) - colour).max() <= 16
    post = _legend_colour(page, "post")
    assert np.abs(colour - post).max() > 60  # entities get different colours
    spectator = open_page(srv, fragment(srv, sess, token="spectator_token"))
    online(spectator)
    assert disabled(spectator, "#view-rgb")  # only the player chooses; spectators follow
    spectator.wait_for_function("() => window.callosum.live.header.view === 'segmentation'")
    assert spectator.locator("#legend .chip", has_text="ball").count() == 1
    page.click("#view-rgb")
    wait_pixels(page, lambda img: red_centroid(img) is not None, what="the colour view again")
    assert page.locator("#legend").is_hidden()


def test_scene_picker_follows_the_session(srv, open_page):
    page = open_page(srv, f"key={srv.key}")
    page.wait_for_selector("#picker", state="visible")
    assert "Pick a scene" in page.locator("#overlay").inner_text()
    page.select_option("#scene-select", "cube-rest")
    page.click("#create")
    online(page)
    assert page.input_value("#scene-select") == "cube-rest"
    assert page.locator("#session-name").inner_text().startswith("cube-rest-")
    other = srv.create("ball-drop")
    page2 = open_page(srv, fragment(srv, other, key=True))
    online(page2)
    page2.wait_for_function("() => document.getElementById('scene-select').value === 'ball-drop'")
    assert page.locator("#share").is_visible()  # the creator gets the spectator link to share


def test_enter_vr_is_visibly_disabled_with_the_reason(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    page.wait_for_function("() => !/Checking/.test(document.getElementById('vr-wrap').title)")
    assert disabled(page, "#enter-vr")
    reason = page.get_attribute("#vr-wrap", "title")
    assert "VR" in reason and ("headset" in reason or "WebXR" in reason), reason
    look = page.locator("#enter-vr").evaluate("(e) => getComputedStyle(e).backgroundImage")
    assert look == "none"  # not the bright gradient of the live button


def test_without_a_link_the_page_says_what_to_open(srv, open_page):
    page = open_page(srv, "")
    page.wait_for_timeout(300)
    text = page.locator("#overlay").inner_text()
    assert "callosum serve" in text and "`" not in text
    assert page.locator("#conn").inner_text() == "no session"
    assert disabled(page, "#send") and disabled(page, "#action")


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_layout_fits_desktop_and_phone(srv, open_page, width, height, tmp_path):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess, key=True), width, height)
    online(page)
    act(page, "let the ball fall", 0.25)
    idle(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    for sel in ("#view", "#send", "#stop", "#undo", "#download", "#view-segmentation", "#scrub", "#enter-vr"):
        box = page.locator(sel).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (sel, box)
    canvas, hint = page.locator("#view").bounding_box(), page.locator("#hint").bounding_box()
    assert hint["y"] >= canvas["y"] + canvas["height"]  # the hint sits below the picture, not on it
    assert canvas["width"] >= min(width - 40, 600)
    page.screenshot(path=str(tmp_path / f"page-{width}.png"))


def test_an_action_the_server_refuses_gives_the_text_back(srv, open_page):
    sess = srv.create("ball-drop")
    page = open_page(srv, fragment(srv, sess))
    online(page)
    long = "x" * 600  # the box's maxlength stops typing this; a script can still set it
    page.evaluate("(t) => { document.getElementById('action').value = t; }", long)
    page.press("#action", "Enter")
    page.wait_for_function("() => /at most 500 characters/.test(document.getElementById('form-note').textContent)")
    assert page.input_value("#action") == long and not disabled(page, "#send")
    assert page.locator("#busy").is_hidden() and state(srv, sess)["steps"] == 0
