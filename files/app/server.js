// Managed by louieops (files/app/server.js); local edits are overwritten on the next deploy.
// Reference app of louieops: stands in for the real SimplyLouie API in tests and the demo.
// Plain Node.js, built-in modules only (no npm dependencies). It listens on loopback behind nginx.
//
//   GET  /                       homepage (or the admin dashboard page on the admin domain)
//   GET  /health                 {"status":"healthy","timestamp":...}   (cheap: no database call)
//   GET  /health/db              database status through psql (503 when it is down)
//   GET  /api/claude/status      {"success":true,"data":{"status":"operational","version":"1.0.0"}}
//   GET  /admin/metrics/system   system metrics; needs "Authorization: Bearer $LOUIE_ADMIN_TOKEN"
//   POST /login, /api/login      {"username","password"}; a failure logs "Login failed for USER from IP"
//   GET  /ws                     websocket echo (handshake and framing by hand, RFC 6455)
//
// Secrets come from the env file named by APP_ENV_FILE (mode 0600, owned by the app user).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const { execFile } = require('child_process');

const VERSION = '1.0.0';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_BODY = 64 * 1024;
const MAX_FRAME = 1024 * 1024;

function loadEnvFile(path) {
  if (!path) return;
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
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
const PORT = parseInt(process.env.PORT || '3000', 10);
const HOST = process.env.HOST || '127.0.0.1';
const ADMIN_TOKEN = process.env.LOUIE_ADMIN_TOKEN || '';

// --- metrics -----------------------------------------------------------------------------------
const requestTimes = [];
let openSockets = 0;
let websockets = 0;

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
function clientIp(req) {
  const peer = req.socket.remoteAddress || '';
  const fromProxy = peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1';
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
                          'Cache-Control': 'no-store' });
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
    try {
      if (type.includes('application/json')) return callback(JSON.parse(text || '{}'));
      return callback(Object.fromEntries(new URLSearchParams(text)));
    } catch (err) {
      return callback(null);
    }
  });
}

function checkDatabase(callback) {
  const started = Date.now();
  execFile('psql', ['-X', '-At', '-h', process.env.PGHOST || '127.0.0.1', '-c', 'SELECT 1'],
    { timeout: 3000, env: { ...process.env, PGPASSWORD: process.env.LOUIE_DB_PASSWORD || '' } },
    (err, stdout) => callback(!err && stdout.trim() === '1', Date.now() - started));
}

function page(title) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
         `<body><h1>${title}</h1><p>Reference app ${VERSION}.</p></body></html>\n`;
}

// --- routes ------------------------------------------------------------------------------------
function handle(req, res) {
  requestTimes.push(Date.now());
  const path = (req.url || '/').split('?')[0];

  if (req.method === 'GET' && path === '/health') {
    return sendJson(res, 200, { status: 'healthy', timestamp: new Date().toISOString() });
  }
  if (req.method === 'GET' && path === '/health/db') {
    return checkDatabase((up, ms) => sendJson(res, up ? 200 : 503,
      { status: up ? 'healthy' : 'unhealthy', database: up ? 'up' : 'down', latency_ms: ms }));
  }
  if (req.method === 'GET' && path === '/api/claude/status') {
    return sendJson(res, 200, { success: true, data: { status: 'operational', version: VERSION } });
  }
  if (req.method === 'GET' && path === '/admin/metrics/system') {
    const auth = req.headers.authorization || '';
    if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), ADMIN_TOKEN)) {
      return sendJson(res, 401, { success: false, error: 'unauthorized' });
    }
    return sendJson(res, 200, { success: true, data: systemMetrics() });
  }
  if (req.method === 'POST' && (path === '/login' || path === '/api/login')) {
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
  if (req.method === 'GET' && path === '/') {
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
  const path = (req.url || '/').split('?')[0];
  if (path !== '/ws' || req.headers['sec-websocket-version'] !== '13' || !key ||
      (req.headers.upgrade || '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
               `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  websockets += 1;
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
  socket.on('close', () => { websockets -= 1; });
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

function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
