/* Model page: the model being served and how it was trained.
 *
 * Talks to the service on the same origin:
 *   GET health        the loaded model's facts (200 ready, 503 no model yet)
 *   GET model/report  the trainer's JSON report beside the model file (404 without one):
 *                     {"model": {metadata strings}, "epochs": [{"epoch", "train_loss",
 *                     "train_accuracy", "test_loss", "test_accuracy", "seconds",
 *                     "images_per_second"}, ...], "test": {"images", "loss", "accuracy",
 *                     "confusion_matrix": [10][10] (rows true, columns predicted),
 *                     "per_class_accuracy": [10]}, "training_seconds"}
 * The charts are inline SVG built with DOM calls, redrawn to the width they get; every
 * figure is also in a table. The page is served with Content-Security-Policy:
 * default-src 'self', so all code lives here and in the modules imported below, and
 * all styling in style.css.
 */
import { duration, dateTime, bytes } from './format.js';
import * as page from './page.js';

const HEALTH_URL = 'health';
const REPORT_URL = 'model/report';
const SVG_NS = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const main = $('main');
const message = $('report-message');
const setup = $('training-setup');
const curveCard = $('curve-card');
const matrixCard = $('matrix-card');
const curve = $('curve');
const lossChart = $('loss-chart');
const accuracyChart = $('accuracy-chart');
const epochsBody = $('epochs-table').tBodies[0];
const confusionHead = $('confusion-head');
const confusionBody = $('confusion-body');
const perClass = $('per-class');
const mistakes = $('mistakes');

/* ------------------------------------------------------------ formatting */

// 60000 -> "60 000", as the page's prose writes numbers
function grouped(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

// accuracy in percent; the service's and the trainer's figures are percentages,
// a value of at most 1 is taken as a fraction
function pct(v, digits) {
  let a = Number(v);
  if (!Number.isFinite(a)) return '–';
  if (a <= 1 && a >= 0 && digits !== 'raw') a *= 100;
  return a.toFixed(typeof digits === 'number' ? digits : 2) + '%';
}

const loss = (v) => (Number.isFinite(v) ? v.toFixed(4) : '–');
const num = (v) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);

/* ------------------------------------------------------------ messages and status */

const showMessage = (title, detail, kind) => page.showMessage(message, title, detail, kind);
const clearMessage = () => page.clearMessage(message);

/* ------------------------------------------------------------ the model's facts (/health) */

// One fact: plain text, or a <time>/<data> element carrying the exact value.
function setFact(id, text, machine, tag) {
  const dd = $(id);
  if (text == null || text === '') {
    dd.textContent = '–';
    return;
  }
  if (machine == null) {
    dd.textContent = text;
    return;
  }
  const el = document.createElement(tag);
  if (tag === 'time') el.dateTime = machine;
  else el.value = String(machine);
  el.textContent = text;
  dd.replaceChildren(el);
}

function showModel(m) {
  setFact('model-version', typeof m.version === 'string' ? m.version : null);
  setFact('model-accuracy', Number.isFinite(m.test_accuracy) ? pct(m.test_accuracy) : null);
  setFact('model-size', Number.isFinite(m.file_bytes) ? bytes(m.file_bytes) : null, m.file_bytes, 'data');
  setFact('model-training', Number.isFinite(m.training_seconds) ? duration(m.training_seconds) : null,
    m.training_seconds, 'data');
  setFact('model-epochs', Number.isFinite(m.epochs) ? String(m.epochs) : null);
  setFact('model-created', dateTime(m.created), m.created, 'time');
  setFact('model-dataset', typeof m.dataset_sha256 === 'string' && m.dataset_sha256 ? m.dataset_sha256 : null);
  if (Number.isFinite(m.file_bytes)) $('model-size').title = grouped(m.file_bytes) + ' bytes';
}

function clearModel() {
  for (const id of ['model-version', 'model-accuracy', 'model-size', 'model-training', 'model-epochs',
    'model-created', 'model-dataset']) setFact(id, null);
  setup.hidden = true;
}

/* ------------------------------------------------------------ SVG helpers */

function svg(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

function svgText(parent, x, y, text, cls, anchor) {
  const t = svg('text', { x, y, class: cls, 'text-anchor': anchor || 'middle' }, parent);
  t.textContent = text;
  return t;
}

// Round tick positions covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten.
function niceTicks(lo, hi, count) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || 10 * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const values = [];
  for (let v = start; v <= end + step / 2; v += step) values.push(Number(v.toFixed(10)));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / mag === 2.5 ? 1 : 0));
  return { lo: start, hi: end, values, decimals };
}

