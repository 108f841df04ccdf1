/* Digit recognizer UI.
 *
 * Talks to the service on the same origin:
 *   GET  health             model card and readiness (200 ready, 503 no model yet)
 *   POST predict?preview=1  multipart/form-data, field "file": a PNG of the drawing
 *                           or the uploaded file as it is
 * The page is served with Content-Security-Policy: default-src 'self', so all code
 * lives here and in the modules imported below, and all styling in style.css (styles
 * set through the CSSOM are fine).
 */
import { percent, duration, dateTime, bytes } from './format.js';
import * as page from './page.js';

const PREDICT_URL = 'predict?preview=1';
const HEALTH_URL = 'health';
const AUTO_PREDICT_MS = 600;
// Below this confidence the page says "not sure" and shows the digit as a guess.
// Chosen on the out-of-distribution sets (README, "Accuracy on other handwriting";
// tests/ood/evaluate.py reads this line): with the default model, more than half of
// the answers under 0.8 were wrong and 3 % of those above; it catches 70 % of the
// wrong answers and, with the refusals, 61 % of the pictures without a digit.
const NOT_SURE_BELOW = 0.8;

const $ = (id) => document.getElementById(id);
const pad = $('pad');
const dropZone = $('drop-zone');
const uploadName = $('upload-name');
const predictBtn = $('predict-btn');
const clearBtn = $('clear-btn');
const uploadBtn = $('upload-btn');
const fileInput = $('file-input');
const autoPredict = $('auto-predict');
const message = $('message');
const announce = $('announce');
const resultCard = $('result-card');
const resultMain = $('result-main');
const resultEmpty = $('result-empty');
const resultDigit = $('result-digit');
const predictionLabel = $('prediction-label');
const unsureNote = $('result-unsure');
const unsureText = $('result-unsure-text');
const quickResult = $('quick-result');
const resultConfidence = $('result-confidence');
const resultElapsed = $('result-elapsed');
const preview = $('preview');
const bars = $('bars');
const statusPill = $('service-status');
const curlExample = $('curl-example');
const copyBtn = $('copy-btn');

const ctx = pad.getContext('2d');
const previewCtx = preview.getContext('2d');

/* ------------------------------------------------------------ messages */

// Which part of the page put the current message up ('health' or 'predict'),
// so that one part clears only its own messages.
let messageSource = null;

function showMessage(source, title, detail, kind) {
  messageSource = source;
  page.showMessage(message, title, detail, kind);
}

function clearMessage(source) {
  if (source && messageSource !== source) return;
  messageSource = null;
  page.clearMessage(message);
}

/* ------------------------------------------------------------ model card and health */

let currentModel = null;

function setFact(id, text, isoForTime) {
  const dd = $(id);
  if (text == null || text === '') {
    dd.textContent = '–';
    return;
  }
  if (isoForTime) {
    const t = document.createElement('time');
    t.dateTime = isoForTime;
    t.textContent = text;
    dd.replaceChildren(t);
  } else {
    dd.textContent = text;
  }
}

function showModel(m) {
  currentModel = m;
  setFact('model-version', typeof m.version === 'string' ? m.version : null);
  let acc = Number(m.test_accuracy);
  if (Number.isFinite(acc)) {
    if (acc <= 1) acc *= 100; // a fraction rather than a percentage
    setFact('model-accuracy', acc.toFixed(2) + '%');
  } else {
    setFact('model-accuracy', null);
  }
  setFact('model-created', dateTime(m.created), m.created);
  setFact('model-epochs', Number.isFinite(m.epochs) ? String(m.epochs) : null);
  setFact('model-training', Number.isFinite(m.training_seconds) ? duration(m.training_seconds) : null);
  setFact('model-loaded', dateTime(m.loaded_at), m.loaded_at);
}

// The service's own reason (e.g. a file path) is for operators, in /health; people
// get a plain sentence.
function notReadyText() {
  return 'No model is loaded yet. Predictions will work as soon as one is; this page checks again every few seconds.';
}

