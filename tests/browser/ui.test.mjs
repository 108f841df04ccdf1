// The web UI as a person meets it, in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core), against the real service started by run.sh:
//   - drawing digits on the canvas with a mouse, a pen and a finger gives the right digit;
//   - MNIST test digits uploaded through the file picker, dropped and pasted are read right;
//   - a file that is not an image, or an image without a digit, gets a clear error
//     message in the alert region;
//   - pen paths of tests/ood's 'strokes' set, drawn on the pad, give the ink its
//     generator paints for them (the set looks like what people draw here);
//   - an answer below the page's NOT_SURE_BELOW confidence is shown as "not sure", one at
//     or above it as the prediction, and a 422 "no digit" after it is an error again;
//   - a service without a model shows "not ready", then recovers when /health does;
//   - the model card shows what /health says, the curl example points at this server;
//   - no console errors, no CSP violations, no request leaves the origin, no horizontal
//     scroll on a 360 px phone, a keyboard reaches every control in order;
//   - screenshots at desktop and phone sizes go to $ARTIFACTS_DIR.
//
// Environment: MNIST_UI_URL (base URL of the service, required), ARTIFACTS_DIR,
// MNIST_DATA (the IDX files), CHROMIUM (default /usr/bin/chromium), MNIST_UI_MOCK=1 when
// MNIST_UI_URL is tests/browser/mock-server.mjs (which "reads" every image as a 7).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readMnistTest, mnistDigitPng, mnistDir, encodeGrayPng } from './mnist-png.mjs';
import {
  BASE, MOCK, SRC, TIMEOUT, DESKTOP, PHONE, launchChromium, openRecordedPage, withPage, assertClean, screenshot,
} from './harness.mjs';

/** The digit the service should answer: the mock reads everything as 7. */
const expected = (digit) => (MOCK ? 7 : digit);

let browser;
let mnist;

before(async () => {
  mnist = readMnistTest(mnistDir());
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
});

/**
 * This page's init script: reads a canvas's pixels for the test, and notes what the
 * page puts into each FormData it sends (see assertMultipart).
 */
function recordCanvasAndForms() {
  // a canvas's pixels, read through a copy so that the page's own canvases are never
  // read back (Chromium warns about repeated getImageData on a canvas)
  window.__pixels = (canvas) => {
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const c = copy.getContext('2d', { willReadFrequently: true });
    c.drawImage(canvas, 0, 0);
    return c.getImageData(0, 0, copy.width, copy.height).data;
  };
  window.__sent = [];
  const fetch0 = window.fetch;
  window.fetch = function (input, init) {
    const body = init && init.body;
    if (body instanceof FormData) {
      const f = body.get('file');
      window.__sent.push((f instanceof Blob ? f.slice(0, 16).arrayBuffer() : Promise.resolve(new ArrayBuffer(0)))
        .then((head) => ({
          fields: [...body.keys()],
          name: f && f.name,
          type: f && f.type,
          size: f && f.size,
          head: [...new Uint8Array(head)],
        })));
    }
    return fetch0.apply(this, arguments);
  };
}

/** The UI (/) on a recorded page (harness.mjs), once it says the service is ready. */
async function openPage(options = DESKTOP, { waitReady = true, beforeLoad } = {}) {
  const opened = await openRecordedPage(browser, options, { url: '/', init: recordCanvasAndForms, beforeLoad });
  if (waitReady) {
    await opened.page.locator('#service-status[data-state="ready"]').waitFor({ timeout: 15_000 });
  }
  return opened;
}

/** Strokes in the pad's own coordinates, 0..1 across its drawing area. */
async function padBox(page) {
  return page.evaluate(() => {
    const pad = document.getElementById('pad');
    const r = pad.getBoundingClientRect();
    return { x: r.left + pad.clientLeft, y: r.top + pad.clientTop, w: pad.clientWidth, h: pad.clientHeight };
  });
}

async function drawWithMouse(page, strokes) {
  const box = await padBox(page);
  const at = ([u, v]) => [box.x + u * box.w, box.y + v * box.h];
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
    await page.mouse.up();
  }
}

