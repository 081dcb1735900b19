// guwah's submission page, written here (no third-party code): each
// file's SHA-256 is computed on this device (WebCrypto, or for a file
// larger than 64 MiB a streaming SHA-256 of our own), then the file
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

  // SHA-256 (FIPS 180-4) over a stream of chunks, for files too large to
  // hold in memory at once: WebCrypto digests only whole buffers.
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  class StreamingSha256 {
    constructor() {
      this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
      this.w = new Uint32Array(64);
      this.tail = new Uint8Array(64);
      this.tailLength = 0;
      this.length = 0;
    }
    block(bytes, at) {
      const w = this.w;
      const h = this.h;
      for (let i = 0; i < 16; i++) {
        const j = at + i * 4;
        w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
      }
      for (let i = 16; i < 64; i++) {
        const a = w[i - 15];
        const b = w[i - 2];
        const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      let [a, b, c, d, e, f, g, k] = h;
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    update(bytes) {
      this.length += bytes.length;
      let at = 0;
      if (this.tailLength > 0) {
        const take = Math.min(64 - this.tailLength, bytes.length);
        this.tail.set(bytes.subarray(0, take), this.tailLength);
        this.tailLength += take;
        at = take;
        if (this.tailLength < 64) return;
        this.block(this.tail, 0);
        this.tailLength = 0;
      }
      for (; at + 64 <= bytes.length; at += 64) this.block(bytes, at);
      this.tail.set(bytes.subarray(at), 0);
      this.tailLength = bytes.length - at;
    }
    digest() {
      const bits = this.length * 8;
      const pad = new Uint8Array(((this.tailLength + 8) >> 6) * 64 + 64 - this.tailLength);
      pad[0] = 0x80;
      const view = new DataView(pad.buffer);
      view.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
      view.setUint32(pad.length - 4, bits >>> 0);
      this.update(pad);
      return Array.from(this.h, (v) => v.toString(16).padStart(8, '0')).join('');
    }
  }

  // WebCrypto for what fits in memory; beyond, our own streaming SHA-256
  // over 4 MiB slices, so a phone never holds a whole video at once.
  const STREAM_ABOVE = Number(form.dataset.streamAbove || 64 * 1024 * 1024);
  async function sha256(file) {
    if (file.size <= STREAM_ABOVE) {
      return hex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    }
    const h = new StreamingSha256();
    for (let at = 0; at < file.size; at += CHUNK) {
      h.update(new Uint8Array(await file.slice(at, at + CHUNK).arrayBuffer()));
    }
    return h.digest();
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