// One look at /health (health.now() asks for one, health.after(ms) plans the next).
async function checkHealth() {
  try {
    const res = await fetch(HEALTH_URL, { cache: 'no-store', headers: { Accept: 'application/json' } });
    const body = await page.jsonBody(res);
    if (res.ok && body && body.model && typeof body.model === 'object') {
      showModel(body.model);
      const v = typeof body.model.version === 'string' ? ' · model ' + body.model.version.slice(0, 8) : '';
      page.setStatus('ready', 'Ready' + v);
      clearMessage('health');
      health.after(page.POLL_READY_MS);
    } else if (res.status === 503) {
      page.setStatus('unavailable', 'Not ready: no model yet');
      if (messageSource !== 'predict') {
        showMessage('health', 'The service is not ready yet.', notReadyText(), 'warn');
      }
      health.after(page.POLL_UNAVAILABLE_MS);
    } else {
      page.setStatus('offline', 'Service error (HTTP ' + res.status + ')');
      health.after(page.POLL_OFFLINE_MS);
    }
  } catch (e) {
    page.setStatus('offline', 'Service unreachable');
    if (messageSource !== 'predict') {
      showMessage('health', 'The service cannot be reached.', 'Check your connection; this page keeps trying.', 'error');
    }
    health.after(page.POLL_OFFLINE_MS);
  }
}
const health = page.poller(checkHealth);

/* ------------------------------------------------------------ result */

const barRows = [];

function buildBars() {
  for (let d = 0; d < 10; d++) {
    const li = document.createElement('li');
    const digit = document.createElement('span');
    digit.className = 'bar-digit';
    const hidden = document.createElement('span');
    hidden.className = 'visually-hidden';
    hidden.textContent = 'digit ';
    digit.append(hidden, String(d));
    const track = document.createElement('span');
    track.className = 'bar-track';
    track.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'bar-value';
    value.textContent = '–';
    li.append(digit, track, value);
    bars.append(li);
    barRows.push({ li, fill, value });
  }
}

function clearPreview() {
  previewCtx.fillStyle = '#000';
  previewCtx.fillRect(0, 0, preview.width, preview.height);
  preview.setAttribute('aria-label', 'No image yet');
}

function resetResult() {
  resultMain.dataset.state = 'empty';
  delete resultMain.dataset.sure;
  predictionLabel.textContent = 'Prediction';
  unsureNote.hidden = true;
  unsureText.textContent = '';
  resultEmpty.hidden = false;
  quickResult.hidden = true;
  quickResult.replaceChildren();
  resultDigit.textContent = '?';
  resultConfidence.textContent = '–';
  resultElapsed.textContent = '–';
  for (const row of barRows) {
    row.fill.style.width = '0%';
    row.value.textContent = '–';
    row.li.classList.remove('top');
  }
  clearPreview();
}

function setBusy(busy) {
  resultCard.setAttribute('aria-busy', busy ? 'true' : 'false');
  if (busy) {
    resultMain.dataset.state = 'busy';
  } else if (resultMain.dataset.state === 'busy') {
    resultMain.dataset.state = resultEmpty.hidden ? 'done' : 'empty';
  }
}

function drawPreview(pixels) {
  if (!Array.isArray(pixels) || pixels.length !== 28 * 28) {
    clearPreview();
    return;
  }
  const img = previewCtx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.max(0, Math.min(255, Number(pixels[i]) | 0));
    img.data[4 * i] = v;
    img.data[4 * i + 1] = v;
    img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  previewCtx.putImageData(img, 0, 0);
  preview.setAttribute('aria-label', 'The 28 by 28 pixel image the model saw, white digit on black');
}

