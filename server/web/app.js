// Callosum web client: plain WebGL2 (WebGL fallback) and gl-matrix, no build step. See docs/server.md.
"use strict";

import { Replay } from "./replay.js";
import { Reprojector, invert4, perspective, quatYawPitch, tangents } from "./reproject.js";
import { createSession, createWorld, download, followScene, loadScenes, setupVrButton, showShare } from "./rest.js";
import {
  $, logLine, markUndone, note, renderBusy, renderControls, renderEntities, renderLegend, stageWord, turnLine,
} from "./ui.js";

const params = new URLSearchParams(location.hash.slice(1));
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10000];

const app = {
  key: params.get("key"), session: params.get("session"), token: params.get("token"),
  ws: null, hello: null, role: null, steps: 0, busy: false, world: null, view: "rgb",
  online: false, everConnected: false, attempt: 0, retryTimer: null, retryAt: 0, gaveUp: false,
  yaw: 0, pitch: 0, dragging: false, poseDirty: true,
  live: null,             // {header, bitmap}: the newest server frame
  pending: null, decoding: false,
  recording: null,        // {step, frames: [{header, blob}], done}: the last turn's frames
  replay: null,           // {index, playing, timer} while showing recorded frames
  progress: null,         // {step, stage, action, queued, t0}
  xr: null, xrSpace: null,
  codec: "jpeg",          // how this client's frames come: jpeg, or h264 decoded by WebCodecs (in VR)
  decoder: null, decoderSize: "", videoQueue: [], shownSeq: 0,
  latencyMs: null,        // pose sent -> frame rendered for it shown (EMA): the server predicts this far ahead
  hooks: {},              // optional callbacks for benchmarks: xrDraw, poseSent, frameShown
  stats: { frames: 0, drawn: 0, fps: 0, ageMs: 0, reprojMs: 0, posesSent: 0, windowStart: performance.now(), windowFrames: 0,
           bytes: 0, ages: [], reportAt: 0 },
};
window.callosum = app;

const canvas = $("view");
const rp = new Reprojector(canvas);
app.rp = rp;
const replay = new Replay(app, rp, show);

function homeQuat() { return quatYawPitch(0, app.hello ? app.hello.home_pitch : 0); }

// ---- drawing -------------------------------------------------------------------------------------

function desktopFrame() {
  if (!app.xr) requestAnimationFrame(desktopFrame);
  if (!rp.ok || app.xr) return;
  const t0 = performance.now();
  rp.resize();
  const gl = rp.gl;
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.viewport(0, 0, canvas.width, canvas.height);
  const fov = ((app.hello ? app.hello.fov_y : 45) * Math.PI) / 180;
  const q = app.role === "player" ? quatYawPitch(app.yaw, app.pitch) : rp.frameQuat(homeQuat());
  rp.drawEye(invert4(perspective(fov, canvas.width / canvas.height, 0.05, 100)), q, 0, homeQuat());
  if (app.role === "player" && app.poseDirty) sendPose({ position: [0, 0, 0], orientation: q, ipd: 0.064, stereo: false });
  app.stats.reprojMs = performance.now() - t0;
  app.stats.drawn++;
}

async function enterVR() {
  if (app.xr) { app.xr.end(); return; }
  try {
    const session = await navigator.xr.requestSession("immersive-vr", { optionalFeatures: ["local"] });
    if (rp.gl.makeXRCompatible) await rp.gl.makeXRCompatible();
    session.updateRenderState({ baseLayer: new XRWebGLLayer(session, rp.gl) });
    app.xrSpace = await session.requestReferenceSpace("local");
    app.xr = session;
    $("enter-vr").textContent = "Exit VR";
    chooseCodec();
    session.addEventListener("end", () => {
      app.xr = null;
      chooseCodec();
      $("enter-vr").textContent = "Enter VR";
      app.poseDirty = true;
      requestAnimationFrame(desktopFrame);
    });
    session.requestAnimationFrame(xrFrame);
  } catch (err) {
    logLine("error", "VR", `could not start VR: ${err.message || err}`);
  }
}

