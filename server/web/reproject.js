// Local reprojection: the last server frame drawn for the current eye pose, every display frame.
// - Frames with depth (a headset's frames): a depth mesh, one vertex per depth sample, carried from the
//   frame's eye to the current eye (6-DoF: rotation and translation); quads that straddle a depth edge
//   are drawn at both depths, the far copy in the background's colour, and what stays empty is filled
//   from the nearest valid pixels.
// - Frames without depth (the flat page's): a full-screen pass that rotates view rays (rotation only).
// Matrix and quaternion maths: gl-matrix (vendored ES modules in vendor/gl_matrix, MIT licence).
"use strict";

import { mat3, mat4, quat } from "./vendor/gl_matrix/index.js";

// ---- small maths on top of gl-matrix --------------------------------------------------------------

export function quatYawPitch(yaw, pitch) { // yaw about y, then pitch about x (XR axes)
  const q = quat.create();
  quat.rotateY(q, q, yaw);
  quat.rotateX(q, q, pitch);
  return Array.from(q);
}

export function perspective(fovY, aspect, near, far) {
  return mat4.perspective(mat4.create(), fovY, aspect, near, far);
}

export function invert4(m) { return mat4.invert(mat4.create(), m); }

// (left, right, bottom, top) frustum tangents of a perspective projection matrix (column-major).
export function tangents(p) {
  return [(p[8] - 1) / p[0], (p[8] + 1) / p[0], (p[9] - 1) / p[5], (p[9] + 1) / p[5]];
}

// The rigid transform of a pose ({position, orientation} arrays) as a matrix: pose space -> reference space.
function poseMatrix(position, orientation) {
  return mat4.fromRotationTranslation(mat4.create(), orientation, position);
}

// ---- shaders --------------------------------------------------------------------------------------

// Rotation only: the view ray of a pixel is linear in its screen position, and so is its rotation into
// the frame's camera, so the vertex shader computes both at the corners and the rasteriser does the rest.
const FLAT_VERT = `
attribute vec2 aPos;
uniform mat4 uInvProj;
uniform mat3 uDelta;
varying vec3 vRay;
varying float vUp;
void main() {
  vec4 p = uInvProj * vec4(aPos, -1.0, 1.0);
  vec3 ray = p.xyz / p.w;
  vRay = uDelta * ray;
  vUp = ray.y / length(ray);
  gl_Position = vec4(aPos, 0.0, 1.0);
}`;

// Project the rotated ray onto the frame (its frustum tangents), with a soft edge and a dark gradient outside.
const FLAT_FRAG = `
precision highp float;
uniform sampler2D uTex;
uniform vec4 uTan;
uniform vec4 uRect;
uniform float uHave;
varying vec3 vRay;
varying float vUp;
void main() {
  vec3 bg = mix(vec3(0.035, 0.045, 0.06), vec3(0.07, 0.085, 0.11), clamp(vUp * 0.5 + 0.5, 0.0, 1.0));
  if (uHave < 0.5 || vRay.z > -1e-4) { gl_FragColor = vec4(bg, 1.0); return; }
  vec2 t = vRay.xy / -vRay.z;
  vec2 uv = vec2((t.x - uTan.x) / (uTan.y - uTan.x), (uTan.w - t.y) / (uTan.w - uTan.z));
  vec2 s = abs(uv * 2.0 - 1.0);
  vec2 edge = vec2(1.0) - smoothstep(vec2(0.97), vec2(1.0), s);
  vec3 img = texture2D(uTex, uRect.xy + clamp(uv, 0.0, 1.0) * uRect.zw).rgb;
  gl_FragColor = vec4(mix(bg, img, edge.x * edge.y), 1.0);
}`;