function showResult(body) {
  const probs = Array.isArray(body.probabilities) ? body.probabilities.map(Number) : [];
  const digit = body.prediction;
  const confidence = Number.isFinite(body.confidence) ? body.confidence : probs[digit];
  resultMain.dataset.state = 'done';
  resultEmpty.hidden = true;
  resultDigit.textContent = String(digit);
  resultConfidence.textContent = percent(confidence);
  const sure = showSureness(digit, confidence);
  const b = document.createElement('b');
  b.textContent = String(digit);
  quickResult.replaceChildren(sure ? 'Reads as ' : 'Not sure: maybe ', b, ' · ' + percent(confidence));
  quickResult.hidden = false;
  if (Number.isFinite(body.elapsed_us)) {
    resultElapsed.textContent = body.elapsed_us < 1000
      ? Math.round(body.elapsed_us) + ' µs'
      : (body.elapsed_us / 1000).toFixed(1) + ' ms';
  } else {
    resultElapsed.textContent = '–';
  }
  barRows.forEach((row, d) => {
    const p = probs[d];
    const ok = Number.isFinite(p);
    row.fill.style.width = ok ? Math.max(0, Math.min(100, p * 100)).toFixed(2) + '%' : '0%';
    row.value.textContent = ok ? percent(p) : '–';
    row.li.classList.toggle('top', d === digit);
  });
  drawPreview(body.preview);
  announce.textContent = (sure ? 'Prediction: ' : 'Not sure. Best guess: ') + digit +
    ', confidence ' + percent(confidence) + '.';
  if (body.model && currentModel && body.model.version && body.model.version !== currentModel.version) {
    health.now(); // the service swapped in a new model: refresh the card
  } else if (!currentModel) {
    health.now();
  }
}

// A confident answer is "the prediction"; below NOT_SURE_BELOW (or with no usable
// confidence) it is a guess, and the page says so. Returns whether it was sure.
function showSureness(digit, confidence) {
  const sure = Number.isFinite(confidence) && confidence >= NOT_SURE_BELOW;
  resultMain.dataset.sure = sure ? 'yes' : 'no';
  quickResult.dataset.sure = sure ? 'yes' : 'no';
  predictionLabel.textContent = sure ? 'Prediction' : 'Best guess';
  unsureNote.hidden = sure;
  unsureText.textContent = sure ? '' :
    'The model is only ' + percent(confidence) + ' confident that this is a ' + digit +
    ' (it is sure at ' + Math.round(NOT_SURE_BELOW * 100) + '% and above). It may be another ' +
    'digit, or no digit at all: try drawing it larger and clearer, or another picture.';
  return sure;
}

function errorText(status, body) {
  const err = body && body.error && typeof body.error === 'object' ? body.error : {};
  const detail = typeof err.message === 'string' && err.message ? err.message : '';
  const code = typeof err.code === 'string' ? err.code : '';
  const withDetail = (s) => (detail ? s + ' The service said: “' + detail + '”.' : s);
  switch (status) {
    case 503:
      return ['The service is not ready yet.', notReadyText(), 'warn'];
    case 413:
      return ['That image is too large.', withDetail('Try a smaller file.'), 'error'];
    case 415:
      return ['That file is not an image the service can read.', withDetail('Use a PNG, JPEG, GIF or BMP image.'), 'error'];
    case 422:
      if (code === 'no_digit') {
        return ['No digit found in the image.', withDetail('Draw a digit larger, or use a picture with one dark digit on a light background (or the reverse).'), 'error'];
      }
      if (code === 'several_digits') {
        return ['More than one digit found.', withDetail('Draw or send one digit at a time.'), 'error'];
      }
      if (code === 'image_too_large') {
        return ['That image is too large.', withDetail('Try a smaller picture.'), 'error'];
      }
      if (code === 'bad_image') {
        return ['That file is not an image the service can read.', withDetail('Use a PNG, JPEG, GIF or BMP image.'), 'error'];
      }
      return ['The image could not be used.', withDetail('Try another image.'), 'error'];
    case 400:
      return ['The service did not understand the request.', withDetail(''), 'error'];
    default:
      return ['Unexpected answer from the service (HTTP ' + status + ').', withDetail(''), 'error'];
  }
}

let predictSeq = 0;

