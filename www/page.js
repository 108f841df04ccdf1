/* What index.html and model.html do alike, on the markup they share: how they keep
 * asking the service's /health, the message box (a title in bold and a sentence), the
 * service status pill of the header (#service-status, #service-status-text) and the
 * JSON of the service's answers. A module imported by app.js and model.js.
 */

// /health again after this long: while ready, while it answers 503 (no model yet, as
// the pages' messages say: "checks again every few seconds"), while it is unreachable
export const POLL_READY_MS = 30000;
export const POLL_UNAVAILABLE_MS = 3000;
export const POLL_OFFLINE_MS = 5000;

/**
 * Runs `check` (async) one at a time: poll.now() runs it unless it is running already,
 * poll.after(ms) runs it then (in place of any run planned before), and it runs at
 * once when the page becomes visible again.
 */
export function poller(check) {
  let timer = 0;
  let running = false;
  const poll = {
    async now() {
      if (running) return;
      running = true;
      clearTimeout(timer);
      try {
        await check();
      } finally {
        running = false;
      }
    },
    after(ms) {
      clearTimeout(timer);
      timer = setTimeout(poll.now, ms);
    },
  };
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') poll.now();
  });
  return poll;
}

/** Puts a message in `box`; `kind` ('error' by default, 'warn') sets its look. */
export function showMessage(box, title, detail, kind) {
  box.dataset.kind = kind || 'error';
  const strong = document.createElement('strong');
  strong.textContent = title;
  const nodes = [strong];
  if (detail) {
    const span = document.createElement('span');
    span.textContent = detail;
    nodes.push(span);
  }
  box.replaceChildren(...nodes);
}

export function clearMessage(box) {
  box.replaceChildren();
  delete box.dataset.kind;
}

/** The header's status pill: `state` is 'checking', 'ready', 'unavailable' or 'offline'. */
export function setStatus(state, text) {
  document.getElementById('service-status').dataset.state = state;
  document.getElementById('service-status-text').textContent = text;
}

/** The body of a fetch() response as JSON, or null when it is not JSON. */
export async function jsonBody(res) {
  try {
    return await res.json();
  } catch (e) {
    return null;
  }
}
