// The model page (www/model.html) as a person meets it, in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core), against the real service started by
// run.sh, whose model has its training report beside it:
//   - the page loads without console errors, CSP violations or requests elsewhere;
//   - the header figures are /health's (version, accuracy, size, training time,
//     creation time, epochs, data set checksum);
//   - the training curve's SVG has one line and one point set per series (train loss,
//     test loss, train accuracy, test accuracy), as many points as the report has
//     epochs, placed by value; the per-epoch table says the same in figures;
//   - the confusion matrix is a 10x10 table whose numbers are the report's;
//   - no report (404) and no model (503) give a clear message, and the page recovers;
//   - it fits a 360 px phone, redraws to a new width, works in dark mode and with the
//     keyboard; index.html links to it;
//   - screenshots (desktop, desktop dark, phone, no report) go to $ARTIFACTS_DIR.
//
// Environment: as ui.test.mjs (MNIST_UI_URL required, ARTIFACTS_DIR, CHROMIUM,
// MNIST_UI_MOCK=1 for tests/browser/mock-server.mjs, which has no report: the tests
// that need one are skipped there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, MOCK, TIMEOUT, DESKTOP, PHONE, launchChromium, openRecordedPage, withPage, assertClean, screenshot,
} from './harness.mjs';

const SERIES = ['train_loss', 'test_loss', 'train_accuracy', 'test_accuracy'];

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
});

/** GET a path of the service from node: { status, body }. */
async function getJson(p) {
  const res = await fetch(BASE + p, { headers: { Accept: 'application/json' } });
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    body = null;
  }
  return { status: res.status, body };
}

/** The service's /health and /model/report, or null when there is no report (mock). */
async function facts(t) {
  const health = await getJson('/health');
  assert.equal(health.status, 200, '/health answers 200: a model is loaded');
  const report = await getJson('/model/report');
  if (report.status === 404 && MOCK) {
    t.skip('the mock server has no training report');
    return null;
  }
  assert.equal(report.status, 200, 'the model has a training report at /model/report');
  assert.ok(Array.isArray(report.body.epochs) && report.body.epochs.length > 0, 'the report has epochs');
  return { health: health.body, report: report.body };
}

/** The model page (or `url`) on a recorded page (harness.mjs). */
function openPage(options = DESKTOP, { url = '/model.html', beforeLoad, colorScheme = 'light' } = {}) {
  return openRecordedPage(browser, options, { url, beforeLoad, colorScheme });
}

/** Waits until the page has drawn the report. */
async function rendered(page) {
  await page.locator('#curve-card:not([hidden]) svg[data-chart="accuracy"] [data-series="test_accuracy"]')
    .waitFor({ timeout: 15_000 });
  await page.locator('#matrix-card:not([hidden]) #confusion-body td.cm-cell').first().waitFor({ timeout: 5_000 });
  await page.locator('main[aria-busy="false"]').waitFor({ timeout: 5_000 });
}

/** What the charts show: per series, its line's points and its circles' values and positions. */
function chartsOnPage(page) {
  return page.evaluate((names) => {
    const out = { series: {}, svgs: [] };
    for (const s of document.querySelectorAll('#curve svg')) {
      const r = s.getBoundingClientRect();
      out.svgs.push({ chart: s.dataset.chart, width: r.width, height: r.height, box: s.parentElement.clientWidth });
    }
    for (const name of names) {
      const groups = [...document.querySelectorAll(`#curve svg [data-series="${name}"]`)];
      out.series[name] = groups.map((g) => {
        const line = g.querySelector('polyline');
        const box = g.ownerSVGElement.viewBox.baseVal;
        return {
          chart: g.ownerSVGElement.dataset.chart,
          lines: g.querySelectorAll('polyline, path, line').length,
          linePoints: line ? line.points.numberOfItems : 0,
          points: [...g.querySelectorAll('circle')].map((c) => ({
            epoch: Number(c.dataset.epoch),
            value: Number(c.dataset.value),
            x: c.cx.baseVal.value,
            y: c.cy.baseVal.value,
            title: c.querySelector('title') ? c.querySelector('title').textContent : '',
          })),
          view: { width: box.width, height: box.height },
          stroke: line ? getComputedStyle(line).stroke : '',
        };
      });
    }
    return out;
  }, SERIES);
}

