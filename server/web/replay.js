// Replay and scrub of the last turn: its frames are kept as they arrive (every one, even those the
// live view skipped), and shown through the same reprojection as live frames.
"use strict";

import { $, renderControls } from "./ui.js";

const MAX_RECORDED = 600;

export class Replay {
  // `app.recording`: {step, frames: [{header, blob}], done}; `app.replay`: set while replaying.
  // `showLive(frame)` puts the newest live frame back on screen when the replay ends.
  constructor(app, rp, showLive) {
    this.app = app;
    this.rp = rp;
    this.showLive = showLive;
  }

  // Keep a frame of the turn being played.
  record(header, blob) {
    const app = this.app;
    if (!app.recording || app.recording.step !== header.step || app.recording.done) {
      app.recording = { step: header.step, frames: [], done: false };
    }
    if (app.recording.frames.length < MAX_RECORDED) app.recording.frames.push({ header, blob });
    $("scrub").max = String(app.recording.frames.length - 1);
    if (!app.replay) $("scrub").value = $("scrub").max;
  }

  // Show recorded frame `index` (clamped) with its badge.
  async show(index) {
    const app = this.app, rec = app.recording;
    if (!rec || !rec.frames.length) return;
    index = Math.max(0, Math.min(rec.frames.length - 1, index));
    const f = rec.frames[index];
    const bitmap = await createImageBitmap(f.blob);
    if (!app.replay) { bitmap.close(); return; }
    if (app.replay.bitmap) app.replay.bitmap.close();
    app.replay.bitmap = bitmap;
    app.replay.index = index;
    this.rp.upload(f.header, bitmap);
    $("scrub").value = String(index);
    const badge = $("replay-badge");
    badge.hidden = false;
    badge.textContent = `Replay · turn ${rec.step} · frame ${index + 1}/${rec.frames.length} · t ${f.header.time.toFixed(2)} s`;
  }

  // Enter replay; with `play`, play the frames from the first at their own pace (sim time).
  start(play) {
    const app = this.app;
    if (!app.recording || !app.recording.frames.length) return;
    this.stopTimer();
    if (!app.replay) app.replay = { index: 0, playing: false, timer: null, bitmap: null };
    if (play) {
      const frames = app.recording.frames, t0 = performance.now(), sim0 = frames[0].header.time;
      app.replay.playing = true;
      app.replay.index = 0;
      const tick = () => {
        if (!app.replay || !app.replay.playing) return;
        const simNow = sim0 + (performance.now() - t0) / 1000;
        let i = app.replay.index;
        while (i + 1 < frames.length && frames[i + 1].header.time <= simNow) i++;
        this.show(i);
        if (i >= frames.length - 1) { app.replay.playing = false; $("replay-play").textContent = "Replay"; return; }
        app.replay.timer = setTimeout(tick, 15);
      };
      $("replay-play").textContent = "Pause";
      tick();
    }
    renderControls(app);
  }

  stopTimer() {
    if (this.app.replay) { this.app.replay.playing = false; clearTimeout(this.app.replay.timer); }
    $("replay-play").textContent = "Replay";
  }

  // Leave the replay: back to the live view.
  live() {
    const app = this.app;
    this.stopTimer();
    if (app.replay && app.replay.bitmap) app.replay.bitmap.close();
    app.replay = null;
    $("replay-badge").hidden = true;
    if (app.live) this.showLive(app.live);
    if (app.recording) $("scrub").value = String(app.recording.frames.length - 1);
    renderControls(app);
  }

  bind() {
    $("replay-play").addEventListener("click", () => {
      if (this.app.replay && this.app.replay.playing) { this.stopTimer(); return; }
      this.start(true);
    });
    $("scrub").addEventListener("input", () => {
      this.start(false);
      this.stopTimer();
      this.show(Number($("scrub").value));
    });
    $("live").addEventListener("click", () => this.live());
  }
}
