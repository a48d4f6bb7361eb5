// The latent explorer of an aekit report. Runs the run's decoder in the page (no network):
// the operations and weights come from aekit/decoder_export.py, embedded as JSON.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("aekit-data").textContent);
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function bytes(base64) {
    const text = atob(base64);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  const WEIGHTS = new Float32Array(bytes(DATA.weights).buffer);
  const CODES = new Float32Array(bytes(DATA.codes).buffer);      // (n, latentDim)
  const PIXELS = bytes(DATA.pixels);                              // (n, C*H*W) uint8
  const [C, H, Wd] = DATA.imageShape;
  const D = DATA.latentDim;

  // ---- the decoder: one function per operation kind, on (C, H, W) float arrays ----
  function linear(op, x) {
    const y = new Float32Array(op.out);
    for (let o = 0; o < op.out; o++) {
      let sum = WEIGHTS[op.b + o];
      const row = op.w + o * op.in;
      for (let i = 0; i < op.in; i++) sum += WEIGHTS[row + i] * x[i];
      y[o] = sum;
    }
    return y;
  }
  function conv(op, x, shape) {
    const [cin, h, w] = shape, k = op.k, s = op.stride, p = op.pad;
    const oh = Math.floor((h + 2 * p - k) / s) + 1, ow = Math.floor((w + 2 * p - k) / s) + 1;
    const y = new Float32Array(op.cout * oh * ow);
    for (let co = 0; co < op.cout; co++) {
      const bias = WEIGHTS[op.b + co];
      for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
        let sum = bias;
        for (let ci = 0; ci < cin; ci++) for (let ky = 0; ky < k; ky++) {
          const iy = oy * s - p + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * s - p + kx;
            if (ix < 0 || ix >= w) continue;
            sum += WEIGHTS[op.w + ((co * cin + ci) * k + ky) * k + kx] * x[(ci * h + iy) * w + ix];
          }
        }
        y[(co * oh + oy) * ow + ox] = sum;
      }
    }
    return [y, [op.cout, oh, ow]];
  }
  function convTranspose(op, x, shape) {
    const [cin, h, w] = shape, k = op.k, s = op.stride, p = op.pad;
    const oh = (h - 1) * s - 2 * p + k + op.outpad[0], ow = (w - 1) * s - 2 * p + k + op.outpad[1];
    const y = new Float32Array(op.cout * oh * ow);
    for (let co = 0; co < op.cout; co++) y.fill(WEIGHTS[op.b + co], co * oh * ow, (co + 1) * oh * ow);
    for (let ci = 0; ci < cin; ci++) for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < w; ix++) {
      const v = x[(ci * h + iy) * w + ix];
      if (v === 0) continue;
      for (let co = 0; co < op.cout; co++) for (let ky = 0; ky < k; ky++) {
        const oy = iy * s - p + ky;
        if (oy < 0 || oy >= oh) continue;
        for (let kx = 0; kx < k; kx++) {
          const ox = ix * s - p + kx;
          if (ox < 0 || ox >= ow) continue;
          y[(co * oh + oy) * ow + ox] += v * WEIGHTS[op.w + ((ci * op.cout + co) * k + ky) * k + kx];
        }
      }
    }
    return [y, [op.cout, oh, ow]];
  }
  function groupNorm(op, x, shape) {
    const [c, h, w] = shape, per = c / op.groups, size = per * h * w;
    const y = new Float32Array(x.length);
    for (let g = 0; g < op.groups; g++) {
      const start = g * size;
      let mean = 0, square = 0;
      for (let i = 0; i < size; i++) mean += x[start + i];
      mean /= size;
      for (let i = 0; i < size; i++) square += (x[start + i] - mean) ** 2;
      const scale = 1 / Math.sqrt(square / size + op.eps);
      for (let i = 0; i < size; i++) {
        const channel = g * per + Math.floor(i / (h * w));
        y[start + i] = (x[start + i] - mean) * scale * WEIGHTS[op.w + channel] + WEIGHTS[op.b + channel];
      }
    }
    return y;
  }
  function nearest(op, x, shape) {  // PyTorch's nearest resizing: source index floor(i * in / out)
    const [c, h, w] = shape, [oh, ow] = op.size;
    const y = new Float32Array(c * oh * ow);
    for (let ch = 0; ch < c; ch++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      const iy = Math.floor((oy * h) / oh), ix = Math.floor((ox * w) / ow);
      y[(ch * oh + oy) * ow + ox] = x[(ch * h + iy) * w + ix];
    }
    return [y, [c, oh, ow]];
  }
  function decode(code) {
    const input = Float32Array.from(code);
    let x = Float32Array.from(code), shape = [x.length];
    for (const op of DATA.ops) {
      switch (op.op) {
        case "linear": x = linear(op, x); shape = [op.out]; break;
        case "conv": [x, shape] = conv(op, x, shape); break;
        case "convT": [x, shape] = convTranspose(op, x, shape); break;
        case "groupnorm": x = groupNorm(op, x, shape); break;
        case "nearest": [x, shape] = nearest(op, x, shape); break;
        case "codelinear": { const y = linear(op, input); x = x.map((v, i) => v + y[i]); break; }
        case "clip": x = x.map((v) => Math.min(Math.max(v, 0), 1)); break;
        case "reshape": shape = op.shape; break;
        case "flatten": shape = [x.length]; break;
        case "leaky": x = x.map((v) => (v > 0 ? v : v * op.slope)); break;
        case "relu": x = x.map((v) => Math.max(v, 0)); break;
        case "silu": x = x.map((v) => v / (1 + Math.exp(-v))); break;
        case "sigmoid": x = x.map((v) => 1 / (1 + Math.exp(-v))); break;
        default: throw new Error("unknown operation " + op.op);
      }
    }
    return x;
  }

  // ---- drawing ----
  function draw(canvas, values, scale) {  // values: (C, H, W) in [0, 1], or 0-255 when scale is 255
    const small = document.createElement("canvas");
    small.width = Wd; small.height = H;
    const context = small.getContext("2d");
    const image = context.createImageData(Wd, H);
    for (let i = 0; i < H * Wd; i++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = values[(C === 1 ? 0 : ch) * H * Wd + i] * (255 / scale);
        image.data[4 * i + ch] = Math.max(0, Math.min(255, Math.round(v)));
      }
      image.data[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    const target = canvas.getContext("2d");
    target.imageSmoothingEnabled = false;
    target.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  const scatter = document.getElementById("scatter");
  const decoded = document.getElementById("decoded");
  const original = document.getElementById("original");
  const reconstruction = document.getElementById("reconstruction");
  const picked = document.getElementById("picked");
  const [xmin, xmax, ymin, ymax] = DATA.bounds;
  const toScreen = (u, v) => [(u - xmin) / (xmax - xmin) * scatter.width,
                              (1 - (v - ymin) / (ymax - ymin)) * scatter.height];
  const toPlane = (px, py) => [xmin + px / scatter.width * (xmax - xmin),
                               ymin + (1 - py / scatter.height) * (ymax - ymin)];

  function drawScatter() {
    const context = scatter.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, scatter.width, scatter.height);
    DATA.points.forEach(([u, v], i) => {
      const [x, y] = toScreen(u, v);
      context.fillStyle = PALETTE[DATA.labels[i] % 10];
      context.fillRect(x - 1.5, y - 1.5, 3, 3);
    });
  }

  // The code at a point of the plane: centre + u * axis0 + v * axis1 + the sliders' offsets.
  const sliders = Array.from(document.querySelectorAll("#sliders input"));
  function codeAt(u, v) {
    const code = Float32Array.from(DATA.centre);
    const weights = [u, v, ...sliders.map((s) => parseFloat(s.value))];
    weights.forEach((weight, axis) => {
      for (let d = 0; d < D; d++) code[d] += weight * DATA.axes[axis][d];
    });
    return code;
  }
  let last = [0, 0];
  function showAt(u, v) {
    last = [u, v];
    draw(decoded, decode(codeAt(u, v)), 1);
    decoded.dataset.code = Array.from(codeAt(u, v), (c) => c.toFixed(3)).join(",");
  }
  scatter.addEventListener("mousemove", (event) => {
    const box = scatter.getBoundingClientRect();
    showAt(...toPlane(event.clientX - box.left, event.clientY - box.top));
  });
  sliders.forEach((slider) => slider.addEventListener("input", () => showAt(...last)));
  scatter.addEventListener("click", (event) => {
    const box = scatter.getBoundingClientRect();
    const cx = event.clientX - box.left, cy = event.clientY - box.top;
    let best = -1, bestDistance = 8 * 8;  // within 8 pixels of a dot
    DATA.points.forEach(([u, v], i) => {
      const [x, y] = toScreen(u, v);
      const distance = (x - cx) ** 2 + (y - cy) ** 2;
      if (distance < bestDistance) { best = i; bestDistance = distance; }
    });
    if (best < 0) return;
    const size = C * H * Wd;
    draw(original, PIXELS.subarray(best * size, (best + 1) * size), 255);
    draw(reconstruction, decode(CODES.subarray(best * D, (best + 1) * D)), 1);
    picked.dataset.index = DATA.indices[best];
    picked.textContent = `test image #${DATA.indices[best]} (label ${DATA.labels[best]})`;
  });

  drawScatter();
  document.getElementById("legend").innerHTML = PALETTE.map(
    (colour, digit) => `<span style="color:${colour}">&#9632; ${digit}</span>`).join(" ");
  showAt((xmin + xmax) / 2, (ymin + ymax) / 2);
  // For tests and the curious: run the decoder and find a dot on screen from the console.
  window.aekit = {
    decode: (code) => Array.from(decode(code)),
    dotPosition: (i) => toScreen(...DATA.points[i]),
    count: DATA.points.length,
  };
})();
