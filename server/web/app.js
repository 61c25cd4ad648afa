// Callosum web client: plain WebGL, no libraries. See docs/server.md for the protocol.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));
const app = {
  key: params.get("key"), session: params.get("session"), token: params.get("token"),
  ws: null, hello: null, role: null, steps: 0, busy: false,
  yaw: 0, pitch: 0, dragging: false, poseDirty: true,
  frame: null,            // {header, bitmap} currently in the texture
  pending: null, decoding: false,
  xr: null, xrSpace: null,
  stats: { frames: 0, drawn: 0, fps: 0, ageMs: 0, reprojMs: 0, posesSent: 0, windowStart: performance.now(), windowFrames: 0 },
};
window.callosum = app;

// ---- small maths: quaternions (x, y, z, w) and column-major matrices ------------------------

function quatYawPitch(yaw, pitch) {
  const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2), cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
  return [cy * sp, sy * cp, -sy * sp, cy * cp]; // q_yaw(about y) * q_pitch(about x)
}

function mat3FromQuat(q) {
  const [x, y, z, w] = q;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w),
    2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w),
    2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y),
  ];
}

function mat3TransposeMul(a, b) { // a^T * b, both column-major
  const out = new Array(9);
  for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += a[r * 3 + k] * b[c * 3 + k];
    out[c * 3 + r] = s;
  }
  return out;
}

function perspective(fovY, aspect, near, far) {
  const f = 1 / Math.tan(fovY / 2), nf = 1 / (near - far);
  return [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1, 0, 0, 2 * far * near * nf, 0];
}

function invert4(m) {
  const inv = new Array(16);
  inv[0] = m[5] * m[10] * m[15] - m[5] * m[11] * m[14] - m[9] * m[6] * m[15] + m[9] * m[7] * m[14] + m[13] * m[6] * m[11] - m[13] * m[7] * m[10];
  inv[4] = -m[4] * m[10] * m[15] + m[4] * m[11] * m[14] + m[8] * m[6] * m[15] - m[8] * m[7] * m[14] - m[12] * m[6] * m[11] + m[12] * m[7] * m[10];
  inv[8] = m[4] * m[9] * m[15] - m[4] * m[11] * m[13] - m[8] * m[5] * m[15] + m[8] * m[7] * m[13] + m[12] * m[5] * m[11] - m[12] * m[7] * m[9];
  inv[12] = -m[4] * m[9] * m[14] + m[4] * m[10] * m[13] + m[8] * m[5] * m[14] - m[8] * m[6] * m[13] - m[12] * m[5] * m[10] + m[12] * m[6] * m[9];
  inv[1] = -m[1] * m[10] * m[15] + m[1] * m[11] * m[14] + m[9] * m[2] * m[15] - m[9] * m[3] * m[14] - m[13] * m[2] * m[11] + m[13] * m[3] * m[10];
  inv[5] = m[0] * m[10] * m[15] - m[0] * m[11] * m[14] - m[8] * m[2] * m[15] + m[8] * m[3] * m[14] + m[12] * m[2] * m[11] - m[12] * m[3] * m[10];
  inv[9] = -m[0] * m[9] * m[15] + m[0] * m[11] * m[13] + m[8] * m[1] * m[15] - m[8] * m[3] * m[13] - m[12] * m[1] * m[11] + m[12] * m[3] * m[9];
  inv[13] = m[0] * m[9] * m[14] - m[0] * m[10] * m[13] - m[8] * m[1] * m[14] + m[8] * m[2] * m[13] + m[12] * m[1] * m[10] - m[12] * m[2] * m[9];
  inv[2] = m[1] * m[6] * m[15] - m[1] * m[7] * m[14] - m[5] * m[2] * m[15] + m[5] * m[3] * m[14] + m[13] * m[2] * m[7] - m[13] * m[3] * m[6];
  inv[6] = -m[0] * m[6] * m[15] + m[0] * m[7] * m[14] + m[4] * m[2] * m[15] - m[4] * m[3] * m[14] - m[12] * m[2] * m[7] + m[12] * m[3] * m[6];
  inv[10] = m[0] * m[5] * m[15] - m[0] * m[7] * m[13] - m[4] * m[1] * m[15] + m[4] * m[3] * m[13] + m[12] * m[1] * m[7] - m[12] * m[3] * m[5];
  inv[14] = -m[0] * m[5] * m[14] + m[0] * m[6] * m[13] + m[4] * m[1] * m[14] - m[4] * m[2] * m[13] - m[12] * m[1] * m[6] + m[12] * m[2] * m[5];
  inv[3] = -m[1] * m[6] * m[11] + m[1] * m[7] * m[10] + m[5] * m[2] * m[11] - m[5] * m[3] * m[10] - m[9] * m[2] * m[7] + m[9] * m[3] * m[6];
  inv[7] = m[0] * m[6] * m[11] - m[0] * m[7] * m[10] - m[4] * m[2] * m[11] + m[4] * m[3] * m[10] + m[8] * m[2] * m[7] - m[8] * m[3] * m[6];
  inv[11] = -m[0] * m[5] * m[11] + m[0] * m[7] * m[9] + m[4] * m[1] * m[11] - m[4] * m[3] * m[9] - m[8] * m[1] * m[7] + m[8] * m[3] * m[5];
  inv[15] = m[0] * m[5] * m[10] - m[0] * m[6] * m[9] - m[4] * m[1] * m[10] + m[4] * m[2] * m[9] + m[8] * m[1] * m[6] - m[8] * m[2] * m[5];
  const det = m[0] * inv[0] + m[1] * inv[4] + m[2] * inv[8] + m[3] * inv[12];
  return inv.map((v) => v / det);
}