/**
 * A line chart of per-epoch series into `box`, sized to the box's width.
 * spec: { id, title, summary, unit, domain(lo, hi) -> [lo, hi], series: [{ key, label,
 * kind ('train'|'test'), values: [per epoch] }], epochs: [epoch numbers] }
 */
function drawChart(box, spec) {
  const width = Math.max(240, Math.floor(box.clientWidth || 320));
  const height = Math.round(Math.min(300, Math.max(210, width * 0.56)));
  const pad = { left: width < 360 ? 44 : 52, right: 14, top: 12, bottom: 42 };
  const pw = width - pad.left - pad.right;
  const ph = height - pad.top - pad.bottom;

  const all = spec.series.flatMap((s) => s.values).filter(Number.isFinite);
  const [dlo, dhi] = spec.domain(Math.min(...all), Math.max(...all));
  const ticks = niceTicks(dlo, dhi, ph < 160 ? 4 : 5);
  const ylo = ticks.lo;
  const yhi = ticks.hi;
  const n = spec.epochs.length;
  const inset = Math.min(16, pw / 8);
  const x = (i) => (n === 1 ? pad.left + pw / 2 : pad.left + inset + (i * (pw - 2 * inset)) / (n - 1));
  const y = (v) => pad.top + ph - ((v - ylo) / (yhi - ylo)) * ph;

  const dense = n > 20; // small plain dots, so that the lines stay readable
  const root = svg('svg', {
    class: dense ? 'chart-svg dense' : 'chart-svg',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': `${spec.id}-svg-title ${spec.id}-svg-desc`,
    'data-chart': spec.id,
  });
  svg('title', { id: `${spec.id}-svg-title` }, root).textContent = spec.title;
  svg('desc', { id: `${spec.id}-svg-desc` }, root).textContent = spec.summary;

  // grid and y axis
  const grid = svg('g', { class: 'grid', 'aria-hidden': 'true' }, root);
  ticks.values.forEach((v, i) => {
    const yy = Math.round(y(v)) + 0.5;
    svg('line', { x1: pad.left, x2: pad.left + pw, y1: yy, y2: yy, class: i === 0 ? 'axis' : 'gridline' }, grid);
    svgText(grid, pad.left - 8, yy + 4, v.toFixed(ticks.decimals) + (spec.unit || ''), 'tick-label', 'end');
  });
  // x axis: a label per epoch, thinned out when they would crowd
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((pw - 2 * inset) / 30))));
  for (let i = 0; i < n; i++) {
    if (i % every !== 0 && i !== n - 1) continue;
    if (i !== n - 1 && n - 1 - i < every && i !== 0) continue; // keep the last label clear
    const xx = Math.round(x(i)) + 0.5;
    svg('line', { x1: xx, x2: xx, y1: pad.top + ph, y2: pad.top + ph + 5, class: 'axis' }, grid);
    svgText(grid, xx, pad.top + ph + 19, String(spec.epochs[i]), 'tick-label');
  }
  svgText(grid, pad.left + pw / 2, height - 4, 'Epoch', 'axis-title');

  // the series: a polyline and one point per epoch each
  const r = dense ? 2 : 4;
  for (const s of spec.series) {
    const g = svg('g', { class: `series series-${s.kind}`, 'data-series': s.key }, root);
    const pts = [];
    s.values.forEach((v, i) => {
      if (Number.isFinite(v)) pts.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    });
    svg('polyline', { class: 'line', points: pts.join(' '), fill: 'none' }, g);
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      const c = svg('circle', {
        class: 'point',
        cx: x(i).toFixed(1),
        cy: y(v).toFixed(1),
        r,
        'data-epoch': spec.epochs[i],
        'data-value': v,
      }, g);
      svg('title', null, c).textContent = `Epoch ${spec.epochs[i]}: ${s.label} ${s.format(v)}`;
    });
  }
  box.replaceChildren(root);
}

/* ------------------------------------------------------------ the report */

let report = null;
let drawnWidth = 0;

