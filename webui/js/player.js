// The live picture: H.264 in fragmented MP4 over the page's WebSocket
// (/api/v1/live/ws, on the WebSocket(s) port while it listens, else the page's
// own) into Media Source Extensions, kept at the live edge; the
// MJPEG stream in an <img> where MSE or the codec is missing. The same socket
// carries the radiometric frames (kind 3), decoded by thermal.js.
import { initTimescale, segmentInfo } from './mp4.js';

const KIND_INIT = 1, KIND_MEDIA = 2, KIND_RADIOMETRY = 3;
const LATENCY_KEEP = 600;       // glass-to-glass samples kept
const MAX_BEHIND_S = 0.5;       // jump to the live edge past this
const KEEP_S = 4;               // buffer kept behind the play position
const MAX_QUEUE = 60;           // segments waiting for the SourceBuffer
const HELLO_MS = 5000;          // the WebSocket(s) port's hello is due within

export function mseAvailable() {
  return typeof window.MediaSource === 'function' && typeof MediaSource.isTypeSupported === 'function';
}

export class LivePlayer {
  // cb: {hello(msg), radiometry(payload ArrayBuffer, captureUs), state(name, detail), frame(captureUs)}
  constructor(video, img, cb) {
    this.video = video;
    this.img = img;
    this.cb = cb;
    this.ws = null;
    this.stream = 'main';
    this.playing = false;
    this.mode = '';              // 'mse' | 'mjpeg' | ''
    this.rate = 0;
    this.ms = null;
    this.sb = null;
    this.queue = [];
    this.mime = '';
    this.needKey = true;
    this.closed = false;
    this.retry = 0;
    this.video.addEventListener('error', () => this._fallback('video error'));
    // capture time (us since the epoch) of the frames on their way, by media
    // time (ms); the latency of each presented frame (ms, the page's clock)
    this.timescale = 90000;
    this.captures = new Map();
    this.latency = [];
    this._watchFrames();
  }