function xrFrame(time, frame) {
  const session = frame.session;
  session.requestAnimationFrame(xrFrame);
  const pose = frame.getViewerPose(app.xrSpace);
  if (!pose) return;
  const t0 = performance.now();
  const gl = rp.gl, layer = session.renderState.baseLayer;
  const o = pose.transform.orientation, p = pose.transform.position;
  const eyes = pose.views.map((view) => {
    const vo = view.transform.orientation, vpos = view.transform.position;
    return { position: [vpos.x, vpos.y, vpos.z], orientation: [vo.x, vo.y, vo.z, vo.w],
             tangents: tangents(view.projectionMatrix) };
  });
  let viewport = null;
  pose.views.forEach((view, i) => {
    const vp = layer.getViewport(view), eye = view.eye === "right" ? 1 : 0;
    viewport = viewport || [vp.width, vp.height];
    if (rp.sixDof) {
      rp.drawEyeSixDof(view.projectionMatrix, eyes[i], eye, layer.framebuffer, vp);
    } else {
      gl.bindFramebuffer(gl.FRAMEBUFFER, layer.framebuffer);
      gl.viewport(vp.x, vp.y, vp.width, vp.height);
      rp.drawEye(invert4(view.projectionMatrix), eyes[i].orientation, eye, homeQuat());
    }
  });
  if (app.hooks.xrDraw) app.hooks.xrDraw(t0, [o.x, o.y, o.z, o.w], gl, [p.x, p.y, p.z]);
  let ipd = 0.064;
  if (pose.views.length === 2) {
    const a = pose.views[0].transform.position, b = pose.views[1].transform.position;
    ipd = Math.min(0.2, Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z));
  }
  if (app.role === "player") {
    const msg = { position: [p.x, p.y, p.z], orientation: [o.x, o.y, o.z, o.w], ipd, stereo: pose.views.length === 2,
                  views: eyes.slice(0, 2), viewport: viewport.map((v) => Math.max(16, Math.min(8192, Math.round(v)))),
                  t: performance.now() };
    if (app.latencyMs !== null) msg.latency_ms = Math.min(1000, Math.round(app.latencyMs));
    sendPose(msg);
  }
  app.stats.reprojMs = performance.now() - t0;
  app.stats.drawn++;
}

// ---- frames --------------------------------------------------------------------------------------

function onFrame(buf) {
  const frame = splitFrame(buf);
  app.stats.frames++;
  app.stats.windowFrames++;
  app.stats.bytes += buf.byteLength;
  app.stats.bytesTotal = (app.stats.bytesTotal || 0) + buf.byteLength;
  if (frame.header.format === "h264") { decodeVideo(frame); return; }
  if (frame.header.turn) replay.record(frame.header, frame.blob); // every turn frame, even those not drawn
  app.pending = frame; // the newest frame wins: older ones not yet decoded are skipped
  if (!app.decoding) decodeNext();
}

// Header, image bytes (JPEG or an H.264 access unit) and the compressed depth plane (headset frames).
function splitFrame(buf) {
  const n = new DataView(buf).getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const depthBytes = header.depth ? header.depth.bytes : 0;
  const image = new Uint8Array(buf, 4 + n, buf.byteLength - 4 - n - depthBytes);
  const depth = depthBytes ? new Uint8Array(buf, buf.byteLength - depthBytes) : null;
  return { header, image, depth, blob: header.format === "h264" ? null : new Blob([image], { type: "image/jpeg" }) };
}

// The depth plane: zlib-compressed little-endian uint16 millimetres.
async function inflateDepth(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint16Array(await new Response(stream).arrayBuffer());
}

async function decodeNext() {
  app.decoding = true;
  while (app.pending) {
    const { header, blob, depth } = app.pending;
    app.pending = null;
    try {
      const [bitmap, plane] = await Promise.all([createImageBitmap(blob), depth ? inflateDepth(depth) : null]);
      present(header, bitmap, plane);
    } catch (err) {
      console.warn("frame decode failed", err);
    }
  }
  app.decoding = false;
}

