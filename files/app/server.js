// Managed by louieops (files/app/server.js); local edits are overwritten on the next deploy.
// Reference app of louieops: stands in for the real SimplyLouie API in tests and the demo.
// Node.js built-ins plus @sentry/node (pinned; used only when SENTRY_DSN is set). It listens on loopback
// behind nginx.
//
//   GET  /                       homepage (or the admin dashboard page on the admin domain)
//   GET  /health                 {"status":"healthy","timestamp":...,"host":...}   (cheap: no database call)
//   GET  /health/db              database status through psql (503 when it is down)
//   GET  /api/notes              the 20 newest notes (a table the app creates), through psql
//   POST /api/notes              {"text"}: store a note; answers it with its id and the host that stored it
//   GET  /api/claude/status      {"success":true,"data":{"status":"operational","version":"1.0.0"}}
//   GET  /api/slow?ms=N          answers after N ms (at most 10000): a slow request on demand (latency tests)
//   POST /login, /api/login      {"username","password"}; a failure logs "Login failed for USER from IP"
//   GET  /ws                     websocket echo (handshake and framing by hand, RFC 6455)
// Admin endpoints, each needing "Authorization: Bearer $LOUIE_ADMIN_TOKEN" (seed §7):
//   GET  /admin/metrics/system   system metrics
//   GET  /admin/toggles          the feature toggles and the killswitches in force
//   POST /admin/toggles          {"feature", "enabled"}: switch a feature on or off
//   POST /admin/killswitch       {"target", "action": "disable"|"enable", "reason"}: emergency stop of a feature
//                                (or "all": everything but /health and /admin)
//   POST /admin/debug/error      {"kind": "handled"|"rejection"}: raise an error for Sentry (a test of the wiring)
// A disabled feature answers 503 {"error":"feature_disabled",...}. Toggle state lives in APP_STATE_DIR
// (toggles.json, re-read when it changes, so every pm2 instance agrees and it survives restarts); every
// change is appended to APP_STATE_DIR/audit.log, which the server turns into alerts.
//
// Secrets come from the env file named by APP_ENV_FILE (mode 0600, owned by the app user). PostgreSQL is reached
// with libpq's environment (PGHOST, PGSSLMODE, ...); X-Real-IP is taken from loopback and TRUSTED_PROXIES.
'use strict';

const fs = require('fs');

function loadEnvFile(file) {
  if (!file) return;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2].trim();
    if (value.length >= 2 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) {
      value = value.slice(1, -1);
    }
    process.env[match[1]] = value;
  }
}

loadEnvFile(process.env.APP_ENV_FILE);

// Sentry first: it instruments http when it is loaded before it (seed §2.2).
const Sentry = process.env.SENTRY_DSN ? require('@sentry/node') : null;
if (Sentry) {
  Sentry.init({
    dsn: process.env.SENTRY_DSN,
    release: process.env.APP_RELEASE || undefined,
    environment: process.env.SENTRY_ENVIRONMENT || process.env.NODE_ENV,
    tracesSampleRate: parseFloat(process.env.SENTRY_TRACES_SAMPLE_RATE || '0'),
  });
}

const crypto = require('crypto');
const http = require('http');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');

const VERSION = '1.0.0';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_BODY = 64 * 1024;
const MAX_FRAME = 1024 * 1024;

const PORT = parseInt(process.env.PORT || '3000', 10);
const HOST = process.env.HOST || '127.0.0.1';
const ADMIN_TOKEN = process.env.LOUIE_ADMIN_TOKEN || '';

// --- metrics -----------------------------------------------------------------------------------
const requestTimes = [];
let openSockets = 0;
let websockets = 0;
const openWebsockets = new Set();  // closed with 1001 on a graceful stop

function requestsPerMinute() {
  const cutoff = Date.now() - 60000;
  while (requestTimes.length && requestTimes[0] < cutoff) requestTimes.shift();
  return requestTimes.length;
}

function systemMetrics() {
  const mb = (bytes) => Math.round(bytes / 1048576);
  return {
    uptime: Math.round(process.uptime()),
    memory: { used: mb(os.totalmem() - os.freemem()), total: mb(os.totalmem()) },
    cpu: Math.min(100, Math.round((os.loadavg()[0] / os.cpus().length) * 100)),
    activeConnections: openSockets,
    websocketConnections: websockets,
    requestsPerMinute: requestsPerMinute(),
  };
}