  // glass to glass: from the sensor's capture of a frame (the daemon's clock,
  // in the segment's header) to its presentation here (requestVideoFrameCallback)
  _watchFrames() {
    const v = this.video;
    if (!v.requestVideoFrameCallback)
      return;
    const onFrame = (now, meta) => {
      // media times in ms, give or take the rounding of either side
      let key = Math.round(meta.mediaTime * 1000), capture;
      for (const k of [key, key - 1, key + 1])
        if ((capture = this.captures.get(k))) {
          key = k;
          break;
        }
      if (capture) {
        this.captures.delete(key);
        this.latency.push(performance.timeOrigin + meta.expectedDisplayTime - capture / 1000);
        if (this.latency.length > LATENCY_KEEP)
          this.latency.shift();
      }
      if (!this.closed)
        v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  }

  start(stream = this.stream) {
    this.stream = stream;
    this.playing = true;
    if (!mseAvailable())
      return this._mjpeg();
    this._open();
    this._send({ type: 'play', stream });
  }

  stop() {
    this.playing = false;
    this._send({ type: 'stop' });
    this._teardownMse();
    this._stopMjpeg();
    this.mode = '';
    this.cb.state('stopped');
  }

  setRadiometry(rate) {
    this.rate = rate;
    if (rate)
      this._open();
    this._send({ type: 'radiometry', rate });
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    this._teardownMse();
    this._stopMjpeg();
    if (this.ws)
      this.ws.close(1000);
    this.ws = null;
  }

  // Where the socket goes: the WebSocket port (ws:// on an HTTP page) or the
  // WebSockets port (wss:// on an HTTPS page) while it listens (GET
  // /live/endpoints, manual 9.2), else the page's own port; a port whose
  // socket failed before its hello is passed over for the page's own.
  async _url() {
    const tls = location.protocol === 'https:';
    const own = (tls ? 'wss://' : 'ws://') + location.host + '/api/v1/live/ws';
    let ends = null;
    try {
      const r = await fetch('/api/v1/live/endpoints', { credentials: 'same-origin', cache: 'no-store' });
      if (r.ok)
        ends = await r.json();
    } catch { /* an older device: its own port */ }
    const e = ends && ends[tls ? 'websockets' : 'websocket'];
    if (!e || !e.enabled || !(e.port > 0) || typeof ends.path !== 'string' || !ends.path.startsWith('/'))
      return own;
    const url = (tls ? 'wss://' : 'ws://') + location.hostname + ':' + e.port + ends.path;
    return url === this.failedUrl ? own : url;
  }

  _open() {
    if (this.ws || this.closed || this.opening)
      return;
    this.opening = true;
    this._url().then((url) => {
      this.opening = false;
      if (!this.ws && !this.closed && (this.playing || this.rate))
        this._connect(url);
    });
  }

  _connect(url) {
    const own = new URL(url).port === location.port;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      // refused before it starts (the page's policy, a bad URL): the page's own port
      if (own)
        return this._fallback('no socket: ' + e.message);
      this.failedUrl = url;
      return this._open();
    }
    this.url = url;
    this.opens = (this.opens || 0) + 1;
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.hello = false;
    // the WebSocket(s) port says nothing in time (its packets dropped on the
    // way, the page's policy refused it): the page's own port
    if (!own)
      setTimeout(() => {
        if (this.ws !== ws || this.hello || this.closed)
          return;
        this.ws = null;
        this.failedUrl = url;
        ws.close();
        this._open();
      }, HELLO_MS);
    ws.onopen = () => {
      if (this.playing && this.mode !== 'mjpeg')
        this._send({ type: 'play', stream: this.stream });
      if (this.rate)
        this._send({ type: 'radiometry', rate: this.rate });
    };
    ws.onmessage = (ev) => (typeof ev.data === 'string' ? this._text(ev.data) : this._binary(ev.data));
    ws.onclose = (ev) => {
      if (this.ws !== ws)
        return;
      this.ws = null;
      if (this.closed)
        return;
      // the WebSocket(s) port did not take it (a firewall, a proxy, the port
      // just closed): the page's own port at once
      if (!this.hello && !own) {
        this.failedUrl = url;
        this.cb.state('reconnecting', 'port ' + new URL(url).port + ' refused: the page\'s own port');
        return this._open();
      }
      // no socket at all (an older device, a proxy): the MJPEG picture
      if (!this.hello && this.playing)
        return this._fallback('no socket');
      this.cb.state('reconnecting', `${ev.code} ${ev.reason}`);
      this.retryMs = Math.min(30000, (this.retryMs || 1000) * 2);
      this.retry = setTimeout(() => {
        if (this.playing || this.rate) {
          this._teardownMse();
          this._open();
        }
      }, this.retryMs);
    };
  }