function validEpochs(r) {
  if (!r || !Array.isArray(r.epochs)) return null;
  const keys = ['train_loss', 'train_accuracy', 'test_loss', 'test_accuracy'];
  const rows = r.epochs.filter((e) => e && typeof e === 'object' && keys.every((k) => Number.isFinite(num(e[k]))));
  return rows.length ? rows : null;
}

function validMatrix(r) {
  const m = r && r.test && r.test.confusion_matrix;
  if (!Array.isArray(m) || m.length !== 10) return null;
  for (const row of m) {
    if (!Array.isArray(row) || row.length !== 10 || !row.every((v) => Number.isInteger(v) && v >= 0)) return null;
  }
  return m;
}

function seriesSummary(label, values, fmt) {
  return `${label} from ${fmt(values[0])} to ${fmt(values[values.length - 1])}`;
}

function drawCharts() {
  const rows = validEpochs(report);
  if (!rows) return;
  drawnWidth = curve.clientWidth;
  const epochs = rows.map((e, i) => (Number.isFinite(num(e.epoch)) ? num(e.epoch) : i + 1));
  const col = (k) => rows.map((e) => num(e[k]));
  const acc = (v) => v.toFixed(2) + '%';
  const n = rows.length;
  const over = n === 1 ? 'after 1 epoch' : `over ${n} epochs`;
  const lossSeries = [
    { key: 'train_loss', label: 'train loss', kind: 'train', values: col('train_loss'), format: loss },
    { key: 'test_loss', label: 'test loss', kind: 'test', values: col('test_loss'), format: loss },
  ];
  const accSeries = [
    { key: 'train_accuracy', label: 'train accuracy', kind: 'train', values: col('train_accuracy'), format: acc },
    { key: 'test_accuracy', label: 'test accuracy', kind: 'test', values: col('test_accuracy'), format: acc },
  ];
  drawChart(lossChart, {
    id: 'loss',
    title: 'Loss per epoch, train and test',
    summary: `Line chart ${over}: ${seriesSummary('train loss', lossSeries[0].values, loss)}; ` +
      `${seriesSummary('test loss', lossSeries[1].values, loss)}. Every figure is in the table “Figures per epoch”.`,
    domain: (lo, hi) => [0, hi * 1.05],
    series: lossSeries,
    epochs,
  });
  drawChart(accuracyChart, {
    id: 'accuracy',
    title: 'Accuracy per epoch, train and test',
    unit: '%',
    summary: `Line chart ${over}: ${seriesSummary('train accuracy', accSeries[0].values, acc)}; ` +
      `${seriesSummary('test accuracy', accSeries[1].values, acc)}. Every figure is in the table “Figures per epoch”.`,
    domain: (lo, hi) => [Math.max(0, lo - (hi - lo) * 0.08 - 0.05), Math.min(100, hi + (hi - lo) * 0.05 + 0.05)],
    series: accSeries,
    epochs,
  });
}