// ---- H.264 over the socket, decoded by WebCodecs ------------------------------------------------------

const H264 = "avc1.42E033"; // constrained baseline, level 5.1: up to 2x2304x2304 at the server's cap

// Ask for H.264 while in VR where the browser decodes it; JPEG otherwise (and as the fallback).
async function chooseCodec() {
  let want = "jpeg";
  if (app.xr && typeof VideoDecoder !== "undefined") {
    try {
      const r = await VideoDecoder.isConfigSupported({ codec: H264, codedWidth: 1920, codedHeight: 1080, optimizeForLatency: true });
      if (r.supported) want = "h264";
    } catch (err) { /* not supported */ }
  }
  useCodec(want);
}

function useCodec(codec) {
  app.codec = codec;
  send({ type: "stream", codec });
  if (codec !== "h264" && app.decoder) {
    if (app.decoder.state !== "closed") app.decoder.close();
    app.decoder = null;
    app.decoderSize = "";
    app.videoQueue = [];
  }
}

function decodeVideo(frame) {
  const h = frame.header, size = `${h.width}x${h.height}`;
  if (!app.decoder || app.decoder.state === "closed" || app.decoderSize !== size) {
    if (!h.key) return; // wait for the stream's next keyframe
    if (!app.decoder || app.decoder.state === "closed") app.decoder = makeDecoder();
    app.decoder.configure({ codec: H264, codedWidth: h.width, codedHeight: h.height, optimizeForLatency: true });
    app.decoderSize = size;
  }
  app.videoQueue.push({ header: h, depth: frame.depth ? inflateDepth(frame.depth) : null });
  app.decoder.decode(new EncodedVideoChunk({ type: h.key ? "key" : "delta", timestamp: h.seq, data: frame.image }));
}

function makeDecoder() {
  return new VideoDecoder({
    output: async (vf) => {
      while (app.videoQueue.length && app.videoQueue[0].header.seq < vf.timestamp) app.videoQueue.shift();
      const entry = app.videoQueue.length && app.videoQueue[0].header.seq === vf.timestamp ? app.videoQueue.shift() : null;
      const plane = entry && entry.depth ? await entry.depth.catch(() => null) : null;
      if (!entry || entry.header.seq <= app.shownSeq) { vf.close(); return; }
      present(entry.header, vf, plane);
    },
    error: (err) => {
      logLine("error", "video", `the H.264 decoder failed (${err.message || err}); frames are JPEG from now on`);
      useCodec("jpeg");
    },
  });
}

// A decoded frame (an ImageBitmap or a VideoFrame) and its depth plane go on screen.
function present(header, image, plane) {
  if (app.live && app.live.bitmap) app.live.bitmap.close();
  app.live = { header, bitmap: image, depth: plane };
  app.shownSeq = Math.max(app.shownSeq, header.seq);
  app.stats.ageMs = Date.now() - header.rendered_at;
  app.stats.ages.push(app.stats.ageMs);
  if (header.pose && header.pose.t != null) {
    const lat = performance.now() - header.pose.t;
    if (lat >= 0 && lat < 5000) app.latencyMs = app.latencyMs === null ? lat : 0.8 * app.latencyMs + 0.2 * lat;
  }
  if (!app.replay) show(app.live);
  if (app.hooks.frameShown) app.hooks.frameShown(header, performance.now());
}

// About once a second, a video client says how its frames arrive, and the server adapts the bitrate.
function reportStream(now) {
  const s = app.stats;
  if (app.codec !== "h264" || now - s.reportAt < 1000) return;
  const ages = s.ages.sort((a, b) => a - b);
  const kbps = (s.bytes * 8) / (now - (s.reportAt || now - 1000));
  if (ages.length) send({ type: "stream", codec: "h264", age_ms: Math.max(0, ages[ages.length >> 1]), kbps });
  s.ages = [];
  s.bytes = 0;
  s.reportAt = now;
}