async function predict(blob, filename) {
  const seq = ++predictSeq;
  clearTimeout(autoTimer);
  setBusy(true);
  const form = new FormData();
  form.append('file', blob, filename);
  let res;
  let body = null;
  try {
    res = await fetch(PREDICT_URL, { method: 'POST', body: form, headers: { Accept: 'application/json' } });
    body = await page.jsonBody(res);
  } catch (e) {
    if (seq !== predictSeq) return;
    setBusy(false);
    resetResult();
    showMessage('predict', 'The service cannot be reached.', 'Check your connection and try again.', 'error');
    announce.textContent = '';
    return;
  }
  if (seq !== predictSeq) return; // a newer request or a clear superseded this one
  setBusy(false);
  if (res.ok && body && Number.isInteger(body.prediction)) {
    clearMessage('predict');
    clearMessage('health');
    if (statusPill.dataset.state !== 'ready') health.now();
    showResult(body);
  } else {
    resetResult();
    const [title, detail, kind] = errorText(res.status, body);
    // "not ready" belongs to the health check, which clears it once a model is in
    showMessage(res.status === 503 ? 'health' : 'predict', title, detail, kind);
    announce.textContent = '';
    if (res.status === 503) {
      page.setStatus('unavailable', 'Not ready: no model yet');
      health.after(page.POLL_UNAVAILABLE_MS);
    }
  }
}

/* ------------------------------------------------------------ drawing pad */

const W = pad.width;
const H = pad.height;
const LINE_WIDTH = Math.round(W * 0.075);
let hasInk = false;
let upload = null; // the uploaded File shown on the pad, sent as it is
let activePointer = null;
let last = null;
let autoTimer = 0;

function setInk(on) {
  hasInk = on;
  dropZone.classList.toggle('has-ink', on);
}

function resetPad() {
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  setInk(false);
  upload = null;
  uploadName.hidden = true;
  uploadName.textContent = '';
}

function point(e) {
  const r = pad.getBoundingClientRect();
  // the canvas has a 2px border; its content box is what maps onto W x H
  const bw = pad.clientLeft;
  const bh = pad.clientTop;
  const cw = pad.clientWidth || r.width;
  const ch = pad.clientHeight || r.height;
  return {
    x: ((e.clientX - r.left - bw) * W) / cw,
    y: ((e.clientY - r.top - bh) * H) / ch,
  };
}

function strokeTo(p) {
  ctx.beginPath();
  ctx.moveTo(last.x, last.y);
  ctx.lineTo(p.x, p.y);
  ctx.stroke();
  last = p;
}

function startStroke(e) {
  if (activePointer !== null) return;
  if (e.pointerType === 'mouse' && e.button !== 0) return;
  e.preventDefault();
  clearTimeout(autoTimer);
  if (upload) resetPad(); // drawing replaces an uploaded picture
  activePointer = e.pointerId;
  try {
    pad.setPointerCapture(e.pointerId);
  } catch (err) {
    /* capture is a nicety: without it strokes still work inside the pad */
  }
  ctx.strokeStyle = '#000000';
  ctx.fillStyle = '#000000';
  ctx.lineWidth = LINE_WIDTH;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  last = point(e);
  ctx.beginPath();
  ctx.arc(last.x, last.y, LINE_WIDTH / 2, 0, Math.PI * 2);
  ctx.fill();
  setInk(true);
}

function moveStroke(e) {
  if (e.pointerId !== activePointer) return;
  e.preventDefault();
  const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
  if (events.length) {
    for (const ce of events) strokeTo(point(ce));
  } else {
    strokeTo(point(e));
  }
}

function endStroke(e) {
  if (e.pointerId !== activePointer) return;
  activePointer = null;
  last = null;
  if (pad.hasPointerCapture && pad.hasPointerCapture(e.pointerId)) {
    pad.releasePointerCapture(e.pointerId);
  }
  if (hasInk && autoPredict.checked) {
    clearTimeout(autoTimer);
    autoTimer = setTimeout(predictDrawing, AUTO_PREDICT_MS);
  }
}

pad.addEventListener('pointerdown', startStroke);
pad.addEventListener('pointermove', moveStroke);
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
pad.addEventListener('lostpointercapture', endStroke);
pad.addEventListener('contextmenu', (e) => e.preventDefault());

function padBlob() {
  return new Promise((resolve, reject) => {
    pad.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas.toBlob failed'))), 'image/png');
  });
}