// The depth mesh: vertex i of quad q (two triangles) is a depth sample, unprojected with the frame
// eye's frustum and metric depth, moved into the current eye and projected with its projection.
// Sky samples (65535) are directions (w = 0), so only rotation moves them; so are quads touching the sky.
const MESH_VERT = `#version 300 es
precision highp float;
precision highp usampler2D;
uniform usampler2D uDepth;
uniform ivec2 uGrid;
uniform int uCol0;
uniform vec4 uTan;
uniform mat4 uFrameToView;
uniform mat4 uProj;
uniform float uEdge;
uniform int uPass;
out vec2 vUv;
const ivec2 CORNER[6] = ivec2[6](ivec2(0, 0), ivec2(1, 0), ivec2(0, 1), ivec2(0, 1), ivec2(1, 0), ivec2(1, 1));
float depthAt(ivec2 c) {
  uint d = texelFetch(uDepth, ivec2(uCol0 + c.x, c.y), 0).r;
  return d == 65535u ? -1.0 : float(d) * 0.001;
}
void main() {
  int quad = gl_VertexID / 6;
  ivec2 q = ivec2(quad % (uGrid.x - 1), quad / (uGrid.x - 1));
  float a = depthAt(q), b = depthAt(q + ivec2(1, 0)), c = depthAt(q + ivec2(0, 1)), e = depthAt(q + ivec2(1, 1));
  // A quad across an object's edge is drawn twice, flat: at its nearest corner's depth (pass 0, it
  // moves with the object) and at its farthest (pass 1, the sky if it touches it), in the colour of
  // that farthest corner: it moves with the background and fills what the object uncovers with it.
  float lo = min(min(a < 0.0 ? 1e9 : a, b < 0.0 ? 1e9 : b), min(c < 0.0 ? 1e9 : c, e < 0.0 ? 1e9 : e));
  float hi = max(max(a, b), max(c, e));
  bool anySky = min(min(a, b), min(c, e)) < 0.0;
  bool edge = hi >= 0.0 && (anySky || hi > lo * uEdge);
  if (uPass == 1 && !edge) { gl_Position = vec4(0.0, 0.0, 2.0, 1.0); return; }
  bool sky = hi < 0.0 || (edge && uPass == 1 && anySky);
  ivec2 s = q + CORNER[gl_VertexID - quad * 6];
  vec2 uv = (vec2(s) + 0.5) / vec2(uGrid);  // the sample's pixel centre; the outer ring reaches the edge
  if (s.x == 0) uv.x = 0.0;
  if (s.y == 0) uv.y = 0.0;
  if (s.x == uGrid.x - 1) uv.x = 1.0;
  if (s.y == uGrid.y - 1) uv.y = 1.0;
  vec3 dir = vec3(mix(uTan.x, uTan.y, uv.x), mix(uTan.w, uTan.z, uv.y), -1.0);
  float d = !edge ? depthAt(s) : uPass == 0 ? lo : hi;
  vec4 view = uFrameToView * (sky ? vec4(dir, 0.0) : vec4(dir * d, 1.0));
  gl_Position = uProj * view;
  if (sky) gl_Position.z = gl_Position.w * 0.99999;
  if (edge && uPass == 1) {  // the background copy takes the colour of its farthest corner
    vec4 far4 = vec4(a, b, c, e);
    far4 = mix(far4, vec4(1e9), vec4(lessThan(far4, vec4(0.0))));
    float m = max(max(far4.x, far4.y), max(far4.z, far4.w));
    ivec2 f = q + (far4.x == m ? ivec2(0, 0) : far4.y == m ? ivec2(1, 0) : far4.z == m ? ivec2(0, 1) : ivec2(1, 1));
    uv = (vec2(f) + 0.5) / vec2(uGrid);
  }
  vUv = uv;
}`;

const MESH_FRAG = `#version 300 es
precision highp float;
uniform sampler2D uTex;
uniform vec4 uRect;
in vec2 vUv;
out vec4 color;
void main() {
  color = vec4(texture(uTex, uRect.xy + vUv * uRect.zw).rgb, 1.0);
}`;

// Fill: a pixel the mesh left empty (alpha 0) takes the mean colour of the valid pixels around it, from
// the smallest mip level of the mesh image where any are found (a coarse nearest-valid fill whose cost
// is bounded: at most nine fetches a pixel, so a head turned past the frame's edge costs no more).
const FILL_FRAG = `#version 300 es
precision highp float;
uniform sampler2D uMesh;
in vec2 vPos;
out vec4 color;
void main() {
  vec4 c = textureLod(uMesh, vPos, 0.0);
  if (c.a > 0.5) { color = vec4(c.rgb, 1.0); return; }
  for (int lod = 1; lod <= 8; lod++) {
    vec4 s = textureLod(uMesh, vPos, float(lod));
    if (s.a > 0.02) { color = vec4(s.rgb / s.a, 1.0); return; }
  }
  color = vec4(0.05, 0.06, 0.08, 1.0);
}`;

const FILL_VERT = `#version 300 es
in vec2 aPos;
out vec2 vPos;
void main() { vPos = aPos * 0.5 + 0.5; gl_Position = vec4(aPos, 0.0, 1.0); }`;

const DEPTH_EDGE = 1.08; // a quad whose far corner is 8 % deeper than its near one straddles an edge

// ---- WebGL ----------------------------------------------------------------------------------------