/** Pen or finger input through the DevTools protocol, as a tablet or phone sends it. */
async function drawWithCdp(page, strokes, kind) {
  const cdp = await page.context().newCDPSession(page);
  const box = await padBox(page);
  const at = ([u, v]) => ({ x: box.x + u * box.w, y: box.y + v * box.h });
  const points = (stroke) => {
    const out = [];
    for (let i = 1; i < stroke.length; i++) {
      const a = at(stroke[i - 1]);
      const b = at(stroke[i]);
      for (let s = 1; s <= 6; s++) out.push({ x: a.x + ((b.x - a.x) * s) / 6, y: a.y + ((b.y - a.y) * s) / 6 });
    }
    return out;
  };
  for (const stroke of strokes) {
    const start = at(stroke[0]);
    if (kind === 'touch') {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...start, id: 1 }] });
      for (const p of points(stroke)) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ ...p, id: 1 }] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    } else {
      const pen = { pointerType: 'pen', button: 'left', force: 0.5 };
      await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...start, pointerType: 'pen' });
      await cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...start, ...pen, buttons: 1, clickCount: 1 });
      for (const p of points(stroke)) await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...p, ...pen, buttons: 1 });
      const end = points(stroke).at(-1);
      await cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...end, ...pen, buttons: 0, clickCount: 1 });
    }
  }
  await cdp.detach();
}

// MNIST test digits (t10k indices) that every decent model reads with confidence,
// unlike, say, the first 3 of the test set (index 18), a hard one.
const DIGITS = { 2: 47, 3: 30, 4: 27, 9: 12 };
function mnistDigit(label) {
  const d = mnistDigitPng(mnist, DIGITS[label]);
  assert.equal(d.label, label, `t10k digit ${d.index} is a ${label}`);
  return d;
}

const ONE = [[[0.52, 0.14], [0.5, 0.5], [0.48, 0.86]]];
const SEVEN = [[[0.24, 0.2], [0.5, 0.2], [0.76, 0.2], [0.6, 0.5], [0.44, 0.86]]];
/** "17" written across the pad: two digits, not one. */
const ONE_SEVEN = [[[0.14, 0.3], [0.13, 0.5], [0.12, 0.7]], [[0.45, 0.3], [0.7, 0.3], [0.88, 0.3], [0.75, 0.5], [0.66, 0.7]]];
const ZERO = [Array.from({ length: 25 }, (_, i) => {
  const a = (i / 24) * 2 * Math.PI - Math.PI / 2;
  return [0.5 + 0.22 * Math.cos(a), 0.5 + 0.34 * Math.sin(a)];
})];

/** Waits for the next answer of /predict while `action` runs; returns the response. */
async function predictAfter(page, action) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/predict', { timeout: 20_000 }),
    action(),
  ]);
  return response;
}

/** Uploads `file` ({ name, mimeType, buffer }) with the page's file picker; returns /predict's response. */
async function upload(page, file) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#upload-btn')]);
  return predictAfter(page, () => chooser.setFiles(file));
}

/** White paper with nothing on it: an image without a digit. */
const BLANK = { name: 'blank.png', mimeType: 'image/png', buffer: encodeGrayPng(28, 28, new Uint8Array(28 * 28).fill(255)) };

/** The shown result once the page has rendered an answer. */
async function shownResult(page) {
  await page.locator('#result-main[data-state="done"]').waitFor({ timeout: 10_000 });
  return page.evaluate(() => {
    const px = window.__pixels(document.getElementById('preview'));
    let lit = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] > 127) lit++;
    const rows = [...document.querySelectorAll('#bars li')];
    return {
      digit: document.getElementById('result-digit').textContent.trim(),
      confidence: document.getElementById('result-confidence').textContent.trim(),
      bars: rows.map((li) => li.querySelector('.bar-value').textContent.trim()),
      top: rows.findIndex((li) => li.classList.contains('top')),
      widths: rows.map((li) => parseFloat(li.querySelector('.bar-fill').style.width)),
      previewLit: lit,
      message: document.getElementById('message').textContent.trim(),
    };
  });
}