async function predictDrawing() {
  clearTimeout(autoTimer);
  if (upload) {
    predict(upload, upload.name || 'upload');
    return;
  }
  if (!hasInk) {
    showMessage('predict', 'Nothing to read yet.', 'Draw a digit in the box, or upload an image.', 'warn');
    return;
  }
  try {
    predict(await padBlob(), 'drawing.png');
  } catch (e) {
    showMessage('predict', 'The drawing could not be prepared.', String(e && e.message ? e.message : e), 'error');
  }
}

predictBtn.addEventListener('click', predictDrawing);

clearBtn.addEventListener('click', () => {
  clearTimeout(autoTimer);
  predictSeq++; // ignore any answer still on its way
  setBusy(false);
  resetPad();
  resetResult();
  clearMessage('predict');
  announce.textContent = 'Cleared.';
});

/* ------------------------------------------------------------ uploads: picker, drop, paste */

async function showOnPad(file) {
  resetPad();
  if (typeof createImageBitmap !== 'function') return;
  let bmp;
  try {
    bmp = await createImageBitmap(file);
  } catch (e) {
    return; // not an image the browser can read; the service will say so
  }
  const scale = Math.min(W / bmp.width, H / bmp.height);
  const w = bmp.width * scale;
  const h = bmp.height * scale;
  ctx.imageSmoothingEnabled = scale < 1;
  ctx.drawImage(bmp, (W - w) / 2, (H - h) / 2, w, h);
  ctx.imageSmoothingEnabled = true;
  if (bmp.close) bmp.close();
  setInk(true);
}

async function handleFile(file, how) {
  if (!file) return;
  clearTimeout(autoTimer);
  await showOnPad(file);
  upload = file;
  uploadName.textContent = how + ': ' + (file.name || 'image') + ' (' + bytes(file.size) + ')';
  uploadName.hidden = false;
  predict(file, file.name || 'upload');
}

uploadBtn.addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  const file = fileInput.files && fileInput.files[0];
  handleFile(file, 'Uploaded');
  fileInput.value = ''; // choosing the same file again still fires change
});

const hasFiles = (e) => !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  dropZone.classList.add('dragging');
});
document.addEventListener('dragover', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('dragleave', (e) => {
  if (!hasFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) dropZone.classList.remove('dragging');
});
document.addEventListener('drop', (e) => {
  if (!e.dataTransfer) return;
  e.preventDefault(); // never let the browser navigate to the dropped file
  dragDepth = 0;
  dropZone.classList.remove('dragging');
  const file = e.dataTransfer.files && e.dataTransfer.files[0];
  if (file) handleFile(file, 'Dropped');
});

document.addEventListener('paste', (e) => {
  const data = e.clipboardData;
  if (!data) return;
  let file = data.files && data.files.length ? data.files[0] : null;
  if (!file && data.items) {
    for (const item of data.items) {
      if (item.kind === 'file' && item.type.startsWith('image/')) {
        file = item.getAsFile();
        break;
      }
    }
  }
  if (!file) return;
  e.preventDefault();
  handleFile(file, 'Pasted');
});

/* ------------------------------------------------------------ API example */

function apiUrl() {
  try {
    return new URL('predict', document.baseURI).href;
  } catch (e) {
    return location.origin + '/predict';
  }
}

curlExample.textContent = 'curl -F file=@digit.png ' + apiUrl();

copyBtn.addEventListener('click', async () => {
  const text = curlExample.textContent;
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch (e) {
    ok = false;
  }
  if (!ok) {
    // plain-HTTP pages have no async clipboard: select the text for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents(curlExample);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
  }
  copyBtn.textContent = ok ? 'Copied' : 'Press Ctrl+C';
  announce.textContent = ok ? 'Command copied.' : 'Command selected; press Ctrl+C to copy it.';
  setTimeout(() => {
    copyBtn.textContent = 'Copy';
  }, 2000);
});

/* ------------------------------------------------------------ start */

buildBars();
resetPad();
resetResult();
health.now();