// ---- WebGL: one full-screen pass that reprojects the last frame for the current eye ---------

const VERT = `
attribute vec2 aPos;
varying vec2 vNdc;
void main() { vNdc = aPos; gl_Position = vec4(aPos, 0.0, 1.0); }`;

// For each pixel: its ray in the current eye, rotated into the camera the frame was rendered
// for, projected with that camera's field of view onto the frame. Exact for head rotation.
const FRAG = `
precision highp float;
uniform sampler2D uTex;
uniform mat4 uInvProj;
uniform mat3 uDelta;
uniform vec2 uTan;
uniform vec4 uRect;
uniform float uHave;
varying vec2 vNdc;
void main() {
  vec4 p = uInvProj * vec4(vNdc, -1.0, 1.0);
  vec3 ray = normalize(p.xyz / p.w);
  vec3 r = uDelta * ray;
  vec3 bg = mix(vec3(0.035, 0.045, 0.06), vec3(0.07, 0.085, 0.11), clamp(ray.y * 0.5 + 0.5, 0.0, 1.0));
  if (uHave < 0.5 || r.z > -1e-4) { gl_FragColor = vec4(bg, 1.0); return; }
  vec2 s = vec2(r.x / (-r.z * uTan.x), r.y / (-r.z * uTan.y));
  vec2 edge = vec2(1.0) - smoothstep(vec2(0.97), vec2(1.0), abs(s));
  vec2 uv = vec2(0.5 + 0.5 * s.x, 0.5 - 0.5 * s.y);
  vec3 img = texture2D(uTex, uRect.xy + clamp(uv, 0.0, 1.0) * uRect.zw).rgb;
  gl_FragColor = vec4(mix(bg, img, edge.x * edge.y), 1.0);
}`;

const canvas = $("view");
const gl = canvas.getContext("webgl", { antialias: false, preserveDrawingBuffer: true, xrCompatible: true });
const glp = setupGL();

function setupGL() {
  if (!gl) return null;
  const compile = (type, src) => {
    const s = gl.createShader(type);
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  };
  const prog = gl.createProgram();
  gl.attachShader(prog, compile(gl.VERTEX_SHADER, VERT));
  gl.attachShader(prog, compile(gl.FRAGMENT_SHADER, FRAG));
  gl.linkProgram(prog);
  const buf = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
  const tex = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, tex);
  for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
                        [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) {
    gl.texParameteri(gl.TEXTURE_2D, k, v);
  }
  const u = (n) => gl.getUniformLocation(prog, n);
  return { prog, buf, tex, aPos: gl.getAttribLocation(prog, "aPos"), uTex: u("uTex"), uInvProj: u("uInvProj"),
           uDelta: u("uDelta"), uTan: u("uTan"), uRect: u("uRect"), uHave: u("uHave") };
}