function assertResult(r, digit, how) {
  console.log(`# ${how}: read as ${r.digit}, confidence ${r.confidence}`);
  assert.equal(r.digit, String(expected(digit)), `${how}: the page shows the digit ${expected(digit)}`);
  assert.match(r.confidence, /^[<>]?\d{1,3}\.\d%$/, `${how}: confidence as a percentage`);
  assert.equal(r.bars.length, 10, `${how}: ten probability bars`);
  for (const b of r.bars) assert.match(b, /^[<>]?\d{1,3}\.\d%$/, `${how}: every bar has a text value`);
  assert.equal(r.top, expected(digit), `${how}: the predicted digit's bar is highlighted`);
  const sum = r.widths.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 100) < 0.5, `${how}: bar widths add up to 100% (got ${sum})`);
  assert.ok(r.previewLit >= 20, `${how}: the 28x28 preview shows the digit (${r.previewLit} lit pixels)`);
  assert.equal(r.message, '', `${how}: no error message`);
}

/**
 * The request is a multipart/form-data POST to /predict?preview=1 whose field "file" is
 * the expected file. (Chromium does not hand blob bodies to the DevTools protocol, so
 * an init script notes what the page puts in its FormData; see openPage.)
 */
async function assertMultipart(page, request, want) {
  assert.equal(request.method(), 'POST');
  assert.equal(new URL(request.url()).search, '?preview=1', 'asks for the preview');
  assert.match(request.headers()['content-type'] || '', /^multipart\/form-data; boundary=/);
  const sent = await page.evaluate(() => Promise.all(window.__sent));
  assert.ok(sent.length > 0, 'the page sent a FormData');
  const last = sent.at(-1);
  assert.deepEqual(last.fields, ['file'], 'one field, "file"');
  if (want.bytes) {
    assert.equal(last.name, want.name, 'the file keeps its name');
    assert.equal(last.size, want.bytes.length, 'the file is sent as it is');
    assert.deepEqual(last.head, [...want.bytes.subarray(0, 16)], 'the file is sent as it is');
  } else {
    assert.equal(last.type, 'image/png', 'the drawing goes as a PNG');
    assert.deepEqual(last.head.slice(0, 8), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.ok(last.size > 300, `a drawing, not an empty canvas (${last.size} B)`);
  }
}

// -------------------------------------------------------------------------- tests

test('drawing digits with a mouse, a pen and a finger gives the right predictions', { timeout: TIMEOUT }, async () => {
  await withPage(openPage(DESKTOP), async ({ page, problems }) => {
    // "1": one vertical stroke; predicted automatically once the stroke ends
    assert.equal(await page.isChecked('#auto-predict'), true, 'automatic prediction is on by default');
    let response = await predictAfter(page, () => drawWithMouse(page, ONE));
    assert.equal(response.status(), 200);
    await assertMultipart(page, response.request(), {});
    assertResult(await shownResult(page), 1, 'mouse "1" (automatic)');

    // "7": a polyline, then the Predict button at once
    await page.click('#clear-btn');
    assert.equal(await page.textContent('#result-digit'), '?', 'Clear empties the result');
    await drawWithMouse(page, SEVEN);
    response = await predictAfter(page, () => page.click('#predict-btn'));
    assert.equal(response.status(), 200);
    assertResult(await shownResult(page), 7, 'mouse "7" (button)');
    await screenshot(page, 'ui-desktop.png');

    // "0" with a pen
    await page.click('#clear-btn');
    response = await predictAfter(page, () => drawWithCdp(page, ZERO, 'pen'));
    assert.equal(response.status(), 200);
    assertResult(await shownResult(page), 0, 'pen "0"');

    // the page answers with the same drawing as the API would: check the canvas is
    // dark ink on white paper, like a photo of a digit
    const ink = await page.evaluate(() => {
      const d = window.__pixels(document.getElementById('pad'));
      let dark = 0;
      let light = 0;
      for (let i = 0; i < d.length; i += 4) (d[i] < 64 ? dark++ : d[i] > 192 && light++);
      return { dark, light, corner: [d[0], d[1], d[2], d[3]] };
    });
    assert.deepEqual(ink.corner, [255, 255, 255, 255], 'white paper');
    assert.ok(ink.dark > 500 && ink.light > ink.dark, 'black ink on white');
    await assertClean(page, problems);
  });
});

test('MNIST digits uploaded with the file picker, dropped and pasted are read right', { timeout: TIMEOUT }, async () => {
  await withPage(openPage(DESKTOP), async ({ page, problems }) => {
    // the file picker
    const two = mnistDigit(2);
    let response = await upload(page, { name: `mnist-t10k-${two.index}.png`, mimeType: 'image/png', buffer: two.png });
    assert.equal(response.status(), 200);
    await assertMultipart(page, response.request(), { name: `mnist-t10k-${two.index}.png`, bytes: two.png });
    assertResult(await shownResult(page), 2, 'uploaded MNIST "2"');
    assert.match(await page.textContent('#upload-name'), /mnist-t10k-\d+\.png/, 'the file name is shown');
    // Predict again sends the same file, not a redrawn canvas
    response = await predictAfter(page, () => page.click('#predict-btn'));
    await assertMultipart(page, response.request(), { name: `mnist-t10k-${two.index}.png`, bytes: two.png });
    assertResult(await shownResult(page), 2, 'uploaded MNIST "2" again');

    // drag and drop onto the pad
    const four = mnistDigit(4);
    response = await predictAfter(page, () => page.evaluate(({ bytes, name }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }));
      const zone = document.getElementById('drop-zone');
      zone.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: dt }));
      zone.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
      zone.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, { bytes: [...four.png], name: 'dropped.png' }));
    assert.equal(response.status(), 200);
    assertResult(await shownResult(page), 4, 'dropped MNIST "4"');
    assert.equal(await page.evaluate(() => document.getElementById('drop-zone').classList.contains('dragging')), false,
      'the drop highlight goes away');

    // paste from the clipboard
    const nine = mnistDigit(9);
    response = await predictAfter(page, () => page.evaluate(({ bytes }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
      document.body.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));
    }, { bytes: [...nine.png] }));
    assert.equal(response.status(), 200);
    assertResult(await shownResult(page), 9, 'pasted MNIST "9"');
    await assertClean(page, problems);
  });
});