function assertCurve(charts, report, how) {
  const epochs = report.epochs;
  for (const name of SERIES) {
    const groups = charts.series[name];
    assert.equal(groups.length, 1, `${how}: one ${name} series in the curve's SVG`);
    const g = groups[0];
    assert.equal(g.chart, name.endsWith('loss') ? 'loss' : 'accuracy', `${how}: ${name} is drawn in its chart`);
    assert.equal(g.lines, 1, `${how}: ${name} has one line`);
    assert.equal(g.linePoints, epochs.length, `${how}: ${name}'s line has a point per epoch`);
    assert.equal(g.points.length, epochs.length, `${how}: ${name} has ${epochs.length} points, one per epoch`);
    g.points.forEach((p, i) => {
      assert.equal(p.epoch, epochs[i].epoch, `${how}: ${name} point ${i} is epoch ${epochs[i].epoch}`);
      assert.equal(p.value, epochs[i][name], `${how}: ${name} at epoch ${epochs[i].epoch} is the report's`);
      assert.ok(p.x >= 0 && p.x <= g.view.width && p.y >= 0 && p.y <= g.view.height,
        `${how}: ${name} point ${i} is inside the chart`);
      assert.match(p.title, new RegExp(`^Epoch ${epochs[i].epoch}: `), `${how}: the point has a tooltip`);
      if (i > 0) assert.ok(p.x > g.points[i - 1].x, `${how}: ${name}'s epochs go left to right`);
    });
  }
  // within a chart, a larger value is drawn higher, whichever series it belongs to
  for (const pair of [['train_loss', 'test_loss'], ['train_accuracy', 'test_accuracy']]) {
    const pts = pair.flatMap((n) => charts.series[n][0].points);
    for (const a of pts) {
      for (const b of pts) {
        if (a.value > b.value) assert.ok(a.y < b.y, `${how}: ${a.value} is drawn above ${b.value}`);
      }
    }
  }
  const strokes = SERIES.map((n) => charts.series[n][0].stroke);
  assert.notEqual(strokes[0], strokes[1], `${how}: train and test lines differ in colour`);
  for (const s of charts.svgs) {
    assert.ok(s.width > 200 && s.width <= s.box + 1, `${how}: the ${s.chart} chart fills its box (${s.width} of ${s.box} px)`);
  }
}

// -------------------------------------------------------------------------- tests

