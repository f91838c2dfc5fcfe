// Drafts saved as the patient writes (README, Answering): the form inside a
// `<div data-autosave>` (app/src/care/autosave.rs) is posted 1.5 s after the last change to its
// own server function with `intent=save`, as its "Save draft" button would. Listeners sit on the
// document, so pages that nav.js brings in (it sends `lotsen:page`) work the same.

const DELAY_MS = 1500;

// Per box: the timer, the saves on their way, and a button press held back until they have
// arrived (the press carries newer text, which an older save must not overwrite).
const boxes = new WeakMap();
const stateOf = (box) => {
  let state = boxes.get(box);
  if (!state) {
    state = { timer: 0, inFlight: 0, held: null };
    boxes.set(box, state);
  }
  return state;
};

const boxOf = (event) =>
  event.target instanceof Element ? event.target.closest('[data-autosave]') : null;

function ready() {
  for (const box of document.querySelectorAll('[data-autosave="off"]')) {
    box.dataset.autosave = 'ready';
  }
}

function changed(event) {
  const box = boxOf(event);
  if (!box || box.dataset.autosave !== 'ready') return;
  const state = stateOf(box);
  clearTimeout(state.timer);
  state.timer = setTimeout(() => save(box), DELAY_MS);
}

// A button pressed: the form is posted as it is, and no draft follows it; while a draft is on
// its way, the press waits for it.
function submitted(event) {
  const box = boxOf(event);
  if (!box || box.dataset.autosave !== 'ready') return;
  const state = stateOf(box);
  clearTimeout(state.timer);
  state.timer = 0;
  if (state.inFlight > 0) {
    event.preventDefault();
    const button = event.submitter;
    state.held = { name: button?.getAttribute('name') ?? '', value: button?.getAttribute('value') ?? '' };
  }
}

async function save(box) {
  const form = box.querySelector('form');
  const status = box.querySelector(':scope > [role="status"]');
  if (!form || !status) return;
  const state = stateOf(box);
  status.textContent = box.dataset.saving;
  state.inFlight++;
  let outcome = 'failed';
  try {
    const body = new URLSearchParams(new FormData(form));
    body.set('intent', 'save');
    const reply = await fetch(form.action, {
      method: 'POST',
      body,
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (reply.ok) outcome = 'saved';
    // Sent for good in the meantime: nothing left to save.
    else if (reply.status === 409) outcome = 'sent';
  } catch {
    outcome = 'failed';
  }
  state.inFlight--;
  const held = state.inFlight === 0 ? state.held : null;
  if (held) {
    state.held = null;
    resubmit(form, held);
  }
  if (outcome === 'saved') status.textContent = `${box.dataset.saved} ${clock()}`;
  else if (outcome === 'sent') status.textContent = '';
  else status.textContent = box.dataset.failed;
}

// Presses the held button (by its name and value) again, or submits the form as Enter would.
function resubmit(form, held) {
  const button = [...form.elements].find(
    (b) =>
      b.type === 'submit' &&
      (b.getAttribute('name') ?? '') === held.name &&
      (b.getAttribute('value') ?? '') === held.value,
  );
  try {
    form.requestSubmit(button ?? null);
  } catch (error) {
    console.error(error);
  }
}

// The browser's local time, HH:MM.
function clock() {
  const now = new Date();
  const two = (n) => String(n).padStart(2, '0');
  return `${two(now.getHours())}:${two(now.getMinutes())}`;
}

document.addEventListener('input', changed);
document.addEventListener('change', changed);
document.addEventListener('submit', submitted);
document.addEventListener('lotsen:page', ready);
ready();