test('a file that is not an image gets a clear error message', { timeout: TIMEOUT }, async () => {
  await withPage(openPage(DESKTOP), async ({ page, problems }) => {
    const response = await upload(page, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('this is not an image\n') });
    assert.ok([415, 422].includes(response.status()), `the service refuses it (HTTP ${response.status()})`);
    const body = await response.json();
    assert.equal(typeof body.error?.message, 'string', 'the service explains in JSON');
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'not an image the service can read' }).waitFor({ timeout: 10_000 });
    const text = await alert.textContent();
    assert.ok(text.includes(body.error.message), `the service's own words are shown: ${text}`);
    assert.equal(await page.getAttribute('#message', 'aria-live'), 'assertive');
    assert.equal(await page.textContent('#result-digit'), '?', 'no stale digit next to the error');
    await screenshot(page, 'ui-error.png');

    // an image without a digit: white paper, nothing on it
    const blankResponse = await upload(page, BLANK);
    if (!MOCK) {
      assert.equal(blankResponse.status(), 422, 'a blank image is refused');
      assert.equal((await blankResponse.json()).error?.code, 'no_digit');
      await alert.filter({ hasText: 'No digit found in the image.' }).waitFor({ timeout: 10_000 });
    }

    // two digits side by side on the pad: read one at a time (drawn whole, then sent)
    await page.click('#clear-btn');
    await page.uncheck('#auto-predict');
    await drawWithMouse(page, ONE_SEVEN);
    const rowResponse = await predictAfter(page, () => page.click('#predict-btn'));
    if (!MOCK) {
      assert.equal(rowResponse.status(), 422, 'two digits side by side are refused');
      assert.equal((await rowResponse.json()).error?.code, 'several_digits');
      await alert.filter({ hasText: 'More than one digit found.' }).waitFor({ timeout: 10_000 });
    }
    await page.check('#auto-predict');

    // the Predict button with nothing drawn says so without asking the service
    await page.click('#clear-btn');
    await page.click('#predict-btn');
    await alert.filter({ hasText: 'Nothing to read yet.' }).waitFor({ timeout: 5_000 });

    // drawing and reading a digit afterwards clears the message
    await page.click('#clear-btn');
    await predictAfter(page, () => drawWithMouse(page, ONE));
    assertResult(await shownResult(page), 1, 'a drawing after an error');
    assert.equal(await page.isVisible('#message'), false, 'the alert is gone');
    await assertClean(page, problems, [new RegExp(`status of ${response.status()}`), /status of 422/]);
  });
});