function show(frame) {
  const h = frame.header;
  rp.upload(h, frame.bitmap, frame.depth || null);
  const legendKey = JSON.stringify([h.view, h.depth_range, h.legend]);
  if (legendKey !== app.legendKey) { renderLegend(h); app.legendKey = legendKey; }
  if (app.role !== "player" && app.view !== h.view) { app.view = h.view; renderControls(app); }
}

// ---- the socket ----------------------------------------------------------------------------------

function send(msg) {
  if (!app.ws || app.ws.readyState !== WebSocket.OPEN || !app.online) return false;
  app.ws.send(JSON.stringify(msg));
  return true;
}

function sendPose(pose) {
  if (!app.online || app.ws.bufferedAmount > 65536) return;
  send({ type: "pose", ...pose });
  app.poseDirty = false;
  app.stats.posesSent++;
  if (app.hooks.poseSent) app.hooks.poseSent(pose.orientation, performance.now(), pose.position);
}

function connect() {
  clearTimeout(app.retryTimer);
  app.retryTimer = null;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws/${encodeURIComponent(app.session)}`);
  ws.binaryType = "arraybuffer";
  app.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: app.token, schema_version: 2 }));
  ws.onmessage = (ev) => (typeof ev.data === "string" ? onMessage(JSON.parse(ev.data)) : onFrame(ev.data));
  ws.onclose = (ev) => { if (app.ws === ws) onClose(ev); };
}

async function onClose(ev) {
  const wasOnline = app.online;
  app.online = false;
  app.busy = false;
  renderControls(app);
  renderBusy(app);
  if (ev.code === 4401) {
    // The token is not (or no longer) valid: after a server restart tokens are new. With the
    // server key this page can open the saved session again and carry on.
    if (app.key && await reopen()) return;
    app.gaveUp = true;
    setOverlay(app.key ? "This session cannot be opened again (see the log)."
      : "This link's token no longer works (the server restarted or the session was closed). Ask for a new link.");
    return;
  }
  if (wasOnline) logLine("info", "offline", "Lost the connection to the server; reconnecting…");
  scheduleRetry();
}

function scheduleRetry() {
  const delay = BACKOFF_MS[Math.min(app.attempt, BACKOFF_MS.length - 1)];
  app.attempt++;
  app.retryAt = performance.now() + delay;
  app.retryTimer = setTimeout(connect, delay);
  offlineOverlay();
}

function offlineOverlay() {
  if (app.online || app.gaveUp || !app.retryTimer) return;
  const secs = Math.max(0, (app.retryAt - performance.now()) / 1000);
  setOverlay(`Offline: the server at ${location.host} does not answer. Your typed action is kept. ` +
             `Retrying in ${secs.toFixed(0)} s (attempt ${app.attempt}).`);
}

async function reopen() {
  try {
    const r = await fetch(`/api/sessions/${encodeURIComponent(app.session)}/open`, {
      method: "POST", headers: { Authorization: `Bearer ${app.key}` },
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      logLine("error", "error", `cannot reopen ${app.session}: ${body.error ? body.error.message : r.status}`);
      return false;
    }
    app.token = body.player_token;
    sessionStorage.setItem(`spectate:${body.session}`, body.spectator_token);
    history.replaceState(null, "", `#key=${encodeURIComponent(app.key)}&session=${body.session}&token=${body.player_token}`);
    showShare(app);
    app.reopened = true;
    connect();
    return true;
  } catch (err) {
    scheduleRetry(); // the server is not up yet: try again later
    return true;
  }
}

function onMessage(m) {
  const handler = HANDLERS[m.type];
  if (handler) handler(m);
  renderControls(app);
  renderBusy(app);
}