function fillEpochTable(rows) {
  const trs = rows.map((e, i) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = String(Number.isFinite(num(e.epoch)) ? num(e.epoch) : i + 1);
    tr.append(th);
    const cells = [
      loss(num(e.train_loss)),
      pct(num(e.train_accuracy), 'raw'),
      loss(num(e.test_loss)),
      pct(num(e.test_accuracy), 'raw'),
      Number.isFinite(num(e.seconds)) ? duration(num(e.seconds)) : '–',
      Number.isFinite(num(e.images_per_second)) ? grouped(num(e.images_per_second)) : '–',
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  epochsBody.replaceChildren(...trs);
}

function hidden(text) {
  const s = document.createElement('span');
  s.className = 'visually-hidden';
  s.textContent = text;
  return s;
}

function fillMatrix(m, perClassAccuracy) {
  // column headers: the predicted digit
  while (confusionHead.cells.length > 1) confusionHead.deleteCell(-1);
  for (let p = 0; p < 10; p++) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.append(hidden('predicted '), String(p));
    confusionHead.append(th);
  }
  let maxOff = 0;
  for (let t = 0; t < 10; t++) for (let p = 0; p < 10; p++) if (t !== p) maxOff = Math.max(maxOff, m[t][p]);
  const rows = [];
  for (let t = 0; t < 10; t++) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.append(hidden('true '), String(t));
    tr.append(th);
    const total = m[t].reduce((a, b) => a + b, 0);
    for (let p = 0; p < 10; p++) {
      const v = m[t][p];
      const td = document.createElement('td');
      let level;
      if (t === p) {
        level = 'cm-diag';
      } else if (v === 0) {
        level = 'cm-l0';
      } else {
        level = 'cm-l' + Math.min(4, Math.max(1, Math.ceil((4 * v) / maxOff)));
      }
      td.className = 'cm-cell ' + level;
      td.dataset.true = String(t);
      td.dataset.pred = String(p);
      td.textContent = String(v);
      td.title = t === p
        ? `${v} of ${total} test ${t}s read right`
        : `${v} test ${t}${v === 1 ? '' : 's'} read as ${p}`;
      tr.append(td);
    }
    rows.push(tr);
  }
  confusionBody.replaceChildren(...rows);

  // accuracy per digit: the report's figures, or the matrix's own
  const items = [];
  for (let t = 0; t < 10; t++) {
    const total = m[t].reduce((a, b) => a + b, 0);
    let a = Array.isArray(perClassAccuracy) ? num(perClassAccuracy[t]) : NaN;
    if (!Number.isFinite(a)) a = total ? (100 * m[t][t]) / total : NaN;
    const li = document.createElement('li');
    const d = document.createElement('span');
    d.className = 'pc-digit';
    d.append(hidden('digit '), String(t));
    const v = document.createElement('span');
    v.className = 'pc-value';
    v.textContent = pct(a, 'raw');
    const detail = document.createElement('span');
    detail.className = 'pc-detail';
    detail.textContent = `${grouped(m[t][t])} of ${grouped(total)}`;
    li.append(d, v, detail);
    items.push(li);
  }
  perClass.replaceChildren(...items);

  // the five most frequent confusions
  const off = [];
  for (let t = 0; t < 10; t++) for (let p = 0; p < 10; p++) if (t !== p && m[t][p] > 0) off.push([m[t][p], t, p]);
  off.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const list = off.slice(0, 5).map(([v, t, p]) => {
    const li = document.createElement('li');
    const bt = document.createElement('b');
    bt.textContent = String(t);
    const bp = document.createElement('b');
    bp.textContent = String(p);
    const count = document.createElement('span');
    count.className = 'mistake-count';
    count.textContent = v === 1 ? 'once' : `${grouped(v)} times`;
    li.append('a ', bt, ' read as ', bp, count);
    return li;
  });
  if (!list.length) {
    const li = document.createElement('li');
    li.textContent = 'None: every test digit was read right.';
    list.push(li);
  }
  mistakes.replaceChildren(...list);
}

function showSetup(r) {
  const meta = r && r.model && typeof r.model === 'object' ? r.model : {};
  const parts = [];
  const has = (k) => typeof meta[k] === 'string' && meta[k] !== '';
  if (has('architecture')) parts.push(meta.architecture);
  if (has('batch_size')) parts.push('batch ' + meta.batch_size);
  if (has('lr')) parts.push('learning rate ' + meta.lr + (has('schedule') ? ' (' + meta.schedule + ' schedule)' : ''));
  if (has('seed')) parts.push('seed ' + meta.seed);
  if (has('train_images') && has('test_images')) {
    parts.push(grouped(num(meta.train_images)) + ' training and ' + grouped(num(meta.test_images)) + ' test digits');
  }
  if (has('trainer_version')) parts.push('trained by ' + meta.trainer_version);
  setup.textContent = parts.length ? 'Training setup: ' + parts.join(' · ') + '.' : '';
  setup.hidden = parts.length === 0;
}

function showReport(r) {
  report = r;
  const rows = validEpochs(r);
  const m = validMatrix(r);
  showSetup(r);
  if (rows) {
    fillEpochTable(rows);
    curveCard.hidden = false; // before drawing: the charts take the width they get
    drawCharts();
  } else {
    curveCard.hidden = true;
  }
  if (m) {
    fillMatrix(m, r.test.per_class_accuracy);
    matrixCard.hidden = false;
  } else {
    matrixCard.hidden = true;
  }
  updateScrollable();
  return Boolean(rows || m);
}

function hideReport() {
  report = null;
  curveCard.hidden = true;
  matrixCard.hidden = true;
  setup.hidden = true;
}

/* ------------------------------------------------------------ loading */

let shownVersion = null; // the model whose report is shown (or known to be missing)
let reportState = null; // 'ok', 'missing' (404) or 'error'

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  return { res, body: await page.jsonBody(res) };
}