function homeQuat() { return quatYawPitch(0, app.hello ? app.hello.home_pitch : 0); }

function frameQuat() {
  const h = app.frame && app.frame.header;
  return h && h.pose ? h.pose.orientation : homeQuat();
}

// Draw the current frame for one eye: `invProj` of that eye, its orientation, and which half.
function drawEye(invProj, eyeQuat, eye) {
  const h = app.frame && app.frame.header;
  gl.useProgram(glp.prog);
  gl.bindBuffer(gl.ARRAY_BUFFER, glp.buf);
  gl.enableVertexAttribArray(glp.aPos);
  gl.vertexAttribPointer(glp.aPos, 2, gl.FLOAT, false, 0, 0);
  gl.activeTexture(gl.TEXTURE0);
  gl.bindTexture(gl.TEXTURE_2D, glp.tex);
  gl.uniform1i(glp.uTex, 0);
  gl.uniform1f(glp.uHave, h ? 1 : 0);
  gl.uniformMatrix4fv(glp.uInvProj, false, new Float32Array(invProj));
  gl.uniformMatrix3fv(glp.uDelta, false, new Float32Array(mat3TransposeMul(mat3FromQuat(frameQuat()), mat3FromQuat(eyeQuat))));
  if (h) {
    const eyeW = h.stereo ? h.width / 2 : h.width;
    const tanY = Math.tan((h.fov_y * Math.PI) / 360);
    gl.uniform2f(glp.uTan, tanY * (eyeW / h.height), tanY);
    gl.uniform4f(glp.uRect, h.stereo && eye === 1 ? 0.5 : 0, 0, h.stereo ? 0.5 : 1, 1);
  }
  gl.drawArrays(gl.TRIANGLES, 0, 3);
}

function resizeCanvas() {
  const r = canvas.getBoundingClientRect();
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const w = Math.max(64, Math.round(r.width * dpr)), h = Math.max(48, Math.round(r.height * dpr));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
}

function desktopFrame() {
  if (!app.xr) requestAnimationFrame(desktopFrame);
  if (!glp || app.xr) return;
  const t0 = performance.now();
  resizeCanvas();
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.viewport(0, 0, canvas.width, canvas.height);
  const fov = ((app.hello ? app.hello.fov_y : 45) * Math.PI) / 180;
  const q = app.role === "player" ? quatYawPitch(app.yaw, app.pitch) : frameQuat();
  drawEye(invert4(perspective(fov, canvas.width / canvas.height, 0.05, 100)), q, 0);
  if (app.role === "player" && app.poseDirty) {
    sendPose([0, 0, 0], q, 0.064, false);
  }
  app.stats.reprojMs = performance.now() - t0;
  app.stats.drawn++;
}

// ---- WebXR ------------------------------------------------------------------------------------

async function enterVR() {
  if (app.xr) { app.xr.end(); return; }
  try {
    const session = await navigator.xr.requestSession("immersive-vr", { optionalFeatures: ["local"] });
    if (gl.makeXRCompatible) await gl.makeXRCompatible();
    session.updateRenderState({ baseLayer: new XRWebGLLayer(session, gl) });
    app.xrSpace = await session.requestReferenceSpace("local");
    app.xr = session;
    $("enter-vr").textContent = "Exit VR";
    session.addEventListener("end", () => {
      app.xr = null;
      $("enter-vr").textContent = "Enter VR";
      app.poseDirty = true;
      requestAnimationFrame(desktopFrame);
    });
    session.requestAnimationFrame(xrFrame);
  } catch (err) {
    logLine("VR", `could not start VR: ${err.message || err}`, true);
  }
}

