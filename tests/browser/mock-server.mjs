// A stand-in for lighttpd + mnist-fcgi, for working on the UI without the C service.
// It serves www/ with the production CSP header and fakes the API: /health answers
// with a fixed model (or 503 with MOCK_NO_MODEL=1); /predict accepts any PNG, JPEG,
// GIF or BMP and always "reads" MOCK_DIGIT (default 7), refuses other files with 415.
// The browser test never uses it: it runs against the real service.
//
// Usage: node tests/browser/mock-server.mjs [PORT]   (prints the base URL)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const www = path.resolve(process.env.WWW_DIR || path.join(here, '..', '..', 'www'));
const port = Number(process.argv[2] || 0);
const digit = Number(process.env.MOCK_DIGIT || 7);
const started = Date.now();
const CSP = "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'";
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const model = {
  version: '1a2b3c4d5e6f',
  created: '2026-11-28T15:34:19Z',
  test_accuracy: 99.33,
  test_loss: 0.0212,
  epochs: 5,
  training_seconds: 51.7,
  dataset_sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  file_bytes: 1687560,
  loaded_at: new Date(started).toISOString(),
};

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

function error(res, status, code, message) {
  json(res, status, { error: { code, message } });
}

function isImage(b) {
  return (b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) ||
    (b.length > 3 && b[0] === 0xff && b[1] === 0xd8) ||
    (b.length > 6 && b.subarray(0, 3).toString() === 'GIF') ||
    (b.length > 2 && b[0] === 0x42 && b[1] === 0x4d);
}

function filePart(body, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!m) return null;
  const boundary = Buffer.from('--' + (m[1] || m[2]));
  let at = body.indexOf(boundary);
  while (at >= 0) {
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return null;
    const head = body.subarray(at, headEnd).toString();
    const next = body.indexOf(boundary, headEnd);
    if (next < 0) return null;
    if (/name="file"/.test(head)) return body.subarray(headEnd + 4, next - 2);
    at = next;
  }
  return null;
}

function fakeResult(withPreview) {
  const probabilities = Array.from({ length: 10 }, (_, d) => (d === digit ? 0.9 : 0.1 / 9));
  const out = { prediction: digit, confidence: 0.9, probabilities, model, elapsed_us: 412 };
  if (withPreview) {
    out.preview = Array.from({ length: 784 }, (_, i) => {
      const x = i % 28;
      const y = Math.floor(i / 28);
      return x >= 12 && x <= 15 && y >= 4 && y <= 23 ? 255 : 0;
    });
  }
  return out;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (url.pathname === '/health/live') return json(res, 200, { status: 'alive' });
  if (url.pathname === '/health') {
    const uptime = (Date.now() - started) / 1000;
    if (process.env.MOCK_NO_MODEL === '1') {
      return json(res, 503, { status: 'unavailable', error: { code: 'no_model', message: 'no model loaded yet' }, uptime_seconds: uptime });
    }
    return json(res, 200, { status: 'ok', model, uptime_seconds: uptime });
  }
  if (url.pathname === '/predict') {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return error(res, 405, 'method_not_allowed', 'use POST');
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (process.env.MOCK_NO_MODEL === '1') return error(res, 503, 'no_model', 'no model loaded yet');
      const body = Buffer.concat(chunks);
      const ct = req.headers['content-type'] || '';
      const file = ct.startsWith('multipart/form-data') ? filePart(body, ct) : body;
      if (!file) return error(res, 400, 'bad_request', 'no field "file" in the form');
      if (!isImage(file)) return error(res, 415, 'unsupported_media_type', 'not a PNG, JPEG, GIF or BMP image');
      return json(res, 200, fakeResult(url.searchParams.has('preview')));
    });
    return undefined;
  }
  let rel = decodeURIComponent(url.pathname);
  if (rel.endsWith('/')) rel += 'index.html';
  const file = path.join(www, path.normalize(rel));
  if (!file.startsWith(www + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    return error(res, 404, 'not_found', 'no such resource');
  }
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
  return undefined;
});

server.listen(port, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
