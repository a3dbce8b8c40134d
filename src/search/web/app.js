// The search page: no build step, no dependencies; talks to the same server's /api. With "embed in this
// browser" on, an uploaded image never leaves the machine: only its vector is sent (browser-embed.js). On a
// writable server (serve --writable) it can delete and add items with the write token, which the user types
// and which stays in this tab's memory (the input field): never stored, never put in a URL.
import { embedInBrowser, preload } from './browser-embed.js';

const $ = (id) => document.getElementById(id);
// lastVector: the last query vector embedded in this browser (tests read it).
const state = { last: null, info: null, lastVector: null };
window.searchPage = state;

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function setStatus(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', isError);
}

function describe(info) {
  const e = info.embedder;
  const model = e.arch ? `${e.arch}, ${e.dim}-d` : `${info.dim}-d vectors (no model)`;
  const ann = info.hnsw.float ? 'HNSW' : 'exact';
  return `${info.items.toLocaleString()} items · ${model} · ${info.precision} · ${ann} · ${info.backend}`;
}

async function loadInfo() {
  try {
    const r = await fetch('/api/info');
    state.info = await r.json();
    $('info').textContent = describe(state.info);
    $('writes').hidden = !state.info.writable;
    if (!state.info.imageSearch) {
      $('drop-text').textContent = 'This index has no model for images: search by id';
      $('file').disabled = true;
    } else if (state.info.browserEmbed) {
      const b = state.info.browserEmbed;
      $('browser-embed-row').hidden = false;
      $('browser-embed-size').textContent = `(${(b.bytes / 1e6).toFixed(1)} MB model)`;
      $('browser-embed').checked = b.defaultOn;
      if (b.defaultOn) preload(state.info);
    }
  } catch (e) {
    $('info').textContent = `Cannot reach the server (${e.message})`;
  }
}

