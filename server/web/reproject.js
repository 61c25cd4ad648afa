// Local reprojection: small maths and one WebGL full-screen pass that draws the last server frame
// for the current eye orientation. Exact for head rotation whatever the server's frame rate.
"use strict";

// ---- small maths: quaternions (x, y, z, w) and column-major matrices ------------------------

export function quatYawPitch(yaw, pitch) {
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

export function perspective(fovY, aspect, near, far) {
  const f = 1 / Math.tan(fovY / 2), nf = 1 / (near - far);
  return [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1, 0, 0, 2 * far * near * nf, 0];
}

export function invert4(m) {
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

// ---- WebGL -------------------------------------------------------------------------------------

// The view ray of a pixel is linear in its screen position (an inverse perspective keeps w constant
// at a fixed NDC depth), and so is its rotation into the frame's camera: the vertex shader computes
// both at the corners and the rasteriser interpolates them exactly, leaving the fragment shader one
// projection and one texture fetch.
const VERT = `
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

// Project the rotated ray onto the frame (the server camera's field of view), with a soft edge
// and a dark gradient outside it.
const FRAG = `
precision highp float;
uniform sampler2D uTex;
uniform vec2 uTan;
uniform vec4 uRect;
uniform float uHave;
varying vec3 vRay;
varying float vUp;
void main() {
  vec3 bg = mix(vec3(0.035, 0.045, 0.06), vec3(0.07, 0.085, 0.11), clamp(vUp * 0.5 + 0.5, 0.0, 1.0));
  if (uHave < 0.5 || vRay.z > -1e-4) { gl_FragColor = vec4(bg, 1.0); return; }
  vec2 s = vRay.xy / (-vRay.z * uTan);
  vec2 edge = vec2(1.0) - smoothstep(vec2(0.97), vec2(1.0), abs(s));
  vec2 uv = vec2(0.5 + 0.5 * s.x, 0.5 - 0.5 * s.y);
  vec3 img = texture2D(uTex, uRect.xy + clamp(uv, 0.0, 1.0) * uRect.zw).rgb;
  gl_FragColor = vec4(mix(bg, img, edge.x * edge.y), 1.0);
}`;

// One program, one texture (the frame being shown) and the header that came with it.
export class Reprojector {
  constructor(canvas) {
    this.canvas = canvas;
    this.gl = canvas.getContext("webgl", { antialias: false, xrCompatible: true });
    this.header = null;
    if (this.gl) this.p = this.setup();
  }

  get ok() { return Boolean(this.gl && this.p); }

  setup() {
    const gl = this.gl;
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

  // Show a decoded frame: its image goes to the texture, its header says how it was rendered.
  upload(header, bitmap) {
    this.header = header;
    if (!this.ok) return;
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.p.tex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, bitmap);
  }

  // The orientation the shown frame was rendered for (`home` when it came from the scene camera).
  frameQuat(home) {
    const h = this.header;
    return h && h.pose ? h.pose.orientation : home;
  }

  // Draw the frame for one eye: `invProj` of that eye, its orientation, and which half (0 left, 1 right).
  drawEye(invProj, eyeQuat, eye, home) {
    const gl = this.gl, p = this.p, h = this.header;
    gl.useProgram(p.prog);
    gl.bindBuffer(gl.ARRAY_BUFFER, p.buf);
    gl.enableVertexAttribArray(p.aPos);
    gl.vertexAttribPointer(p.aPos, 2, gl.FLOAT, false, 0, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, p.tex);
    gl.uniform1i(p.uTex, 0);
    gl.uniform1f(p.uHave, h ? 1 : 0);
    gl.uniformMatrix4fv(p.uInvProj, false, new Float32Array(invProj));
    const delta = mat3TransposeMul(mat3FromQuat(this.frameQuat(home)), mat3FromQuat(eyeQuat));
    gl.uniformMatrix3fv(p.uDelta, false, new Float32Array(delta));
    if (h) {
      const eyeW = h.stereo ? h.width / 2 : h.width;
      const tanY = Math.tan((h.fov_y * Math.PI) / 360);
      gl.uniform2f(p.uTan, tanY * (eyeW / h.height), tanY);
      gl.uniform4f(p.uRect, h.stereo && eye === 1 ? 0.5 : 0, 0, h.stereo ? 0.5 : 1, 1);
    }
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  // Match the canvas's drawing buffer to its size on screen (device pixels, at most 2x).
  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const w = Math.max(64, Math.round(r.width * dpr)), h = Math.max(48, Math.round(r.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; }
  }
}