  _send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(JSON.stringify(msg));
  }

  _text(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg.type === 'hello') {
      this.hello = true;
      if (this.url !== this.failedUrl && this.failedUrl && new URL(this.url).port !== location.port)
        this.failedUrl = null;
      this.retryMs = 0;
      this.cb.hello(msg);
    } else if (msg.type === 'video') {
      this._video(msg.mime);
    } else if (msg.type === 'error') {
      this.cb.state('error', msg.message || msg.code);
    }
  }

  _binary(buf) {
    if (buf.byteLength < 16)
      return;
    const dv = new DataView(buf);
    const kind = dv.getUint8(0);
    const capture = Number(dv.getBigInt64(8, true));
    const payload = buf.slice(16);
    if (kind === KIND_RADIOMETRY)
      this.cb.radiometry(payload, capture);
    else if ((kind === KIND_INIT || kind === KIND_MEDIA) && this.mode === 'mse' && this.playing)
      this._append(kind, payload, capture);
  }

  // a new init segment follows: a new MediaSource (the stream, or its size, changed)
  _video(mime) {
    if (!this.playing)
      return;
    if (!MediaSource.isTypeSupported(mime))
      return this._fallback('codec ' + mime);
    this._stopMjpeg();
    this._teardownMse();
    this.mode = 'mse';
    this.mime = mime;
    this.ms = new MediaSource();
    this.queue = [];
    this.needKey = false;
    this.video.hidden = false;
    this.video.src = URL.createObjectURL(this.ms);
    this.ms.addEventListener('sourceopen', () => {
      if (!this.ms)
        return;
      URL.revokeObjectURL(this.video.src);
      try {
        this.sb = this.ms.addSourceBuffer(mime);
      } catch (e) {
        return this._fallback('addSourceBuffer: ' + e.message);
      }
      this.sb.addEventListener('updateend', () => this._pump());
      this._pump();
    }, { once: true });
    this.cb.state('mse', mime);
  }

  _append(kind, payload, capture) {
    if (this.queue.length >= MAX_QUEUE) {
      // too far behind: drop what waits and start again at the next key frame
      this.queue = this.queue.filter((q) => q.kind === KIND_INIT);
      this.needKey = true;
    }
    if (kind === KIND_INIT)
      this.timescale = initTimescale(payload) || 90000;
    let info = null;
    if (kind === KIND_MEDIA) {
      info = segmentInfo(payload);
      if (this.needKey) {
        if (info.key === false)
          return;
        this.needKey = false;
      }
      if (capture && info.time !== null) {
        this.captures.set(Math.round(info.time / this.timescale * 1000), capture);
        if (this.captures.size > LATENCY_KEEP)
          this.captures.delete(this.captures.keys().next().value);
      }
    }
    this.queue.push({ kind, payload, capture });
    this._pump();
  }

  _pump() {
    const sb = this.sb;
    if (!sb || sb.updating || !this.ms || this.ms.readyState !== 'open')
      return;
    const v = this.video;
    const b = sb.buffered;
    if (b.length) {
      const end = b.end(b.length - 1);
      if (v.currentTime < b.start(0) || end - v.currentTime > MAX_BEHIND_S)
        v.currentTime = Math.max(b.start(b.length - 1), end - 0.05);
      if (v.currentTime - b.start(0) > KEEP_S * 2) {
        sb.remove(0, v.currentTime - KEEP_S);
        return;
      }
      if (v.paused)
        v.play().catch(() => {});
    }
    const next = this.queue.shift();
    if (!next)
      return;
    try {
      sb.appendBuffer(next.payload);
      if (next.kind === KIND_MEDIA)
        this.cb.frame(next.capture);
    } catch (e) {
      if (e.name === 'QuotaExceededError' && b.length) {
        this.queue.unshift(next);
        sb.remove(0, Math.max(b.start(0) + 0.1, v.currentTime - 1));
      } else {
        this._fallback('append: ' + e.message);
      }
    }
  }

  _teardownMse() {
    if (this.ms && this.ms.readyState === 'open') {
      try {
        this.ms.endOfStream();
      } catch { /* already ended */ }
    }
    this.ms = null;
    this.sb = null;
    this.queue = [];
    if (this.video.getAttribute('src')) {
      this.video.removeAttribute('src');
      this.video.load();
    }
  }

  _fallback(why) {
    if (this.mode === 'mjpeg' || !this.playing)
      return;
    this._send({ type: 'stop' });
    this._teardownMse();
    this._mjpeg(why);
  }

  _mjpeg(why = 'no MSE') {
    this.mode = 'mjpeg';
    this.video.hidden = true;
    this.img.hidden = false;
    // the MJPEG stream is the main stream's picture only
    this.img.src = '/api/v1/live.mjpeg?t=' + Date.now();
    this.cb.state('mjpeg', why);
  }

  _stopMjpeg() {
    if (this.img.getAttribute('src')) {
      this.img.removeAttribute('src');
      this.img.hidden = true;
    }
  }
}