// --- helpers -----------------------------------------------------------------------------------
const TRUSTED_PROXIES = new Set((process.env.TRUSTED_PROXIES || '').split(',').filter(Boolean));

function clientIp(req) {
  const peer = req.socket.remoteAddress || '';
  const fromProxy = peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1' ||
    TRUSTED_PROXIES.has(peer) || TRUSTED_PROXIES.has(peer.replace(/^::ffff:/, ''));
  const real = req.headers['x-real-ip'];
  return fromProxy && typeof real === 'string' && /^[0-9a-fA-F:.]{2,45}$/.test(real) ? real : peer;
}

function sameSecret(given, wanted) {
  const a = crypto.createHash('sha256').update(String(given)).digest();
  const b = crypto.createHash('sha256').update(String(wanted)).digest();
  return wanted.length > 0 && crypto.timingSafeEqual(a, b);
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text),
                          'Cache-Control': 'no-store', ...(stopping ? { Connection: 'close' } : {}) });
  res.end(text);
}

function readBody(req, callback) {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) { req.destroy(); return; }
    chunks.push(chunk);
  });
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const type = req.headers['content-type'] || '';
    let body = null;
    try {
      body = type.includes('application/json') ? JSON.parse(text || '{}') : Object.fromEntries(new URLSearchParams(text));
    } catch (err) {
      body = null;  // not JSON: the handler answers 400
    }
    return callback(body);  // outside the try: a handler's own failure is not a bad request
  });
}

function checkDatabase(callback) {
  const started = Date.now();
  execFile('psql', ['-X', '-At', '-h', process.env.PGHOST || '127.0.0.1', '-c', 'SELECT 1'],
    { timeout: 3000, env: { ...process.env, PGPASSWORD: process.env.LOUIE_DB_PASSWORD || '' } },
    (err, stdout) => callback(!err && stdout.trim() === '1', Date.now() - started));
}

// Run SQL (read from stdin, so values travel as psql variables, never in the command); its output is one JSON value.
function runSql(sql, variables, callback) {
  const args = ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', process.env.PGHOST || '127.0.0.1'];
  for (const [name, value] of Object.entries(variables)) args.push('-v', `${name}=${value}`);
  const child = execFile('psql', [...args, '-f', '-'],
    { timeout: 5000, env: { ...process.env, PGPASSWORD: process.env.LOUIE_DB_PASSWORD || '' } },
    (err, stdout, stderr) => {
      if (err) return callback((stderr || err.message).trim().split('\n').pop(), null);
      try {
        return callback(null, JSON.parse(stdout.trim()));
      } catch (parseError) {
        return callback(`unexpected psql output: ${stdout.trim().slice(0, 200)}`, null);
      }
    });
  child.stdin.end(sql);
}

const NOTES_TABLE = 'CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, body text NOT NULL, ' +
  'host text NOT NULL, created timestamptz NOT NULL DEFAULT now());\n';

function listNotes(res) {
  runSql(NOTES_TABLE + "SELECT coalesce(json_agg(n ORDER BY n.id DESC), '[]') FROM " +
    '(SELECT id, body, host, created FROM notes ORDER BY id DESC LIMIT 20) n;\n', {},
  (err, rows) => (err ? sendJson(res, 503, { success: false, error: 'database', detail: err })
    : sendJson(res, 200, { success: true, data: rows })));
}

function addNote(res, body) {
  const text = body && typeof body.text === 'string' ? body.text.slice(0, 1000) : '';
  if (!text) return sendJson(res, 400, { success: false, error: 'expected {"text": "..."}' });
  return runSql(NOTES_TABLE + "INSERT INTO notes (body, host) VALUES (:'body', :'host') RETURNING row_to_json(notes);\n",
    { body: text, host: os.hostname() },
    (err, row) => (err ? sendJson(res, 503, { success: false, error: 'database', detail: err })
      : sendJson(res, 201, { success: true, data: row })));
}

// --- feature toggles and killswitches (seed §7) --------------------------------------------------
// Features of this app and the paths they serve; "all" as a killswitch target stops every one of them.
const FEATURES = {
  login: ['/login', '/api/login'],
  claude_api: ['/api/claude/'],
  websocket: ['/ws'],
  homepage: ['/'],
};
const STATE_DIR = process.env.APP_STATE_DIR || '';
const TOGGLES_FILE = STATE_DIR && path.join(STATE_DIR, 'toggles.json');
const AUDIT_FILE = STATE_DIR && path.join(STATE_DIR, 'audit.log');
let toggles = { features: {}, killswitch: {} };
let togglesMtime = -1;

