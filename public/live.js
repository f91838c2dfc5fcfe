// The therapist's dashboard, live (README, Live dashboard). The page's `[data-live-events]` box
// (app/src/clinic/components.rs) names the unit's event stream and the event the page was
// rendered at. Each care event makes the page be fetched again and its `[data-live-region]` take
// the place of the old one, without a reload; the status line says whether updates are live.
// Without this script the page is whole, with a link that reloads it.

const box = document.querySelector('[data-live-events]');
if (box) start(box);

function start(box) {
  const status = box.querySelector('[data-live-status]');
  const say = (key, suffix = '') => {
    const text = box.dataset[key];
    if (status && text) status.textContent = text + suffix;
  };
  let after = box.dataset.liveAfter || '0';
  let source = null;
  let delay = 1000;
  let timer = 0;
  let fetching = false;
  let again = false;
  let deferred = false;
  let failures = 0;

  const region = () => box.querySelector('[data-live-region]');

  function connect() {
    source = new EventSource(`${box.dataset.liveEvents}?after=${encodeURIComponent(after)}`);
    source.addEventListener('open', () => {
      delay = 1000;
      say('textLive');
    });
    const changed = (event) => {
      after = event.lastEventId || after;
      soon();
    };
    source.addEventListener('care', changed);
    source.addEventListener('resync', changed);
    // The session ended or lost its role here: nothing more will come.
    source.addEventListener('end', () => {
      source.close();
      say('textStopped');
    });
    source.addEventListener('error', () => {
      say('textRetry');
      // Refused (an answer other than a stream): the browser gives up. Unless the session is
      // gone, try again later, from the last event seen. Otherwise the browser reconnects.
      if (source.readyState === EventSource.CLOSED) setTimeout(retry, delay);
    });
  }

  // After a refusal: the dashboard itself says whether the session still stands (a page
  // without the live box is the sign-in's); a server that does not answer is tried again.
  async function retry() {
    delay = Math.min(delay * 2, 60000);
    try {
      const response = await fetch(location.href, {
        credentials: 'same-origin',
        headers: { Accept: 'text/html', 'Lotsen-Live': '1' },
        signal: AbortSignal.timeout(20000),
      });
      if (response.ok && !(await response.text()).includes('data-live-events')) {
        say('textStopped');
        return;
      }
    } catch (_) {
      // Not answering: as below.
    }
    connect();
  }

  // Several events close together make one fetch.
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }

  // Someone is writing in the region (a comment on a flag): never take it from under them.
  function busy() {
    const here = region();
    if (!here) return false;
    for (const field of here.querySelectorAll('textarea, input:not([type=hidden])')) {
      if (field.value !== '' || field === document.activeElement) return true;
    }
    return false;
  }

  // Where focus is, as something that the new region has too.
  function focusKey() {
    const active = document.activeElement;
    const here = region();
    if (!active || !here || !here.contains(active)) return null;
    if (active.id) return { id: active.id };
    const item = active.closest('[data-key]');
    if (!item) return null;
    const all = [...item.querySelectorAll('a, button, summary, input, textarea')];
    return { key: item.dataset.key, index: all.indexOf(active) };
  }

  function restoreFocus(key) {
    if (!key) return;
    let target = null;
    if (key.id) {
      target = document.getElementById(key.id);
    } else {
      const item = [...box.querySelectorAll('[data-key]')].find((e) => e.dataset.key === key.key);
      if (item) target = item.querySelectorAll('a, button, summary, input, textarea')[key.index];
    }
    // The item is gone (a flag resolved elsewhere): the region's heading keeps the place.
    if (!target) {
      target = region()?.querySelector('h2');
      if (target) target.setAttribute('tabindex', '-1');
    }
    target?.focus({ preventScroll: true });
  }

  async function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    // Nobody is looking: fetch when the tab is shown again.
    if (busy() || document.hidden) {
      deferred = true;
      return;
    }
    fetching = true;
    try {
      const response = await fetch(location.href, {
        credentials: 'same-origin',
        // Not the person's activity: the server does not count it against the idle timeout.
        headers: { Accept: 'text/html', 'Lotsen-Live': '1' },
        signal: AbortSignal.timeout(20000),
      });
      const type = response.headers.get('content-type') || '';
      if (response.ok && !response.redirected && type.startsWith('text/html')) {
        const page = new DOMParser().parseFromString(await response.text(), 'text/html');
        const fresh = page.querySelector('[data-live-region]');
        const old = region();
        if (fresh && old && !busy()) {
          const key = focusKey();
          const open = [...old.querySelectorAll('details[open]')]
            .map((d) => d.closest('[data-key]')?.dataset.key)
            .filter(Boolean);
          old.replaceWith(document.adoptNode(fresh));
          for (const item of fresh.querySelectorAll('[data-key]')) {
            if (open.includes(item.dataset.key)) item.querySelector('details')?.setAttribute('open', '');
          }
          restoreFocus(key);
          const time = new Date().toLocaleTimeString(document.documentElement.lang || 'sv', {
            hour: '2-digit',
            minute: '2-digit',
          });
          say('textUpdated', ` ${time}.`);
          box.dispatchEvent(new CustomEvent('lotsen:live', { bubbles: true }));
          failures = 0;
        } else if (busy()) {
          deferred = true;
        } else {
          failed();
        }
      } else {
        failed();
      }
    } catch (_) {
      failed();
    }
    fetching = false;
    if (again) {
      again = false;
      soon();
    }
  }

  // A refresh that did not come through is tried again, later each time; the status says so.
  function failed() {
    failures += 1;
    say('textRetry');
    setTimeout(soon, Math.min(1000 * 2 ** failures, 60000));
  }

  // A refresh held back while someone wrote goes ahead once they have left the fields empty.
  box.addEventListener('focusout', () => {
    setTimeout(() => {
      if (deferred && !busy()) {
        deferred = false;
        soon();
      }
    }, 0);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && deferred && !busy()) {
      deferred = false;
      soon();
    }
  });
  box.addEventListener('input', () => {
    if (deferred && !busy()) {
      deferred = false;
      soon();
    }
  });

  connect();
}