const HANDLERS = {
  hello(m) {
    const first = !app.everConnected;
    app.hello = m;
    app.role = m.role;
    app.view = m.view;
    app.steps = m.step;
    app.online = true;
    app.everConnected = true;
    app.attempt = 0;
    app.gaveUp = false;
    if (first) { app.pitch = m.home_pitch; app.yaw = 0; }
    app.poseDirty = true;
    $("viewport").style.setProperty("--aspect", String(m.width / m.height));
    $("session-name").textContent = m.session;
    $("session-name").title = `session ${m.session} of scene ${m.scene}`;
    $("description").textContent = m.description;
    followScene(m.scene);
    $("role").hidden = false;
    $("role").textContent = m.role;
    $("role").className = `pill ${m.role}`;
    $("hint").textContent = m.role === "player" ? "Drag the view to look around · double-click to reset"
      : "Spectating: the view follows the player";
    if (first || app.reopened) {
      $("log").replaceChildren();
      for (const t of m.history) turnLine(app, t.step, t.narration, t.action);
    }
    if (app.reopened) logLine("info", "server", `The server restarted; session ${m.session} was opened again at step ${m.step}.`);
    else if (!first) logLine("info", "online", "Connected again.");
    app.reopened = false;
    app.codec = "jpeg"; // a new socket starts on JPEG
    if (app.xr) chooseCodec();
    setOverlay("");
  },
  narration(m) {
    turnLine(app, m.step, m.text, m.action);
  },
  state(m) {
    app.steps = m.steps;
    app.busy = m.busy;
    app.world = m.state;
    renderEntities(m.state);
    if (!m.busy) app.progress = null;
  },
  progress(m) {
    const t0 = performance.now() - m.elapsed * 1000;
    if (["done", "cancelled", "failed"].includes(m.stage)) {
      if (app.recording && app.recording.step === m.step) app.recording.done = true;
      if (m.stage === "cancelled") {
        markUndone(m.step - 1, "stopped: nothing of this turn was kept");
        logLine("stopped", "stopped", `Turn ${m.step} was stopped; nothing of it was kept.`, { action: m.action });
        if (app.recording && app.recording.step === m.step) app.recording = null;
      }
      app.progress = null;
      return;
    }
    if (m.stage === "queued") { note(`Queued behind the running turn: “${m.action}”`); return; }
    app.progress = { step: m.step, stage: m.stage, action: m.action, queued: m.queued, t0 };
    app.busy = true;
  },
  rewound(m) {
    markUndone(m.step, "taken back");
    const dropped = m.dropped.length ? ` Took back ${m.dropped.map((a) => `“${a || "pause"}”`).join(", ")}.` : "";
    logLine("undo", m.from_step - m.step === 1 ? "undo" : "rewind",
            `Back to step ${m.step} (t = ${m.time.toFixed(2)} s).${dropped}`);
    app.recording = null;
    if (app.replay) replay.live();
  },
  error(m) {
    logLine("error", "error", m.message);
    const p = app.progress;
    if (p && p.sentHere && p.stage === "queued") {
      // the server refused the action this page just sent: nothing runs, so give the text back
      app.busy = false;
      app.progress = null;
      if (!$("action").value) $("action").value = p.action;
      note(m.message, true);
    } else if (m.code === "bad_message" || m.code === "busy") {
      note(m.message, true);
    }
  },
};

// ---- UI ------------------------------------------------------------------------------------------

function setOverlay(text) { $("overlay").textContent = text; }

app.rewind = (step) => {
  if (!app.online || app.busy) return;
  send({ type: "rewind", step });
};

function undo() {
  if (app.steps === 0) { note("Nothing to undo: the session is at its start."); return; }
  if (send({ type: "rewind", step: app.steps - 1 })) note("");
}