// Re-read toggles.json when it changed: another pm2 instance (or a restart) may have written it.
function currentToggles() {
  if (!TOGGLES_FILE) return toggles;
  try {
    const mtime = fs.statSync(TOGGLES_FILE).mtimeMs;
    if (mtime !== togglesMtime) {
      const data = JSON.parse(fs.readFileSync(TOGGLES_FILE, 'utf8'));
      toggles = { features: data.features || {}, killswitch: data.killswitch || {} };
      togglesMtime = mtime;
    }
  } catch (err) {
    if (err.code !== 'ENOENT') console.error(`cannot read ${TOGGLES_FILE}: ${err.message}`);
  }
  return toggles;
}

function saveToggles(state) {
  if (!TOGGLES_FILE) throw new Error('APP_STATE_DIR is not set: toggles cannot be kept');
  const tmp = `${TOGGLES_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 1) + '\n');
  fs.renameSync(tmp, TOGGLES_FILE);
  toggles = state;
  togglesMtime = fs.statSync(TOGGLES_FILE).mtimeMs;
}

function audit(entry) {
  const line = JSON.stringify({ time: new Date().toISOString(), ...entry });
  console.log(`AUDIT ${line}`);
  if (AUDIT_FILE) fs.appendFileSync(AUDIT_FILE, line + '\n');
}

function featureOf(urlPath) {
  for (const [feature, prefixes] of Object.entries(FEATURES)) {
    if (prefixes.some((p) => (p.endsWith('/') && p !== '/' ? urlPath.startsWith(p) : urlPath === p))) return feature;
  }
  return null;
}

// Why a feature is off, or null when it is on.
function disabledReason(feature) {
  const state = currentToggles();
  const kill = state.killswitch[feature] || state.killswitch.all;
  if (kill) return { error: 'feature_disabled', feature, message: `${feature} is stopped by a killswitch`, reason: kill.reason };
  if (state.features[feature] && state.features[feature].enabled === false) {
    return { error: 'feature_disabled', feature, message: `${feature} is temporarily disabled` };
  }
  return null;
}

function togglesView() {
  const state = currentToggles();
  const features = {};
  for (const feature of Object.keys(FEATURES)) {
    const off = disabledReason(feature);
    features[feature] = { enabled: !off, ...(off && off.reason ? { reason: off.reason } : {}) };
  }
  return { features, killswitch: state.killswitch };
}

function authorized(req, res) {
  const auth = req.headers.authorization || '';
  if (auth.startsWith('Bearer ') && sameSecret(auth.slice(7), ADMIN_TOKEN)) return true;
  sendJson(res, 401, { success: false, error: 'unauthorized' });
  return false;
}

// Save the toggles (true), or answer 500 naming why they cannot be kept (false).
function keepToggles(res, state) {
  try {
    saveToggles(state);
    return true;
  } catch (err) {
    console.error(`cannot keep the toggles in ${TOGGLES_FILE}: ${err.message}`);
    sendJson(res, 500, { success: false, error: `cannot keep the toggles in ${TOGGLES_FILE}: ${err.code || err.message}` });
    return false;
  }
}

function setToggle(req, res, body) {
  const feature = body && body.feature;
  if (!body || !Object.hasOwn(FEATURES, String(feature)) || typeof body.enabled !== 'boolean') {
    const what = body && !Object.hasOwn(FEATURES, String(feature)) ? `unknown feature ${JSON.stringify(feature)}: ` : '';
    return sendJson(res, 400, { success: false, error: `${what}expected {"feature": one of ` +
      `${Object.keys(FEATURES).join(', ')}, "enabled": true|false}` });
  }
  const state = currentToggles();
  if (!keepToggles(res, { ...state, features: { ...state.features, [feature]: { enabled: body.enabled, at: new Date().toISOString() } } })) return undefined;
  audit({ kind: 'toggle', feature, enabled: body.enabled, ip: clientIp(req) });
  return sendJson(res, 200, { success: true, data: togglesView() });
}

function setKillswitch(req, res, body) {
  const target = body && String(body.target);
  const targets = [...Object.keys(FEATURES), 'all'];
  const reason = body && typeof body.reason === 'string' ? body.reason.slice(0, 500) : '';
  if (!body || !targets.includes(target) || !['disable', 'enable'].includes(body.action) || (body.action === 'disable' && !reason)) {
    const what = body && !targets.includes(target) ? `unknown target ${JSON.stringify(body.target)}: ` : '';
    return sendJson(res, 400, { success: false, error: `${what}expected {"target": one of ${targets.join(', ')}, ` +
      '"action": "disable"|"enable", "reason": why (required to disable)}' });
  }
  const state = currentToggles();
  const killswitch = { ...state.killswitch };
  if (body.action === 'disable') killswitch[target] = { reason, at: new Date().toISOString() };
  else delete killswitch[target];
  if (!keepToggles(res, { ...state, killswitch })) return undefined;
  audit({ kind: 'killswitch', target, action: body.action, reason, ip: clientIp(req) });
  return sendJson(res, 200, { success: true, data: togglesView() });
}

function debugError(req, res, body) {
  const kind = (body && body.kind) || 'handled';
  const error = new Error(`louieops test error (${kind}) at ${new Date().toISOString()}`);
  if (kind === 'rejection') {
    Promise.reject(error);  // unhandled on purpose: Sentry's handler reports it
    return sendJson(res, 202, { success: true, kind });
  }
  if (Sentry) Sentry.captureException(error);
  return sendJson(res, 500, { success: false, error: error.message });
}

function page(title) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
         `<body><h1>${title}</h1><p>Reference app ${VERSION}.</p></body></html>\n`;
}

// --- routes ------------------------------------------------------------------------------------
function handle(req, res) {
  requestTimes.push(Date.now());
  const urlPath = (req.url || '/').split('?')[0];

  if (req.method === 'GET' && urlPath === '/health') {
    return sendJson(res, 200, { status: 'healthy', timestamp: new Date().toISOString(), release: process.env.APP_RELEASE || null,
                                host: os.hostname() });
  }
  if (req.method === 'GET' && urlPath === '/health/db') {
    return checkDatabase((up, ms) => sendJson(res, up ? 200 : 503,
      { status: up ? 'healthy' : 'unhealthy', database: up ? 'up' : 'down', latency_ms: ms }));
  }
  const feature = featureOf(urlPath);
  const off = feature && disabledReason(feature);
  if (off) return sendJson(res, 503, { success: false, ...off });
  if (req.method === 'GET' && urlPath === '/api/slow') {
    const ms = Math.min(10000, Math.max(0, parseInt(new URLSearchParams((req.url || '').split('?')[1] || '').get('ms'), 10) || 0));
    return setTimeout(() => sendJson(res, 200, { success: true, slept_ms: ms }), ms);
  }
  if (req.method === 'GET' && urlPath === '/api/notes') return listNotes(res);
  if (req.method === 'POST' && urlPath === '/api/notes') return readBody(req, (body) => addNote(res, body));
  if (req.method === 'GET' && urlPath === '/api/claude/status') {
    return sendJson(res, 200, { success: true, data: { status: 'operational', version: VERSION } });
  }
  if (urlPath.startsWith('/admin/')) {
    if (!authorized(req, res)) return undefined;
    if (req.method === 'GET' && urlPath === '/admin/metrics/system') {
      return sendJson(res, 200, { success: true, data: systemMetrics() });
    }
    if (req.method === 'GET' && urlPath === '/admin/toggles') return sendJson(res, 200, { success: true, data: togglesView() });
    if (req.method === 'POST' && urlPath === '/admin/toggles') return readBody(req, (body) => setToggle(req, res, body));
    if (req.method === 'POST' && urlPath === '/admin/killswitch') return readBody(req, (body) => setKillswitch(req, res, body));
    if (req.method === 'POST' && urlPath === '/admin/debug/error') return readBody(req, (body) => debugError(req, res, body));
    return sendJson(res, 404, { success: false, error: 'not found' });
  }
  if (req.method === 'POST' && (urlPath === '/login' || urlPath === '/api/login')) {
    return readBody(req, (body) => {
      const user = String((body && body.username) || '').replace(/[^\x21-\x7e]/g, '_').slice(0, 64) || '-';
      const ok = body && user === 'admin' && sameSecret(body.password || '', ADMIN_TOKEN);
      if (!ok) {
        console.log(`Login failed for ${user} from ${clientIp(req)}`);
        return sendJson(res, 401, { success: false, error: 'invalid credentials' });
      }
      return sendJson(res, 200, { success: true });
    });
  }
  if (req.method === 'GET' && urlPath === '/') {
    const admin = process.env.ADMIN_DOMAIN && (req.headers.host || '').split(':')[0] === process.env.ADMIN_DOMAIN;
    const text = page(admin ? 'SimplyLouie Admin Dashboard' : 'SimplyLouie');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    return res.end(text);
  }
  return sendJson(res, 404, { success: false, error: 'not found' });
}

// --- websocket echo (RFC 6455) -----------------------------------------------------------------
function encodeFrame(fin, opcode, payload) {
  const first = (fin ? 0x80 : 0) | opcode;
  let header;
  if (payload.length < 126) {
    header = Buffer.from([first, payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = first; header[1] = 126; header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first; header[1] = 127; header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, payload]);
}

// Parse one frame at the start of buf: null if incomplete, else {fin, opcode, payload, size}.
function decodeFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let length = buf[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2); offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return null;
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(MAX_FRAME)) return { error: 1009 };
    length = Number(big); offset = 10;
  }
  if (length > MAX_FRAME) return { error: 1009 };
  if (!masked) return { error: 1002 };  // clients must mask (RFC 6455 5.1)
  if (buf.length < offset + 4 + length) return null;
  const mask = buf.subarray(offset, offset + 4);
  const payload = Buffer.from(buf.subarray(offset + 4, offset + 4 + length));
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  return { fin, opcode, payload, size: offset + 4 + length };
}

function closeWith(socket, code) {
  const body = Buffer.alloc(2);
  body.writeUInt16BE(code, 0);
  socket.end(encodeFrame(true, 0x8, body));
}

function upgrade(req, socket) {
  const key = req.headers['sec-websocket-key'];
  const urlPath = (req.url || '/').split('?')[0];
  const off = disabledReason('websocket');
  if (urlPath === '/ws' && off) {
    const text = JSON.stringify({ success: false, ...off });
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\n` +
               `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    return;
  }
  if (urlPath !== '/ws' || req.headers['sec-websocket-version'] !== '13' || !key ||
      (req.headers.upgrade || '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
               `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  websockets += 1;
  openWebsockets.add(socket);
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const frame = decodeFrame(pending);
      if (frame === null) return;
      if (frame.error) { closeWith(socket, frame.error); return; }
      pending = pending.subarray(frame.size);
      if (frame.opcode === 0x8) { socket.end(encodeFrame(true, 0x8, frame.payload.subarray(0, 125))); return; }
      if (frame.opcode === 0x9) { socket.write(encodeFrame(true, 0xA, frame.payload)); continue; }
      if (frame.opcode === 0xA) continue;
      socket.write(encodeFrame(frame.fin, frame.opcode, frame.payload));  // echo text/binary/continuation
    }
  });
  socket.on('close', () => { websockets -= 1; openWebsockets.delete(socket); });
  socket.on('error', () => socket.destroy());
}