/** Pen paths of tests/ood's 'strokes' set with the pad's pen, and their painting there. */
function oodDrawings(seed, n) {
  const script = path.join(SRC, 'tests', 'ood', 'ui_drawings.py');
  const r = spawnSync('/usr/bin/python3', [script, String(seed), String(n)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Intersection over union of the ink (< 128) of RGBA pad pixels and gray bytes. */
function inkOverlap(rgba, gray) {
  let both = 0;
  let either = 0;
  for (let i = 0; i < gray.length; i++) {
    const a = rgba[4 * i] < 128;
    const b = gray[i] < 128;
    if (a && b) both++;
    if (a || b) either++;
  }
  return either ? both / either : 0;
}

test('the OOD "strokes" set paints pen paths as the pad does', { timeout: 2 * TIMEOUT }, async () => {
  const drawings = oodDrawings(7, 3);
  await withPage(openPage(DESKTOP), async ({ page, problems }) => {
    await page.uncheck('#auto-predict');
    const box = await padBox(page);
    const side = await page.evaluate(() => document.getElementById('pad').width);
    const at = ([x, y]) => [box.x + (x * box.w) / side, box.y + (y * box.h) / side];
    const pads = [];
    for (const d of drawings) {
      await page.click('#clear-btn');
      for (const stroke of d.strokes) {
        await page.mouse.move(...at(stroke[0]));
        await page.mouse.down();
        for (const p of stroke.slice(1)) await page.mouse.move(...at(p));
        await page.mouse.up();
      }
      pads.push(await page.evaluate(() => Array.from(window.__pixels(document.getElementById('pad')))));
    }
    drawings.forEach((d, i) => {
      const same = inkOverlap(pads[i], Buffer.from(d.gray, 'base64'));
      console.log(`# drawing ${i} (a ${d.label}): ink overlap with the generator's painting ${same.toFixed(3)}`);
      assert.ok(same > 0.9, `drawing ${i}: the pad's ink and the generator's agree (IoU ${same.toFixed(3)})`);
      // and the check can tell drawings apart: another digit's painting does not match
      const other = inkOverlap(pads[i], Buffer.from(drawings[(i + 1) % drawings.length].gray, 'base64'));
      assert.ok(other < 0.5, `drawing ${i} against the next one's painting: IoU ${other.toFixed(3)}`);
    });
    await assertClean(page, problems);
  });
});

/** NOT_SURE_BELOW of www/app.js: the confidence under which the page says "not sure". */
function notSureBelow() {
  const m = fs.readFileSync(path.join(SRC, 'www', 'app.js'), 'utf8').match(/const NOT_SURE_BELOW = ([0-9.]+);/);
  assert.ok(m, 'www/app.js defines NOT_SURE_BELOW');
  return Number(m[1]);
}

/** A /predict answer of the service, with the probabilities replaced: DIGIT gets TOP. */
function withTop(body, digit, top) {
  const probabilities = Array.from({ length: 10 }, (_, d) => (d === digit ? top : (1 - top) / 9));
  return { ...body, prediction: digit, confidence: top, probabilities };
}

/** What the page shows about how sure it is. */
async function sureness(page) {
  await page.locator('#result-main[data-state="done"]').waitFor({ timeout: 10_000 });
  return page.evaluate(() => ({
    sure: document.getElementById('result-main').dataset.sure,
    label: document.getElementById('prediction-label').textContent.trim(),
    noteVisible: !document.getElementById('result-unsure').hidden,
    note: document.getElementById('result-unsure').textContent.trim(),
    quick: document.getElementById('quick-result').textContent.trim(),
    announce: document.getElementById('announce').textContent.trim(),
    digit: document.getElementById('result-digit').textContent.trim(),
  }));
}

test('a low confidence is shown as "not sure", a high one as the prediction, "no digit" as an error', { timeout: TIMEOUT }, async () => {
  // The service's real answers pass through the browser; `next` rewrites the next one's
  // probabilities, so that the page's own rule is tested on both sides of its threshold.
  const threshold = notSureBelow();
  assert.ok(threshold > 0.5 && threshold < 1, `a threshold between 0.5 and 1 (${threshold})`);
  let next = null;
  await withPage(openPage(DESKTOP, {
    beforeLoad: async (p) => {
      await p.route((u) => u.pathname === '/predict', async (route) => {
        const real = await route.fetch();
        if (!next || real.status() !== 200) return route.fulfill({ response: real });
        const json = next(await real.json());
        next = null;
        return route.fulfill({ response: real, json });
      });
    },
  }), async ({ page, problems }) => {
    // well below the threshold: a guess, said so everywhere
    const low = Math.round((threshold - 0.25) * 100) / 100;
    next = (body) => withTop(body, 3, low);
    await predictAfter(page, () => drawWithMouse(page, ONE));
    let s = await sureness(page);
    assert.equal(s.sure, 'no', `confidence ${low}: not sure`);
    assert.equal(s.digit, '3', 'the guess is still shown');
    assert.equal(s.label, 'Best guess');
    assert.ok(s.noteVisible, 'the "not sure" note is shown');
    assert.match(s.note, new RegExp(`^Not sure\\. .*only ${(low * 100).toFixed(1)}% confident that this is a 3`));
    assert.match(s.quick, /^Not sure: maybe 3/);
    assert.match(s.announce, /^Not sure\. Best guess: 3/);
    await screenshot(page, 'ui-not-sure.png');

    // exactly at the threshold: sure
    next = (body) => withTop(body, 4, threshold);
    await predictAfter(page, () => page.click('#predict-btn'));
    s = await sureness(page);
    assert.equal(s.sure, 'yes', `confidence ${threshold} (the threshold itself): sure`);
    assert.equal(s.label, 'Prediction');
    assert.equal(s.noteVisible, false, 'no "not sure" note');
    assert.match(s.quick, /^Reads as 4/);
    assert.match(s.announce, /^Prediction: 4/);

    // just below it: not sure again
    next = (body) => withTop(body, 4, threshold - 0.001);
    await predictAfter(page, () => page.click('#predict-btn'));
    s = await sureness(page);
    assert.equal(s.sure, 'no', `confidence ${threshold - 0.001}: not sure`);

    // the service's own answer to a clear "1", unchanged: the page's state follows it
    const response = await predictAfter(page, () => page.click('#predict-btn'));
    const real = await response.json();
    s = await sureness(page);
    assert.equal(s.sure, real.confidence >= threshold ? 'yes' : 'no',
      `the real answer (${real.prediction}, ${real.confidence}) is shown as ${s.sure}`);
    assert.equal(s.noteVisible, real.confidence < threshold);

    // an image without a digit after a "not sure": the error, with no stale guess or note
    next = (body) => withTop(body, 5, low);
    await predictAfter(page, () => page.click('#predict-btn'));
    assert.equal((await sureness(page)).sure, 'no');
    const refused = await upload(page, BLANK);
    if (!MOCK) {
      assert.equal(refused.status(), 422, 'a blank image is refused');
      await page.getByRole('alert').filter({ hasText: 'No digit found in the image.' }).waitFor({ timeout: 10_000 });
      assert.equal(await page.textContent('#result-digit'), '?', 'no stale digit next to the error');
      assert.equal(await page.isVisible('#result-unsure'), false, 'no stale "not sure" note');
      assert.equal(await page.textContent('#prediction-label'), 'Prediction');
    }
    await assertClean(page, problems, [/status of 422/]);
  });
});

test('a service without a model says "not ready" and recovers when it has one', { timeout: TIMEOUT }, async () => {
  // The real service answers 503 only before its first model; the browser plays that
  // part here by intercepting /health and /predict until `ready` is set.
  let ready = false;
  const unavailable = {
    status: 503,
    contentType: 'application/json',
    body: JSON.stringify({ status: 'unavailable', error: { code: 'no_model', message: 'no model loaded yet' }, uptime_seconds: 1.2 }),
  };
  await withPage(openPage(DESKTOP, {
    waitReady: false,
    beforeLoad: async (p) => {
      await p.route((u) => u.pathname === '/health' || u.pathname === '/predict', (route) =>
        (ready ? route.fallback() : route.fulfill(unavailable)));
    },
  }), async ({ page, problems }) => {
    await page.locator('#service-status[data-state="unavailable"]').waitFor({ timeout: 10_000 });
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'not ready' }).waitFor({ timeout: 5_000 });
    assert.match(await alert.textContent(), /No model is loaded yet/);

    let response = await predictAfter(page, () => drawWithMouse(page, ONE));
    assert.equal(response.status(), 503);
    await alert.filter({ hasText: 'not ready' }).waitFor({ timeout: 5_000 });
    assert.equal(await page.textContent('#result-digit'), '?');

    ready = true; // the model arrives: the page notices on its own
    await page.locator('#service-status[data-state="ready"]').waitFor({ timeout: 15_000 });
    assert.equal(await page.isVisible('#message'), false, 'the warning goes away');
    response = await predictAfter(page, () => page.click('#predict-btn'));
    assert.equal(response.status(), 200);
    assertResult(await shownResult(page), 1, 'after recovery');
    await assertClean(page, problems, [/status of 503/]);
  });
});

test('the model card shows /health, the page is strict about what it loads', { timeout: TIMEOUT }, async () => {
  await withPage(openPage(DESKTOP), async ({ page, problems, response }) => {
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/, `the page is served with a strict CSP (got "${csp}")`);
    assert.match(csp, /frame-ancestors 'none'/);

    const health = await (await fetch(BASE + '/health')).json();
    assert.equal(health.status, 'ok');
    await page.locator('#model-version', { hasText: health.model.version }).waitFor({ timeout: 5_000 });
    const accuracy = (await page.textContent('#model-accuracy')).trim();
    assert.equal(accuracy, `${Number(health.model.test_accuracy).toFixed(2)}%`, 'test accuracy from /health');
    const created = await page.getAttribute('#model-created time', 'datetime');
    assert.equal(created, health.model.created, 'training time from /health');
    assert.notEqual((await page.textContent('#model-created')).trim(), '–');
    assert.equal((await page.textContent('#curl-example')).trim(), `curl -F file=@digit.png ${BASE}/predict`,
      'the curl example points at this server');
    const pill = (await page.textContent('#service-status')).trim();
    assert.match(pill, /^Ready/);

    // every control has a name, and the keyboard reaches them in reading order
    for (const [role, name] of [['button', 'Predict'], ['button', 'Clear'], ['button', 'Upload image…'],
      ['checkbox', 'Predict when I stop drawing'], ['button', 'Copy'], ['img', 'Drawing area for one digit']]) {
      assert.equal(await page.getByRole(role, { name, exact: true }).count(), 1, `${role} "${name}"`);
    }
    const order = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => {
        const el = document.activeElement;
        const outline = getComputedStyle(el).outlineStyle;
        return `${el.id || el.className || el.tagName}:${outline}`;
      }));
    }
    const ids = order.map((s) => s.split(':')[0]);
    const want = ['skip-link', 'predict-btn', 'clear-btn', 'upload-btn', 'auto-predict', 'copy-btn'];
    let at = -1;
    for (const id of want) {
      const next = ids.indexOf(id, at + 1);
      assert.ok(next > at, `Tab reaches ${id} in order (got ${ids.join(', ')})`);
      at = next;
    }
    for (const s of order.filter((s) => want.includes(s.split(':')[0]))) {
      assert.notEqual(s.split(':')[1], 'none', `keyboard focus is visible on ${s}`);
    }
    await page.click('#copy-btn');
    await page.locator('#copy-btn', { hasText: /^(Copied|Press Ctrl\+C)$/ }).waitFor({ timeout: 5_000 }); // says what it did
    await assertClean(page, problems);
  });
});

