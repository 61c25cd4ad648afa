// The page's REST side: scenes, new sessions, the share link, the MP4 download, and the VR button.
"use strict";

import { $, logLine, renderControls } from "./ui.js";

// Make the scene picker show `scene` (the session's), adding it if the list lacks it.
export function followScene(scene) {
  const sel = $("scene-select");
  if (![...sel.options].some((o) => o.value === scene)) sel.append(new Option(scene, scene));
  sel.value = scene;
}

export async function download(app) {
  const btn = $("download");
  btn.disabled = true;
  btn.textContent = "Preparing…";
  try {
    const r = await fetch(`/api/sessions/${encodeURIComponent(app.session)}/video.mp4`,
                          { headers: { Authorization: `Bearer ${app.token}` } });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      logLine("error", "error", body.error ? body.error.message : `download failed (${r.status})`);
      return;
    }
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = `${app.hello ? app.hello.scene : "callosum"}-${app.session}.mp4`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    logLine("info", "mp4", `Downloaded ${r.headers.get("X-Frame-Count") || "the"} frames as ${a.download}.`);
  } finally {
    btn.textContent = "Download MP4";
    renderControls(app);
  }
}

export function setupVrButton() {
  const button = $("enter-vr"), wrap = $("vr-wrap");
  const off = (why) => { button.disabled = true; wrap.title = why; button.title = why; wrap.classList.add("off"); };
  if (!window.isSecureContext) { off("VR needs a secure page: open it over https, or as http://localhost (see docs/server.md)"); return; }
  if (!navigator.xr || !navigator.xr.isSessionSupported) { off("This browser has no WebXR: open this page in a headset's browser (e.g. Quest Browser)"); return; }
  off("Checking for a VR headset…");
  navigator.xr.isSessionSupported("immersive-vr").then((ok) => {
    if (!ok) { off("No VR headset found: connect one, or open this page in a headset's browser"); return; }
    button.disabled = false;
    wrap.classList.remove("off");
    wrap.title = button.title = "Enter VR: stereo frames follow your head";
  }).catch((err) => off(`WebXR is not available: ${err.message || err}`));
}

export async function loadScenes(app) {
  const r = await fetch("/api/scenes");
  const { scenes } = await r.json();
  $("scene-select").replaceChildren(...scenes.map((s) => new Option(s, s)));
  if (app.hello) followScene(app.hello.scene);
  $("picker").hidden = false;
}

export async function createSession(app) {
  const r = await fetch("/api/sessions", {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${app.key}` },
    body: JSON.stringify({ scene: $("scene-select").value }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { logLine("error", "error", body.error ? body.error.message : r.statusText); return; }
  sessionStorage.setItem(`spectate:${body.session}`, body.spectator_token);
  location.hash = `key=${encodeURIComponent(app.key)}&session=${body.session}&token=${body.player_token}`;
  location.reload();
}

export async function createWorld(app) {
  const prompt = $("world-prompt").value.trim();
  if (!prompt) return;
  logLine("info", "info", `building a world: ${prompt}`);
  const r = await fetch("/api/worlds", {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${app.key}` },
    body: JSON.stringify({ prompt }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { logLine("error", "error", body.error ? body.error.message : r.statusText); return; }
  sessionStorage.setItem(`spectate:${body.session}`, body.spectator_token);
  sessionStorage.setItem(`world:${body.session}`, JSON.stringify([...body.assumptions, ...body.renderer_only.map((w) => `renderer only: ${w}`)]));
  location.hash = `key=${encodeURIComponent(app.key)}&session=${body.session}&token=${body.player_token}`;
  location.reload();
}

export function showShare(app) {
  const spect = sessionStorage.getItem(`spectate:${app.session}`);
  if (!spect) return;
  $("spectator-link").value = `${location.origin}/#session=${app.session}&token=${spect}`;
  $("share").hidden = false;
}