// --- server ------------------------------------------------------------------------------------
const server = http.createServer(handle);
server.on('connection', (socket) => {
  openSockets += 1;
  socket.on('close', () => { openSockets -= 1; });
});
server.on('upgrade', upgrade);
server.on('clientError', (err, socket) => socket.destroy());
server.listen(PORT, HOST, () => console.log(`listening on ${HOST}:${PORT} (version ${VERSION})`));

// A graceful stop (pm2 sends SIGINT when a reload replaces this worker): take no new connection, let the
// requests in flight finish, close idle keep-alive connections and each websocket with 1001 "going away" (its
// client reconnects, to the new release), and go; pm2 kills after kill_timeout (APP_DRAIN_MS).
const DRAIN_MS = parseInt(process.env.APP_DRAIN_MS || '5000', 10);
let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  // In cluster mode pm2's master may have handed this worker a connection just before the close: wait a
  // moment before exiting, so the worker can refuse it and the master gives it to another worker.
  server.close(() => setTimeout(() => process.exit(0), 500));
  if (server.closeIdleConnections) server.closeIdleConnections();
  const goingAway = Buffer.from([0x03, 0xe9, ...Buffer.from('server restarting')]);  // 1001 + reason
  for (const socket of openWebsockets) socket.end(encodeFrame(true, 0x8, goingAway));
  setTimeout(() => process.exit(0), Math.max(500, DRAIN_MS - 500)).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