test('format.js writes figures as both pages show them', { timeout: TIMEOUT }, async () => {
  await withPage(openPage(DESKTOP, { waitReady: false }), async ({ page, problems }) => {
    // the module the pages import, as the browser loads it from the service
    const got = await page.evaluate(async () => {
      const f = await import('./format.js');
      return {
        percent: [0, 0.0004, 0.5, 0.98765, 0.9996, 1, NaN].map(f.percent),
        duration: [0.42, 9.44, 10.4, 89.4, 185, 5399, 7620, NaN].map(f.duration),
        bytes: [512, 1638, 1687560].map(f.bytes),
        dateTime: [f.dateTime('2026-11-28T15:34:19Z'), f.dateTime('not a time'), f.dateTime(1764344059)],
      };
    });
    assert.deepEqual(got.percent, ['0.0%', '<0.1%', '50.0%', '98.8%', '>99.9%', '100.0%', '–']);
    assert.deepEqual(got.duration,
      ['0.4 s', '9.4 s', '10 s', '89 s', '3 min 5 s', '89 min 59 s', '2 h 7 min', '–'],
      'one decimal below 10 s, whole seconds to 90 s, then minutes and hours');
    assert.deepEqual(got.bytes, ['512 B', '1.6 KB', '1.6 MB']);
    assert.match(got.dateTime[0], /^Nov 28, 2026, 3:34\sPM$/, 'in the reader\'s locale (en-US) and time zone (UTC)');
    assert.deepEqual(got.dateTime.slice(1), [null, null], 'null for what is not an ISO time');
    await assertClean(page, problems);
  });
});