// Fetches and shows the report of `model` (from /health); returns 'ok', 'missing' or 'error'.
async function loadReport(model) {
  let got;
  try {
    got = await getJson(REPORT_URL);
  } catch (e) {
    hideReport();
    showMessage('The training report cannot be reached.', 'Check your connection; this page tries again.', 'error');
    return 'error';
  }
  if (got.res.status === 404) {
    hideReport();
    showMessage('This model has no training report.',
      'The trainer writes one beside the model file it publishes; a model copied or trained elsewhere may come without it. What the model file itself says is below.',
      'warn');
    return 'missing';
  }
  if (!got.res.ok || !got.body || typeof got.body !== 'object' || !showReport(got.body)) {
    hideReport();
    showMessage('The training report could not be read.',
      got.res.ok ? 'It has no per-epoch figures and no confusion matrix.' : `The service answered HTTP ${got.res.status}.`,
      'error');
    return 'error';
  }
  // the report sits beside the model file: when one was replaced and not the other,
  // say so rather than show one model's facts with another one's figures
  const meta = got.body.model && typeof got.body.model === 'object' ? got.body.model : {};
  if (typeof meta.created === 'string' && typeof model.created === 'string' && meta.created !== model.created) {
    showMessage('The training report is from another training run.',
      `The report was written for a model trained ${dateTime(meta.created) || meta.created}, the model being served was trained ${dateTime(model.created) || model.created}. The figures below may not match it.`,
      'warn');
  } else {
    clearMessage();
  }
  return 'ok';
}

// One look at /health, and at the report when the model is new (loader.now() asks for
// one, loader.after(ms) plans the next).
async function load() {
  try {
    let got;
    try {
      got = await getJson(HEALTH_URL);
    } catch (e) {
      page.setStatus('offline', 'Service unreachable');
      showMessage('The service cannot be reached.', 'Check your connection; this page keeps trying.', 'error');
      reportState = null;
      loader.after(page.POLL_OFFLINE_MS);
      return;
    }
    const { res, body } = got;
    if (res.ok && body && body.model && typeof body.model === 'object') {
      const m = body.model;
      const v = typeof m.version === 'string' ? m.version : '';
      page.setStatus('ready', 'Ready' + (v ? ' · model ' + v.slice(0, 8) : ''));
      showModel(m);
      // a new model brings its own report; a missing one may still be written
      if (v !== shownVersion || reportState !== 'ok') {
        reportState = await loadReport(m);
        shownVersion = v;
      }
      loader.after(reportState === 'error' ? page.POLL_OFFLINE_MS : page.POLL_READY_MS);
    } else if (res.status === 503) {
      page.setStatus('unavailable', 'Not ready: no model yet');
      clearModel();
      hideReport();
      shownVersion = null;
      reportState = null;
      showMessage('No model is loaded yet.',
        'There is nothing to show until the service has one; this page checks again every few seconds.', 'warn');
      loader.after(page.POLL_UNAVAILABLE_MS);
    } else {
      page.setStatus('offline', 'Service error (HTTP ' + res.status + ')');
      showMessage('Unexpected answer from the service (HTTP ' + res.status + ').', 'This page tries again.', 'error');
      reportState = null;
      loader.after(page.POLL_OFFLINE_MS);
    }
  } finally {
    main.setAttribute('aria-busy', 'false');
  }
}
const loader = page.poller(load);

// A table wider than the screen scrolls inside its box; the box then takes the
// keyboard focus, so that the arrow keys scroll it.
function updateScrollable() {
  for (const box of document.querySelectorAll('.table-scroll')) {
    if (box.scrollWidth > box.clientWidth + 1) box.tabIndex = 0;
    else box.removeAttribute('tabindex');
  }
}

// redraw the charts to the width they get (rotation, window resize)
let frame = 0;
const onResize = () => {
  cancelAnimationFrame(frame);
  frame = requestAnimationFrame(() => {
    updateScrollable();
    if (report && !curveCard.hidden && curve.clientWidth !== drawnWidth) drawCharts();
  });
};
if (typeof ResizeObserver === 'function') {
  const ro = new ResizeObserver(onResize);
  ro.observe(curve);
  ro.observe(main);
} else {
  window.addEventListener('resize', onResize);
}
document.querySelector('.figures').addEventListener('toggle', updateScrollable);

loader.now();