export class Reprojector {
  constructor(canvas) {
    this.canvas = canvas;
    const opts = { antialias: false, xrCompatible: true };
    this.gl = canvas.getContext("webgl2", opts) || canvas.getContext("webgl", opts);
    this.gl2 = typeof WebGL2RenderingContext !== "undefined" && this.gl instanceof WebGL2RenderingContext;
    this.header = null;
    this.depth = null; // {width, height} of the depth plane in the texture, for the shown frame
    this.targets = {};
    if (this.gl) this.p = this.setup();
  }

  get ok() { return Boolean(this.gl && this.p); }

  // Frames with depth reproject with the mesh (6-DoF); true while the shown frame has its depth.
  get sixDof() { return Boolean(this.gl2 && this.m && this.header && this.header.eyes && this.depth); }

  program(vert, frag) {
    const gl = this.gl;
    const compile = (type, src) => {
      const s = gl.createShader(type);
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
      return s;
    };
    const prog = gl.createProgram();
    gl.attachShader(prog, compile(gl.VERTEX_SHADER, vert));
    gl.attachShader(prog, compile(gl.FRAGMENT_SHADER, frag));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog));
    const u = {};
    for (let i = 0; i < gl.getProgramParameter(prog, gl.ACTIVE_UNIFORMS); i++) {
      const name = gl.getActiveUniform(prog, i).name;
      u[name] = gl.getUniformLocation(prog, name);
    }
    return { prog, u, aPos: gl.getAttribLocation(prog, "aPos") };
  }

  texture(filter) {
    const gl = this.gl, tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, tex);
    for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, filter], [gl.TEXTURE_MAG_FILTER, filter],
                          [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) {
      gl.texParameteri(gl.TEXTURE_2D, k, v);
    }
    return tex;
  }

  setup() {
    const gl = this.gl;
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
    const p = { buf, tex: this.texture(gl.LINEAR), flat: this.program(FLAT_VERT, FLAT_FRAG) };
    if (this.gl2) {
      try {
        this.m = { mesh: this.program(MESH_VERT, MESH_FRAG), fill: this.program(FILL_VERT, FILL_FRAG),
                   depth: this.texture(gl.NEAREST), vao: gl.createVertexArray() };
      } catch (err) {
        console.warn("6-DoF reprojection unavailable, rotation only:", err);
        this.m = null;
      }
    }
    return p;
  }

  // Show a frame: its image (ImageBitmap or VideoFrame) goes to the texture, its depth plane (a
  // Uint16Array of millimetres, or null) to the depth texture, its header says how it was rendered.
  upload(header, image, depth = null) {
    this.header = header;
    if (!this.ok) return;
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.p.tex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, image);
    this.depth = null;
    if (depth && header.depth && this.m) {
      gl.bindTexture(gl.TEXTURE_2D, this.m.depth);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 2);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.R16UI, header.depth.width, header.depth.height, 0, gl.RED_INTEGER,
                    gl.UNSIGNED_SHORT, depth);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
      this.depth = { width: header.depth.width, height: header.depth.height };
    }
  }

  // The orientation the shown frame was rendered for (`home` when it came from the scene camera).
  frameQuat(home, eye = 0) {
    const h = this.header;
    if (h && h.eyes) return h.eyes[Math.min(eye, h.eyes.length - 1)].orientation;
    return h && h.pose ? h.pose.orientation : home;
  }

  // The frame's frustum tangents for one eye (its own for headset frames, else the scene camera's).
  frameTangents(eye) {
    const h = this.header;
    if (h.eyes) return h.eyes[Math.min(eye, h.eyes.length - 1)].tangents;
    const tanY = Math.tan((h.fov_y * Math.PI) / 360), tanX = tanY * ((h.stereo ? h.width / 2 : h.width) / h.height);
    return [-tanX, tanX, -tanY, tanY];
  }

  rect(eye) { const h = this.header; return [h.stereo && eye === 1 ? 0.5 : 0, 0, h.stereo ? 0.5 : 1, 1]; }

  // Rotation only, into the bound framebuffer's viewport: `invProj` of the eye, its orientation, which half.
  drawEye(invProj, eyeQuat, eye, home) {
    const gl = this.gl, p = this.p, f = p.flat, h = this.header;
    gl.useProgram(f.prog);
    gl.bindBuffer(gl.ARRAY_BUFFER, p.buf);
    gl.enableVertexAttribArray(f.aPos);
    gl.vertexAttribPointer(f.aPos, 2, gl.FLOAT, false, 0, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, p.tex);
    gl.uniform1i(f.u.uTex, 0);
    gl.uniform1f(f.u.uHave, h ? 1 : 0);
    gl.uniformMatrix4fv(f.u.uInvProj, false, new Float32Array(invProj));
    const frameRot = mat3.fromQuat(mat3.create(), this.frameQuat(home, eye));
    const delta = mat3.multiply(mat3.create(), mat3.transpose(frameRot, frameRot), mat3.fromQuat(mat3.create(), eyeQuat));
    gl.uniformMatrix3fv(f.u.uDelta, false, delta);
    if (h) {
      gl.uniform4fv(f.u.uTan, this.frameTangents(eye));
      gl.uniform4fv(f.u.uRect, this.rect(eye));
    }
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  // One eye of a headset frame with 6-DoF reprojection, into `fb` at viewport `vp`: `proj` is the
  // eye's projection matrix, `eyePose` its {position, orientation} in the reference space.
  drawEyeSixDof(proj, eyePose, eye, fb, vp) {
    const gl = this.gl, m = this.m, h = this.header;
    const t = this.target(eye, vp.width, vp.height);
    gl.bindFramebuffer(gl.FRAMEBUFFER, t.fb);
    gl.viewport(0, 0, vp.width, vp.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    gl.enable(gl.DEPTH_TEST);
    const e = h.eyes[Math.min(eye, h.eyes.length - 1)];
    const cols = h.stereo ? this.depth.width / 2 : this.depth.width;
    const view = mat4.invert(mat4.create(), poseMatrix(eyePose.position, eyePose.orientation));
    const frameToView = mat4.multiply(mat4.create(), view, poseMatrix(e.position, e.orientation));
    gl.useProgram(m.mesh.prog);
    gl.bindVertexArray(m.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.p.tex);
    gl.uniform1i(m.mesh.u.uTex, 0);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, m.depth);
    gl.uniform1i(m.mesh.u.uDepth, 1);
    gl.uniform2i(m.mesh.u.uGrid, cols, this.depth.height);
    gl.uniform1i(m.mesh.u.uCol0, h.stereo && eye === 1 ? cols : 0);
    gl.uniform4fv(m.mesh.u.uTan, e.tangents);
    gl.uniform4fv(m.mesh.u.uRect, this.rect(eye));
    gl.uniformMatrix4fv(m.mesh.u.uFrameToView, false, frameToView);
    gl.uniformMatrix4fv(m.mesh.u.uProj, false, proj);
    gl.uniform1f(m.mesh.u.uEdge, DEPTH_EDGE);
    for (const pass of [0, 1]) {
      gl.uniform1i(m.mesh.u.uPass, pass);
      gl.drawArrays(gl.TRIANGLES, 0, (cols - 1) * (this.depth.height - 1) * 6);
    }
    gl.disable(gl.DEPTH_TEST);
    gl.bindVertexArray(null);
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.viewport(vp.x, vp.y, vp.width, vp.height);
    gl.useProgram(m.fill.prog);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.p.buf);
    gl.enableVertexAttribArray(m.fill.aPos);
    gl.vertexAttribPointer(m.fill.aPos, 2, gl.FLOAT, false, 0, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, t.tex);
    gl.generateMipmap(gl.TEXTURE_2D);
    gl.uniform1i(m.fill.u.uMesh, 0);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  // An offscreen colour + depth target per eye, the size of its viewport.
  target(eye, w, h) {
    const gl = this.gl;
    let t = this.targets[eye];
    if (t && t.w === w && t.h === h) return t;
    if (t) { gl.deleteFramebuffer(t.fb); gl.deleteTexture(t.tex); gl.deleteRenderbuffer(t.rb); }
    t = { w, h, fb: gl.createFramebuffer(), tex: this.texture(gl.NEAREST), rb: gl.createRenderbuffer() };
    gl.bindTexture(gl.TEXTURE_2D, t.tex);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST_MIPMAP_NEAREST);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    gl.bindRenderbuffer(gl.RENDERBUFFER, t.rb);
    gl.renderbufferStorage(gl.RENDERBUFFER, gl.DEPTH_COMPONENT24, w, h);
    gl.bindFramebuffer(gl.FRAMEBUFFER, t.fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, t.tex, 0);
    gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.DEPTH_ATTACHMENT, gl.RENDERBUFFER, t.rb);
    this.targets[eye] = t;
    return t;
  }

  // Match the canvas's drawing buffer to its size on screen (device pixels, at most 2x).
  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const w = Math.max(64, Math.round(r.width * dpr)), h = Math.max(48, Math.round(r.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; }
  }
}