test('the model page draws the training curve and confusion matrix from the report', { timeout: TIMEOUT }, async (t) => {
  const want = await facts(t);
  if (!want) return;
  const { health, report } = want;
  await withPage(openPage(DESKTOP), async ({ page, problems, response }) => {
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/, `the page is served with a strict CSP (got "${csp}")`);
    await rendered(page);

    // the header figures are /health's
    const m = health.model;
    const shown = await page.evaluate(() => {
      const text = (id) => document.getElementById(id).textContent.trim();
      const value = (id) => {
        const el = document.querySelector(`#${id} data`);
        return el ? el.value : null;
      };
      return {
        version: text('model-version'),
        accuracy: text('model-accuracy'),
        size: text('model-size'),
        sizeValue: value('model-size'),
        training: text('model-training'),
        trainingValue: value('model-training'),
        epochs: text('model-epochs'),
        created: text('model-created'),
        createdValue: document.querySelector('#model-created time')?.dateTime ?? null,
        dataset: text('model-dataset'),
        status: text('service-status'),
        message: text('report-message'),
      };
    });
    console.log(`# header: ${JSON.stringify(shown)}`);
    assert.equal(shown.version, m.version, 'version from /health');
    assert.equal(shown.accuracy, `${Number(m.test_accuracy).toFixed(2)}%`, 'test accuracy from /health');
    assert.equal(Number(shown.sizeValue), m.file_bytes, 'file size from /health');
    assert.match(shown.size, /^\d+(\.\d)? (B|KB|MB)$/, 'file size in words');
    assert.equal(Number(shown.trainingValue), m.training_seconds, 'training time from /health');
    assert.match(shown.training, /^\d/, 'training time in words');
    assert.equal(shown.epochs, String(m.epochs), 'epochs from /health');
    assert.equal(shown.createdValue, m.created, 'creation time from /health');
    assert.notEqual(shown.created, '–');
    assert.equal(shown.dataset, m.dataset_sha256, 'data set checksum from /health');
    assert.match(shown.status, new RegExp(`^Ready · model ${m.version.slice(0, 8)}`));
    assert.equal(shown.message, '', 'no message when all is well');

    // the curve: four series, a point per epoch, placed by value
    assertCurve(await chartsOnPage(page), report, 'desktop');
    for (const chart of ['loss', 'accuracy']) {
      const name = await page.evaluate((c) => {
        const s = document.querySelector(`svg[data-chart="${c}"]`);
        return {
          role: s.getAttribute('role'),
          label: s.getAttribute('aria-labelledby').split(' ').map((id) => document.getElementById(id)?.textContent).join(' '),
        };
      }, chart);
      assert.equal(name.role, 'img', `the ${chart} chart is an image to assistive technology`);
      assert.match(name.label, /Line chart over \d+ epochs?/, `the ${chart} chart has a text alternative`);
    }

    // the same figures in the per-epoch table
    const table = await page.evaluate(() => [...document.querySelectorAll('#epochs-table tbody tr')]
      .map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    assert.equal(table.length, report.epochs.length, 'a table row per epoch');
    table.forEach((row, i) => {
      const e = report.epochs[i];
      assert.deepEqual(row.slice(0, 5), [String(e.epoch), e.train_loss.toFixed(4), `${e.train_accuracy.toFixed(2)}%`,
        e.test_loss.toFixed(4), `${e.test_accuracy.toFixed(2)}%`], `epoch ${e.epoch}'s figures`);
    });

    // the confusion matrix: 10x10 cells holding the report's numbers
    const matrix = await page.evaluate(() => ({
      cols: [...document.querySelectorAll('#confusion thead tr:last-child th[scope="col"]')].map((th) => th.textContent.trim()),
      rows: [...document.querySelectorAll('#confusion tbody tr')].map((tr) => ({
        head: tr.querySelector('th[scope="row"]')?.textContent.trim(),
        cells: [...tr.querySelectorAll('td.cm-cell')].map((td) => ({
          n: td.textContent.trim(),
          t: Number(td.dataset.true),
          p: Number(td.dataset.pred),
          diag: td.classList.contains('cm-diag'),
          bg: getComputedStyle(td).backgroundColor,
        })),
      })),
      perClass: document.querySelectorAll('#per-class li').length,
      mistakes: [...document.querySelectorAll('#mistakes li')].map((li) => li.textContent.trim()),
    }));
    const cm = report.test.confusion_matrix;
    assert.equal(matrix.rows.length, 10, 'ten rows, one per true digit');
    assert.deepEqual(matrix.cols, ['True', ...Array.from({ length: 10 }, (_, d) => `predicted ${d}`)],
      'column headers: the predicted digits');
    matrix.rows.forEach((row, t) => {
      assert.equal(row.head, `true ${t}`, `row ${t} has a header`);
      assert.equal(row.cells.length, 10, `row ${t} has ten cells`);
      row.cells.forEach((c, p) => {
        assert.equal(c.n, String(cm[t][p]), `cell (true ${t}, predicted ${p}) is the report's ${cm[t][p]}`);
        assert.equal(c.t, t);
        assert.equal(c.p, p);
        assert.equal(c.diag, t === p, `the diagonal is marked (${t}, ${p})`);
      });
    });
    // shading follows the numbers: an off-diagonal zero is not shaded like an error
    const off = matrix.rows.flatMap((r) => r.cells).filter((c) => !c.diag);
    const zero = off.find((c) => c.n === '0');
    const worst = off.reduce((a, b) => (Number(b.n) > Number(a.n) ? b : a));
    if (zero && Number(worst.n) > 0) assert.notEqual(zero.bg, worst.bg, 'the most frequent mistake is shaded');
    assert.equal(matrix.perClass, 10, 'accuracy per digit');
    assert.ok(matrix.mistakes.length >= 1, 'the most common mistakes are listed');

    await screenshot(page, 'model-desktop.png');
    await assertClean(page, problems);
  });
});

test('on a phone and in dark mode: fits, redraws to its width, screenshots', { timeout: TIMEOUT }, async (t) => {
  const want = await facts(t);
  if (!want) return;
  await withPage(openPage(PHONE), async ({ page, problems }) => {
    await rendered(page);
    const layout = await page.evaluate(() => {
      const wrap = document.querySelector('.matrix-scroll');
      return {
        scrollWidth: document.documentElement.scrollWidth,
        matrix: { scroll: wrap.scrollWidth, client: wrap.clientWidth },
      };
    });
    assert.ok(layout.scrollWidth <= 360, `no horizontal scroll at 360 px (scrollWidth ${layout.scrollWidth})`);
    assert.ok(layout.matrix.scroll <= layout.matrix.client + 1,
      `the confusion matrix fits a 360 px phone (${layout.matrix.scroll} > ${layout.matrix.client} px)`);
    assertCurve(await chartsOnPage(page), want.report, 'phone');
    await screenshot(page, 'model-phone.png');
    await assertClean(page, problems);
  });

  await withPage(openPage(DESKTOP, { colorScheme: 'dark' }), async (dark) => {
    await rendered(dark.page);
    const bg = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, 'rgb(244, 245, 249)', 'the dark theme applies');
    assertCurve(await chartsOnPage(dark.page), want.report, 'dark');
    await screenshot(dark.page, 'model-desktop-dark.png');
    // a narrower window: the charts are drawn again to their new width, stacked
    const before = (await chartsOnPage(dark.page)).svgs[0].width;
    await dark.page.setViewportSize({ width: 700, height: 900 });
    await dark.page.waitForFunction((w) => {
      const s = document.querySelector('#curve svg');
      return s && Math.abs(s.getBoundingClientRect().width - w) > 1 &&
        s.getBoundingClientRect().width <= s.parentElement.clientWidth + 1;
    }, before, { timeout: 5_000 });
    assertCurve(await chartsOnPage(dark.page), want.report, 'resized');
    await assertClean(dark.page, dark.problems);
  });
});

