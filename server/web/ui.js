// The page's panels: narration log, entity table, turn progress, view legend, controls.
// Everything is built with textContent and DOM nodes (never innerHTML), so no text can inject markup.
"use strict";

export const $ = (id) => document.getElementById(id);

const STAGES = {
  queued: "waiting", plan: "planning", validate: "checking the plan", simulate: "simulating",
  reconcile: "checking the words",
  render: "rendering", commit: "saving", play: "playing", done: "done", cancelled: "stopped", failed: "failed",
};

export function stageWord(stage) { return STAGES[stage] || stage; }

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- narration log -------------------------------------------------------------------------------

// One line of the log. `kind`: turn, info, undo, error, stopped. `step` ties a turn line to its step.
export function logLine(kind, tag, text, extra = {}) {
  const li = el("li", kind);
  if (extra.step !== undefined) li.dataset.step = String(extra.step);
  li.append(el("span", "tag", tag), document.createTextNode(text));
  if (extra.action) li.append(el("span", "act", `“${extra.action}”`));
  if (extra.onRewind) {
    const b = el("button", "link", "rewind here");
    b.type = "button";
    b.title = `Go back to the world right after this turn (step ${extra.step}); later turns are taken back`;
    b.addEventListener("click", extra.onRewind);
    li.append(b);
  }
  const log = $("log");
  log.append(li);
  while (log.children.length > 300) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
  return li;
}

export function turnLine(app, step, narration, action) {
  return logLine("turn", `turn ${step}`, narration || "(nothing happens)", {
    step, action: action && action !== narration ? action : "",
    onRewind: app.role === "player" ? () => app.rewind(step) : null,
  });
}

// Mark turn lines after `step` as taken back (undo, rewind, or a turn stopped during playback).
export function markUndone(step, why) {
  for (const li of $("log").querySelectorAll("li.turn")) {
    if (Number(li.dataset.step) > step && !li.classList.contains("undone")) {
      li.classList.add("undone");
      li.title = why;
    }
  }
}

// ---- entity table ---------------------------------------------------------------------------------

const fmt = (v) => v.map((x) => (Math.abs(x) < 0.0005 ? 0 : x).toFixed(2)).join(", ");

export function renderEntities(world) {
  const body = $("entities").tBodies[0];
  const rows = [];
  const entries = Object.entries((world && world.entities) || {});
  entries.sort((a, b) => Number(a[1].fixed) - Number(b[1].fixed)); // free bodies first, then held ones
  for (const [id, e] of entries) {
    const tr = el("tr");
    tr.dataset.id = id;
    const name = el("td", "id");
    const sw = el("span", "swatch");
    sw.style.background = e.color;
    name.append(sw, el("span", "", id), el("span", "desc", e.description || ""));
    name.title = `${id}: ${e.description || ""} (${e.shape}, ${e.mass.toFixed(2)} kg, colour ${e.color})`;
    const speed = Math.hypot(...e.velocity);
    const v = el("td", "num", speed.toFixed(2));
    v.title = `velocity [${fmt(e.velocity)}] m/s`;
    const held = el("td", e.fixed ? "held" : "free", e.fixed ? "held" : "free");
    held.title = e.fixed ? "held in place (fixed)" : "free to move";
    tr.append(name, el("td", "num", fmt(e.position)), v, held);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

// ---- progress, legend, notes ----------------------------------------------------------------------

export function renderBusy(app) {
  const p = app.progress;
  const show = Boolean(app.busy && p && app.online);
  $("busy").hidden = !show;
  if (!show) return;
  const secs = Math.max(0, (performance.now() - p.t0) / 1000);
  const waiting = p.queued ? ` · ${p.queued} waiting` : "";
  $("busy-text").textContent = `Turn ${p.step} · ${stageWord(p.stage)} · ${secs.toFixed(1)} s${waiting}`;
}

export function renderLegend(header) {
  const box = $("legend");
  if (!header || header.view === "rgb") { box.hidden = true; return; }
  const items = [];
  if (header.view === "depth" && header.depth_range) {
    const [near, far] = header.depth_range;
    items.push(el("span", "small", `${near.toFixed(1)} m`), el("span", "ramp"), el("span", "small", `${far.toFixed(1)} m and beyond`));
  } else if (header.view === "segmentation" && header.legend) {
    for (const [id, colour] of Object.entries(header.legend)) {
      const chip = el("span", "chip");
      const sw = el("span", "swatch");
      sw.style.background = colour;
      chip.append(sw, document.createTextNode(id));
      items.push(chip);
    }
  }
  box.replaceChildren(...items);
  box.hidden = items.length === 0;
}

export function note(text, isError = false) {
  const n = $("form-note");
  n.textContent = text;
  n.classList.toggle("err", isError);
}

// ---- controls -------------------------------------------------------------------------------------

// Enable exactly what can be used now: nothing while offline, no new turn while one runs.
export function renderControls(app) {
  const actor = app.online && app.role === "player";
  const idle = actor && !app.busy;
  for (const id of ["action", "duration", "send"]) $(id).disabled = !idle;
  $("undo").disabled = !idle || app.steps === 0;
  $("undo").title = app.steps === 0 ? "Nothing to undo: the session is at its start" : "Take back the last turn";
  $("stop").disabled = !(actor && app.busy);
  $("stop-overlay").hidden = !(actor && app.busy);
  for (const b of document.querySelectorAll("[data-view]")) {
    b.disabled = !actor;
    b.setAttribute("aria-pressed", String(b.dataset.view === app.view));
  }
  $("download").disabled = !app.online || app.steps === 0;
  const frames = app.recording ? app.recording.frames.length : 0;
  $("replay-play").disabled = frames === 0;
  $("scrub").disabled = frames === 0;
  $("live").disabled = !app.replay;
  $("send").title = app.busy ? "A turn is running: wait for it, or press Stop" : "Play this action (Enter)";
  if (app.role === "spectator") $("action").placeholder = "Spectating: you can watch, not act";
  const conn = $("conn");
  conn.textContent = !app.session ? "no session" : app.online ? "online" : app.everConnected ? "offline" : "connecting";
  conn.className = `pill ${app.online ? "ok" : "bad"}`;
}