function submitAction(ev) {
  ev.preventDefault();
  const text = $("action").value.trim();
  if (!text) { note("Type what happens next first."); return; }
  if (app.busy) { note("A turn is running; wait for it or press Stop."); return; }
  // blank: the server runs the turn until the bodies come to rest
  const seconds = parseFloat($("duration").value);
  const msg = { type: "action", action: text };
  if (Number.isFinite(seconds)) msg.duration = Math.min(10, Math.max(0.05, seconds));
  if (!send(msg)) { note("Not sent: the page is offline. Your text is kept.", true); return; }
  $("action").value = "";
  note("");
  app.busy = true;
  app.progress = { step: app.steps + 1, stage: "queued", action: text, queued: 0, t0: performance.now(), sentHere: true };
  if (app.replay) replay.live();
  renderControls(app);
  renderBusy(app);
}

function stop() { if (app.busy) send({ type: "cancel" }); }

function bindUI() {
  $("action-form").addEventListener("submit", submitAction);
  $("action").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("action-form").requestSubmit(); }
  });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") stop(); });
  $("undo").addEventListener("click", undo);
  $("stop").addEventListener("click", stop);
  $("stop-overlay").addEventListener("click", stop);
  for (const b of document.querySelectorAll("[data-view]")) {
    b.addEventListener("click", () => { app.view = b.dataset.view; send({ type: "view", mode: app.view }); renderControls(app); });
  }
  replay.bind();
  $("download").addEventListener("click", () => download(app));
  canvas.addEventListener("pointerdown", (ev) => { app.dragging = true; canvas.setPointerCapture(ev.pointerId); });
  canvas.addEventListener("pointerup", () => { app.dragging = false; });
  canvas.addEventListener("pointermove", (ev) => {
    if (!app.dragging || app.role !== "player") return;
    const k = (Math.PI / 3) / canvas.clientHeight;
    app.yaw -= ev.movementX * k;
    app.pitch = Math.max(-1.5, Math.min(1.5, app.pitch - ev.movementY * k));
    app.poseDirty = true;
  });
  canvas.addEventListener("dblclick", () => { app.yaw = 0; app.pitch = app.hello ? app.hello.home_pitch : 0; app.poseDirty = true; });
  $("enter-vr").addEventListener("click", enterVR);
  $("create").addEventListener("click", () => createSession(app));
  $("new-world").addEventListener("click", () => createWorld(app));
  $("world-prompt").addEventListener("keydown", (e) => { if (e.key === "Enter") createWorld(app); });
  for (const note of JSON.parse(sessionStorage.getItem(`world:${app.session}`) || "[]")) logLine("info", "info", note);
  $("copy").addEventListener("click", () => { $("spectator-link").select(); navigator.clipboard?.writeText($("spectator-link").value); });
  setupVrButton();
}

function status() {
  const s = app.stats, now = performance.now();
  if (now - s.windowStart > 1000) {
    s.fps = (s.windowFrames * 1000) / (now - s.windowStart);
    s.windowFrames = 0;
    s.windowStart = now;
  }
  const h = app.live && app.live.header;
  $("status").textContent = [
    app.online ? "connected" : "offline", app.role || "—", h ? `step ${h.step} · t ${h.time.toFixed(2)} s` : "no frame yet",
    `${s.fps.toFixed(0)} frames/s`, `frame age ${s.ageMs.toFixed(0)} ms`, `reproject ${s.reprojMs.toFixed(1)} ms`,
    app.busy ? "turn running" : "idle", app.xr ? "VR" : "desktop",
  ].join("  ·  ");
  renderBusy(app);
  offlineOverlay();
  reportStream(now);
}

function main() {
  bindUI();
  renderControls(app);
  if (!rp.ok) setOverlay("This browser has no WebGL, so the view cannot be drawn.");
  if (app.key) loadScenes(app).catch((e) => logLine("error", "error", `cannot list scenes: ${e}`));
  if (app.session && app.token) {
    showShare(app);
    connect();
  } else {
    setOverlay(app.key ? "Pick a scene and press New session."
      : "No session here. Open the link that callosum serve printed, or a session link someone shared.");
    $("conn").textContent = "no session";
  }
  requestAnimationFrame(desktopFrame);
  setInterval(status, 100);
}

main();