test('on a phone: finger drawing works, no horizontal scroll, screenshots', { timeout: TIMEOUT }, async () => {
  await withPage(openPage(PHONE), async ({ page, problems }) => {
    const scroll = () => page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(await scroll() <= 360, `no horizontal scroll at 360 px (scrollWidth ${await scroll()})`);
    await page.locator('#pad').scrollIntoViewIfNeeded();
    const response = await predictAfter(page, () => drawWithCdp(page, SEVEN, 'touch'));
    assert.equal(response.status(), 200);
    assertResult(await shownResult(page), 7, 'finger "7"');
    assert.ok(await page.isVisible('#quick-result'), 'a one-line result right under the pad');
    assert.match(await page.textContent('#quick-result'), new RegExp(`^Reads as ${expected(7)} · `));
    assert.ok(await scroll() <= 360, 'still no horizontal scroll with a result shown');
    const box = await page.locator('#pad').boundingBox();
    assert.ok(box.width >= 260, `the pad is big enough for a finger (${box.width} px)`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'ui-phone.png');

    // the same page on a desktop, with a dropped MNIST digit, for the record
    await withPage(openPage(DESKTOP), async (desktop) => {
      const three = mnistDigit(3);
      await upload(desktop.page, { name: 'three.png', mimeType: 'image/png', buffer: three.png });
      assertResult(await shownResult(desktop.page), 3, 'uploaded MNIST "3"');
      await screenshot(desktop.page, 'ui-desktop-upload.png');
      await assertClean(desktop.page, desktop.problems);
    });
    await assertClean(page, problems);
  });
});