test('the keyboard reaches everything on the model page, and the figures table opens', { timeout: TIMEOUT }, async (t) => {
  const want = await facts(t);
  if (!want) return;
  await withPage(openPage(DESKTOP), async ({ page, problems }) => {
    await rendered(page);
    const order = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => {
        const el = document.activeElement;
        return {
          what: el.id || el.className || el.tagName.toLowerCase(),
          outline: getComputedStyle(el).outlineStyle,
        };
      }));
    }
    const names = order.map((o) => o.what);
    // (the matrix's box takes the focus only where it has to scroll: not here)
    const wantOrder = ['skip-link', 'back-link', 'summary', 'a', 'a'];
    let at = -1;
    for (const w of wantOrder) {
      const next = names.indexOf(w, at + 1);
      assert.ok(next > at, `Tab reaches ${w} in order (got ${names.join(', ')})`);
      at = next;
    }
    for (const o of order.filter((o) => wantOrder.includes(o.what))) {
      assert.notEqual(o.outline, 'none', `keyboard focus is visible on ${o.what}`);
    }
    // the per-epoch figures open from the keyboard
    assert.equal(await page.isVisible('#epochs-table'), false, 'the figures start folded');
    await page.focus('.figures summary');
    await page.keyboard.press('Enter');
    await page.locator('#epochs-table').waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await page.locator('#epochs-table tbody tr').count(), want.report.epochs.length);
    await screenshot(page, 'model-desktop-figures.png');
    await assertClean(page, problems);
  });
});

test('no report and no model give a clear message; the page recovers', { timeout: TIMEOUT }, async () => {
  // The browser plays a service without a report (404), then without a model (503),
  // by intercepting the routes until `state` says otherwise.
  let state = 'no-report';
  const noReport = {
    status: 404,
    contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'no_report', message: 'no training report beside the model' } }),
  };
  const noModel = {
    status: 503,
    contentType: 'application/json',
    body: JSON.stringify({ status: 'unavailable', error: { code: 'no_model', message: 'no model loaded yet' }, uptime_seconds: 1.2 }),
  };
  await withPage(openPage(DESKTOP, {
    beforeLoad: async (p) => {
      await p.route((u) => u.pathname === '/health' || u.pathname === '/model/report', (route) => {
        const pathname = new URL(route.request().url()).pathname;
        if (state === 'no-model') return route.fulfill(noModel);
        if (state === 'no-report' && pathname === '/model/report') return route.fulfill(noReport);
        return route.fallback();
      });
    },
  }), async ({ page, problems }) => {
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'This model has no training report.' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.isVisible('#curve-card'), false, 'no empty curve');
    assert.equal(await page.isVisible('#matrix-card'), false, 'no empty matrix');
    const health = await getJson('/health');
    assert.equal((await page.textContent('#model-version')).trim(), health.body.model.version,
      'the model\'s own facts are still shown');
    await screenshot(page, 'model-no-report.png');

    state = 'no-model';
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await alert.filter({ hasText: 'No model is loaded yet.' }).waitFor({ timeout: 10_000 });
    await page.locator('#service-status[data-state="unavailable"]').waitFor({ timeout: 5_000 });
    assert.equal((await page.textContent('#model-version')).trim(), '–', 'no stale model facts');

    if (!MOCK) {
      state = 'ready'; // the model and its report arrive: the page notices on its own
      await rendered(page);
      assert.equal(await page.isVisible('#report-message'), false, 'the message goes away');
    }
    await assertClean(page, problems, [/status of 404/, /status of 503/]);
  });
});

test('the recognizer links to the model page', { timeout: TIMEOUT }, async () => {
  await withPage(openPage(DESKTOP, { url: '/' }), async ({ page, problems }) => {
    const link = page.getByRole('link', { name: /Training details/ });
    assert.equal(await link.count(), 1, 'index.html has a "Training details" link');
    await Promise.all([page.waitForURL(/\/model\.html$/), link.click()]);
    if (!MOCK) await rendered(page);
    const back = page.getByRole('link', { name: 'Back to the recognizer' });
    await Promise.all([page.waitForURL((u) => u.pathname === '/'), back.click()]);
    await assertClean(page, problems, MOCK ? [/status of 404/] : []);
  });
});
