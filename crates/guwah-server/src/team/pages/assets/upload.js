// guwah's submission page, written here (no third-party code): each
// file's SHA-256 is computed on this device with WebCrypto, then the file
// goes to /api/uploads by tus 1.0 with that hash in its metadata, so the
// server refuses any byte that differs. A cut connection is resumed from
// the offset the server holds; after a reload, picking the same file
// again resumes it (its upload URL is kept in localStorage by its hash).
'use strict';
(function () {
  const form = document.getElementById('upload');
  if (!form) return;
  const list = document.getElementById('upload-status');
  const csrf = form.dataset.csrf;
  const CHUNK = 4 * 1024 * 1024;
  const TUS = { 'Tus-Resumable': '1.0.0' };

  const say = (template, vars) => template.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : ''));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
  const b64 = (text) => {
    let binary = '';
    for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
    return btoa(binary);
  };

  class Refused extends Error {}

  async function reason(res) {
    try {
      const body = await res.json();
      if (body && body.error) return body.error;
    } catch (_) { /* not JSON */ }
    return 'HTTP ' + res.status;
  }

  async function sha256(file) {
    return hex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
  }

  function metadata(file, sha, fields) {
    const pairs = [['filename', file.name], ['sha256', sha]];
    if (fields.note) pairs.push(['note', fields.note]);
    if (fields.source) pairs.push(['source', fields.source]);
    if (fields.captured) pairs.push(['captured-at', fields.captured]);
    return pairs.map(([k, v]) => k + ' ' + b64(v)).join(',');
  }

  async function create(file, sha, fields) {
    const res = await fetch('/api/uploads', {
      method: 'POST',
      credentials: 'same-origin',
      headers: Object.assign({}, TUS, {
        'Upload-Length': String(file.size),
        'Upload-Metadata': metadata(file, sha, fields),
        'X-CSRF-Token': csrf,
      }),
    });
    if (res.status !== 201) throw new Refused(await reason(res));
    return new URL(res.headers.get('Location'), location.href).pathname;
  }

  // The server's offset, or null when the upload is gone (expired, done).
  async function offsetOf(url) {
    const res = await fetch(url, { method: 'HEAD', credentials: 'same-origin', headers: TUS });
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok) throw new Refused('HTTP ' + res.status);
    return Number(res.headers.get('Upload-Offset'));
  }

  async function patch(url, file, offset) {
    const res = await fetch(url, {
      method: 'PATCH',
      credentials: 'same-origin',
      headers: Object.assign({}, TUS, {
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
        'X-CSRF-Token': csrf,
      }),
      body: file.slice(offset, Math.min(offset + CHUNK, file.size)),
    });
    if (res.status === 204) return Number(res.headers.get('Upload-Offset'));
    if (res.status === 409) return null; // the offset moved: ask again
    throw new Refused(await reason(res));
  }

  function row(file) {
    const li = document.createElement('li');
    const text = document.createElement('span');
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    li.append(text, document.createElement('br'), bar);
    list.append(li);
    return {
      show(template, vars) { text.textContent = say(template, Object.assign({ name: file.name }, vars || {})); },
      progress(done) { bar.value = file.size ? Math.floor((100 * done) / file.size) : 100; },
      li,
    };
  }

  async function upload(file, fields) {
    const ui = row(file);
    ui.show(form.dataset.hashing);
    const sha = await sha256(file);
    const key = 'guwah-upload/' + sha + '/' + file.size;
    let url = localStorage.getItem(key);
    let offset = null;
    let wait = 1000;
    for (;;) {
      try {
        if (url) offset = await offsetOf(url);
        if (offset === null) {
          url = await create(file, sha, fields);
          localStorage.setItem(key, url);
          offset = 0;
        }
        while (offset < file.size) {
          ui.show(form.dataset.progress, { percent: Math.floor((100 * offset) / (file.size || 1)) });
          ui.progress(offset);
          const next = await patch(url, file, offset);
          offset = next === null ? await offsetOf(url) : next;
          if (offset === null) throw new Refused('HTTP 404');
          wait = 1000;
        }
        localStorage.removeItem(key);
        ui.progress(file.size);
        ui.show(form.dataset.done);
        ui.li.dataset.state = 'done';
        return;
      } catch (e) {
        if (e instanceof Refused) {
          localStorage.removeItem(key);
          ui.show(form.dataset.failed, { reason: e.message });
          ui.li.dataset.state = 'failed';
          return;
        }
        // A network failure: wait, then ask the server where it stands.
        ui.show(form.dataset.resuming);
        ui.li.dataset.state = 'resuming';
        await sleep(wait);
        wait = Math.min(wait * 2, 30000);
      }
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const captured = form.elements.captured.value;
    const fields = {
      note: form.elements.note.value.trim(),
      source: form.elements.source.value.trim(),
      captured: captured ? new Date(captured).toISOString().replace(/\.\d{3}Z$/, 'Z') : '',
    };
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      for (const file of form.elements.files.files) await upload(file, fields);
    } finally {
      button.disabled = false;
    }
  });
})();