function xrFrame(time, frame) {
  const session = frame.session;
  session.requestAnimationFrame(xrFrame);
  const pose = frame.getViewerPose(app.xrSpace);
  if (!pose) return;
  const t0 = performance.now();
  const layer = session.renderState.baseLayer;
  gl.bindFramebuffer(gl.FRAMEBUFFER, layer.framebuffer);
  pose.views.forEach((view) => {
    const vp = layer.getViewport(view);
    gl.viewport(vp.x, vp.y, vp.width, vp.height);
    const o = view.transform.orientation;
    drawEye(invert4(Array.from(view.projectionMatrix)), [o.x, o.y, o.z, o.w], view.eye === "right" ? 1 : 0);
  });
  const p = pose.transform.position, o = pose.transform.orientation;
  let ipd = 0.064;
  if (pose.views.length === 2) {
    const a = pose.views[0].transform.position, b = pose.views[1].transform.position;
    ipd = Math.min(0.2, Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z));
  }
  if (app.role === "player") sendPose([p.x, p.y, p.z], [o.x, o.y, o.z, o.w], ipd, true);
  app.stats.reprojMs = performance.now() - t0;
  app.stats.drawn++;
}

// ---- the socket -------------------------------------------------------------------------------

function send(msg) {
  if (app.ws && app.ws.readyState === WebSocket.OPEN) app.ws.send(JSON.stringify(msg));
}