/** An id from what was pasted: an /api/{images,items,thumbs}/ID URL of this server, or the id itself. */
function idFrom(text) {
  const t = text.trim();
  const m = t.match(/\/api\/(?:images|items|thumbs)\/([^?#]+)/);
  return m ? decodeURIComponent(m[1]) : t;
}

function options() {
  const o = { k: Number($('k').value), mode: mode() };
  const where = $('where').value.trim();
  if (where) o.where = where;
  return o;
}

function inBrowser() {
  return Boolean(state.info?.browserEmbed) && $('browser-embed').checked;
}

async function run(query) {
  state.last = query;
  const o = options();
  let body;
  const init = { method: 'POST' };
  if (query.file && inBrowser()) {
    setStatus('Embedding in this browser…');
    let vector;
    try {
      vector = await embedInBrowser(query.file, state.info);
    } catch (e) {
      setStatus(`Embedding in this browser failed: ${e.message}`, true);
      return;
    }
    state.lastVector = Array.from(vector);
    body = JSON.stringify({ vector: state.lastVector, ...o });
    init.headers = { 'content-type': 'application/json' };
  } else if (query.file) {
    body = new FormData();
    body.append('image', query.file, query.file.name || 'query');
    for (const [key, v] of Object.entries(o)) body.append(key, String(v));
  } else {
    body = JSON.stringify({ id: query.id, ...o });
    init.headers = { 'content-type': 'application/json' };
  }
  setStatus('Searching…');
  try {
    const r = await fetch('/api/search', { ...init, body });
    const answer = await r.json();
    if (!r.ok) {
      setStatus(`${r.status}: ${answer.error ?? r.statusText}`, true);
      return;
    }
    show(answer.results, o.mode);
    const what = query.file ? `the uploaded image` : `item ${query.id}`;
    setStatus(`${answer.results.length} results for ${what} (${o.mode}) in ${answer.tookMs} ms`);
  } catch (e) {
    setStatus(`Search failed: ${e.message}`, true);
  }
}

function show(results, m) {
  const list = $('results');
  list.replaceChildren();
  for (const hit of results) {
    const li = document.createElement('li');
    li.className = 'result';
    li.dataset.id = hit.id;
    const b = document.createElement('button');
    b.type = 'button';
    b.title = `Search with ${hit.id}`;
    const img = document.createElement('img');
    img.src = hit.thumb;
    img.alt = hit.label ?? hit.id;
    img.loading = 'lazy';
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = hit.label ?? '—';
    const score = document.createElement('div');
    score.className = 'score';
    score.textContent = m === 'binary' ? `${hit.score} bits in common` : `cosine ${hit.score.toFixed(4)}`;
    const id = document.createElement('div');
    id.className = 'id';
    id.textContent = hit.id;
    b.append(img, label, score, id);
    b.addEventListener('click', () => searchById(hit.id));
    li.append(b);
    if (state.info?.writable) {
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'delete';
      del.textContent = 'Delete';
      del.title = `Delete ${hit.id} from the index`;
      del.addEventListener('click', () => deleteItem(hit.id, li));
      li.append(del);
    }
    list.append(li);
  }
}

function searchById(id) {
  $('id-input').value = id;
  $('preview').src = `/api/thumbs/${encodeURIComponent(id)}`;
  $('preview').hidden = false;
  run({ id });
}

function searchByFile(file) {
  if (!file) return;
  const preview = $('preview');
  if (preview.dataset.url) URL.revokeObjectURL(preview.dataset.url);
  preview.dataset.url = URL.createObjectURL(file);
  preview.src = preview.dataset.url;
  preview.hidden = false;
  $('id-input').value = '';
  run({ file });
}

function setWriteStatus(text, isError = false) {
  const s = $('write-status');
  s.textContent = text;
  s.classList.toggle('error', isError);
}

/** The Authorization header of a write, or null (and a message) without a token. */
function authorization() {
  const token = $('token').value.trim();
  if (!token) {
    setWriteStatus('Enter the write token first', true);
    $('token').focus();
    return null;
  }
  return `Bearer ${token}`;
}

async function refreshInfo() {
  const r = await fetch('/api/info');
  if (r.ok) {
    state.info = await r.json();
    $('info').textContent = describe(state.info);
  }
}

async function write(method, id, init, done) {
  const auth = authorization();
  if (!auth) return;
  setWriteStatus(method === 'DELETE' ? `Deleting ${id}…` : `Adding ${id}…`);
  try {
    const r = await fetch(`/api/items/${encodeURIComponent(id)}`, {
      method,
      ...init,
      headers: { ...init.headers, authorization: auth },
    });
    const answer = await r.json();
    if (!r.ok) {
      setWriteStatus(`${r.status}: ${answer.error ?? r.statusText}`, true);
      return;
    }
    await refreshInfo();
    done(r.status);
  } catch (e) {
    setWriteStatus(`The write failed: ${e.message}`, true);
  }
}

function deleteItem(id, li) {
  if (!window.confirm(`Delete ${id} from the index?`)) return;
  write('DELETE', id, {}, () => {
    li.remove();
    setWriteStatus(`Deleted ${id}`);
  });
}

function addFile(file) {
  if (!file) return;
  const id = $('add-id').value.trim();
  if (!id) {
    setWriteStatus('Give the new item an id first', true);
    $('add-id').focus();
    return;
  }
  const body = new FormData();
  body.append('image', file, file.name || 'image');
  const label = $('add-label').value.trim();
  if (label) body.append('label', label);
  write('PUT', id, { body }, (status) => {
    setWriteStatus(`${status === 201 ? 'Added' : 'Replaced'} ${id}`);
    $('add-file').value = '';
    searchById(id);
  });
}

$('add').addEventListener('submit', (e) => e.preventDefault());
$('add-file').addEventListener('change', (e) => addFile(e.target.files[0]));
const addDrop = $('add-drop');
addDrop.addEventListener('dragover', (e) => {
  e.preventDefault();
  addDrop.classList.add('over');
});
addDrop.addEventListener('dragleave', () => addDrop.classList.remove('over'));
addDrop.addEventListener('drop', (e) => {
  e.preventDefault();
  addDrop.classList.remove('over');
  addFile(e.dataTransfer.files[0]);
});

$('file').addEventListener('change', (e) => searchByFile(e.target.files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  searchByFile(e.dataTransfer.files[0]);
});
$('by-id').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = idFrom($('id-input').value);
  if (id) searchById(id);
});
for (const r of document.querySelectorAll('input[name="mode"]')) {
  r.addEventListener('change', () => state.last && run(state.last));
}
$('k').addEventListener('change', () => state.last && run(state.last));
$('browser-embed').addEventListener('change', () => {
  if ($('browser-embed').checked) preload(state.info);
  if (state.last?.file) run(state.last);
});
document.addEventListener('paste', (e) => {
  const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
  if (file) searchByFile(file);
});
loadInfo();