function sendPose(position, orientation, ipd, stereo) {
  if (!app.ws || app.ws.readyState !== WebSocket.OPEN || app.ws.bufferedAmount > 65536) return;
  send({ type: "pose", position, orientation, ipd, stereo });
  app.poseDirty = false;
  app.stats.posesSent++;
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws/${encodeURIComponent(app.session)}`);
  ws.binaryType = "arraybuffer";
  app.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: app.token, schema_version: 1 }));
  ws.onmessage = (ev) => (typeof ev.data === "string" ? onMessage(JSON.parse(ev.data)) : onFrame(ev.data));
  ws.onclose = (ev) => {
    setOverlay(`Disconnected (${ev.code}${ev.reason ? ": " + ev.reason : ""}). Reconnecting…`);
    $("role").textContent = "offline";
    $("role").className = "pill";
    if (ev.code !== 4401 && ev.code !== 4404) setTimeout(connect, 1500);
  };
}

function onMessage(m) {
  if (m.type === "hello") {
    app.hello = m;
    app.role = m.role;
    app.pitch = m.home_pitch;
    app.yaw = 0;
    app.poseDirty = true;
    $("scene-name").textContent = m.scene;
    $("role").textContent = m.role;
    $("role").className = `pill ${m.role}`;
    const actor = m.role === "player";
    for (const id of ["action", "send", "undo", "duration"]) $(id).disabled = !actor;
    if (!actor) $("action").placeholder = "Spectating: watch only";
    setOverlay("");
  } else if (m.type === "narration") {
    logLine(`step ${m.step}`, m.text || "(nothing happens)", false, m.action !== m.text ? m.action : "");
  } else if (m.type === "state") {
    app.steps = m.steps;
    app.busy = m.busy;
    app.world = m.state;
    $("send").disabled = app.role !== "player";
    $("send").textContent = m.busy ? "Running…" : "Send";
  } else if (m.type === "error") {
    logLine("error", m.message, true);
  }
}

function onFrame(buf) {
  app.pending = buf;
  app.stats.frames++;
  app.stats.windowFrames++;
  if (!app.decoding) decodeNext();
}

async function decodeNext() {
  app.decoding = true;
  while (app.pending) {
    const buf = app.pending;
    app.pending = null;
    const n = new DataView(buf).getUint32(0);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    try {
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(buf, 4 + n)], { type: "image/jpeg" }));
      if (glp) {
        gl.bindTexture(gl.TEXTURE_2D, glp.tex);
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, bitmap);
      }
      if (app.frame && app.frame.bitmap) app.frame.bitmap.close();
      app.frame = { header, bitmap };
      app.stats.ageMs = Date.now() - header.rendered_at;
    } catch (err) {
      console.warn("frame decode failed", err);
    }
  }
  app.decoding = false;
}

// ---- UI ---------------------------------------------------------------------------------------

function setOverlay(text) { $("overlay").textContent = text; }

function logLine(tag, text, isError, action) {
  const li = document.createElement("li");
  if (isError) li.className = "err";
  const step = document.createElement("span");
  step.className = "step";
  step.textContent = tag;
  li.append(step, document.createTextNode(text));
  if (action) {
    const a = document.createElement("span");
    a.className = "act";
    a.textContent = `“${action}”`;
    li.append(a);
  }
  $("log").append(li);
  $("log").scrollTop = $("log").scrollHeight;
}

function status() {
  const s = app.stats, now = performance.now();
  if (now - s.windowStart > 1000) {
    s.fps = (s.windowFrames * 1000) / (now - s.windowStart);
    s.windowFrames = 0;
    s.windowStart = now;
  }
  const h = app.frame && app.frame.header;
  const conn = app.ws && app.ws.readyState === WebSocket.OPEN ? "connected" : "offline";
  $("status").textContent = [
    conn, app.role || "—", h ? `step ${h.step} · t ${h.time.toFixed(2)} s` : "no frame yet",
    `${s.fps.toFixed(0)} frames/s`, `frame age ${s.ageMs.toFixed(0)} ms`, `reproject ${s.reprojMs.toFixed(1)} ms`,
    app.busy ? "turn running" : "idle", app.xr ? "VR" : "desktop",
  ].join("  ·  ");
}

function bindUI() {
  $("action-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("action").value.trim();
    if (!text) return;
    const duration = Math.min(10, Math.max(0.05, parseFloat($("duration").value) || 1));
    send({ type: "action", text, duration });
    $("action").value = "";
  });
  $("action").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("action-form").requestSubmit(); }
  });
  $("undo").addEventListener("click", () => { if (app.steps > 0) send({ type: "rewind", step: app.steps - 1 }); });
  canvas.addEventListener("pointerdown", (ev) => { app.dragging = true; canvas.setPointerCapture(ev.pointerId); });
  canvas.addEventListener("pointerup", () => { app.dragging = false; });
  canvas.addEventListener("pointermove", (ev) => {
    if (!app.dragging) return;
    const k = (Math.PI / 3) / canvas.clientHeight;
    app.yaw -= ev.movementX * k;
    app.pitch = Math.max(-1.5, Math.min(1.5, app.pitch - ev.movementY * k));
    app.poseDirty = true;
  });
  canvas.addEventListener("dblclick", () => { app.yaw = 0; app.pitch = app.hello ? app.hello.home_pitch : 0; app.poseDirty = true; });
  $("enter-vr").addEventListener("click", enterVR);
  $("create").addEventListener("click", createSession);
  $("copy").addEventListener("click", () => { $("spectator-link").select(); navigator.clipboard?.writeText($("spectator-link").value); });
  if (navigator.xr && navigator.xr.isSessionSupported) {
    navigator.xr.isSessionSupported("immersive-vr").then((ok) => { $("enter-vr").disabled = !ok; }).catch(() => {});
  }
}

async function loadScenes() {
  const r = await fetch("/api/scenes");
  const { scenes } = await r.json();
  $("scene-select").replaceChildren(...scenes.map((s) => new Option(s, s)));
  $("picker").hidden = false;
}

async function createSession() {
  const r = await fetch("/api/sessions", {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${app.key}` },
    body: JSON.stringify({ scene: $("scene-select").value }),
  });
  const body = await r.json();
  if (!r.ok) { logLine("error", body.error ? body.error.message : r.statusText, true); return; }
  sessionStorage.setItem(`spectate:${body.session}`, body.spectator_token);
  location.hash = `key=${encodeURIComponent(app.key)}&session=${body.session}&token=${body.player_token}`;
  location.reload();
}

function main() {
  bindUI();
  if (!glp) setOverlay("This browser has no WebGL.");
  if (app.key) loadScenes().catch((e) => logLine("error", `cannot list scenes: ${e}`, true));
  if (app.session && app.token) {
    const spect = sessionStorage.getItem(`spectate:${app.session}`);
    if (spect) {
      $("spectator-link").value = `${location.origin}/#session=${app.session}&token=${spect}`;
      $("share").hidden = false;
    }
    connect();
  } else {
    setOverlay(app.key ? "Pick a scene and create a session." : "Open the link `callosum serve` printed, or a session link.");
  }
  requestAnimationFrame(desktopFrame);
  setInterval(status, 250);
}

main();
