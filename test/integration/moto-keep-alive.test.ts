import { connect, type Socket } from 'node:net';
import { useMoto } from '../helpers/moto';

/*
 * The launcher (src/local/moto_launcher.py) keeps HTTP connections open, where werkzeug's own
 * server closes every one: each AWS call used to pay a new TCP connection and a new server thread.
 * An open connection is only safe if every request's body is read to its end, whatever moto read
 * of it, so that the next request starts where this one ended. These tests speak HTTP on one raw
 * socket to see exactly what the server does with the bytes.
 */

const AUTH = 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One socket, and the answers it got, parsed as they arrive (Content-Length or chunked bodies). */
class Conn {
  private buf = Buffer.alloc(0);
  private readonly answers: Answer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  /** Settles when the connection is gone. */
  readonly gone: Promise<void>;
  private onGone: () => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    this.gone = new Promise<void>((resolve) => {
      this.onGone = resolve;
    });
    const gone = () => {
      this.closed = true;
      this.onGone();
      this.wake();
    };
    socket.on('close', gone);
    socket.on('end', gone);
    socket.on('error', gone);
  }

  static open(endpoint: string): Promise<Conn> {
    const url = new URL(endpoint);
    return new Promise((resolve, reject) => {
      const s = connect(Number(url.port), url.hostname, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  send(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  /** The next answer on this connection (fails if it closes first). */
  async next(): Promise<Answer> {
    for (;;) {
      const a = this.answers.shift();
      if (a) return a;
      if (this.closed) throw new Error('connection closed before the answer');
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  async nextTwo(): Promise<[Answer, Answer]> {
    return [await this.next(), await this.next()];
  }

  end(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private parse(): void {
    for (;;) {
      const head = this.buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const [statusLine = '', ...lines] = this.buf.subarray(0, head).toString('latin1').split('\r\n');
      const status = Number(statusLine.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let rest = this.buf.subarray(head + 4);
      let body: Buffer;
      if (status === 100) {
        this.buf = rest;
        continue;
      }
      if (headers['transfer-encoding'] === 'chunked') {
        const parts: Buffer[] = [];
        for (;;) {
          const eol = rest.indexOf('\r\n');
          if (eol < 0) return;
          const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
          if (rest.length < eol + 2 + size + 2) return;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          rest = rest.subarray(eol + 2 + size + 2);
          if (size === 0) break;
        }
        body = Buffer.concat(parts);
      } else {
        const length = Number(headers['content-length'] ?? 0);
        if (rest.length < length) return;
        body = rest.subarray(0, length);
        rest = rest.subarray(length);
      }
      this.buf = rest;
      this.answers.push({ status, headers, body: body.toString('utf8') });
      this.wake();
    }
  }
}

function request(method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): string {
  const headers: Record<string, string> = { Host: 's3.amazonaws.com', Authorization: AUTH, ...opts.headers };
  if (!Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) {
    headers['Content-Length'] = String(Buffer.byteLength(opts.body ?? ''));
  }
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${opts.body ?? ''}`;
}

function chunked(body: string, size: number): string {
  let out = '';
  for (let i = 0; i < body.length; i += size) {
    const part = body.slice(i, i + size);
    out += `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

describe('moto as the launcher runs it: one connection for many requests', () => {
  const moto = useMoto();
  let conn: Conn | undefined;
  // A server that closes or hangs fails a test here in seconds, not at jest's minute.
  jest.setTimeout(15_000);
  afterEach(() => conn?.end());

  it('answers requests one after another on one connection, without closing it', async () => {
    // prepare
    conn = await Conn.open(moto().endpoint);

    // act
    conn.send(request('PUT', '/keepalive-a'));
    const created = await conn.next();
    conn.send(request('PUT', '/keepalive-a/k1', { body: 'first body' }));
    const put = await conn.next();
    conn.send(request('GET', '/keepalive-a/k1'));
    const got = await conn.next();

    // assess
    expect([created.status, put.status, got.status]).toEqual([200, 200, 200]);
    expect(got.body).toBe('first body');
    for (const a of [created, put, got]) expect(a.headers.connection).not.toBe('close');
    expect(conn.closed).toBe(false);
  });

  it('reads away a body moto never looked at, so the next request on the connection is read whole', async () => {
    // prepare: moto refuses a PUT into a bucket that does not exist before it reads the body
    conn = await Conn.open(moto().endpoint);
    const body = 'GET / HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n'.repeat(50);

    // act: both requests in one write, the second right behind the first's body
    conn.send(request('PUT', '/no-such-bucket-ka/k', { body }) + request('PUT', '/keepalive-b'));
    const [refused, created] = await conn.nextTwo();

    // assess: two answers, the second to the second request (not to text inside the first's body)
    expect(refused.status).toBe(404);
    expect(refused.body).toContain('NoSuchBucket');
    expect(created.status).toBe(200);
    conn.send(request('GET', '/'));
    const listed = await conn.next();
    expect(listed.body).toContain('<Name>keepalive-b</Name>');
  });

  it('reads a chunked body to its last chunk and answers the request pipelined behind it', async () => {
    // prepare
    conn = await Conn.open(moto().endpoint);
    conn.send(request('PUT', '/keepalive-c'));
    expect((await conn.next()).status).toBe(200);
    const text = 'line of a chunked object\n'.repeat(40);

    // act
    conn.send(request('PUT', '/keepalive-c/chunked', { body: chunked(text, 97), headers: { 'Transfer-Encoding': 'chunked' } }) + request('GET', '/keepalive-c/chunked'));
    const [put, got] = await conn.nextTwo();

    // assess
    expect(put.status).toBe(200);
    expect(got.status).toBe(200);
    expect(got.body).toBe(text);
  });

  it('closes the connection after answering a request whose body it cannot delimit', async () => {
    // prepare
    conn = await Conn.open(moto().endpoint);

    // act: a Content-Length that is not a number, then a request that must not be taken from the body
    conn.send(request('PUT', '/keepalive-d/k', { body: 'GET / HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n', headers: { 'Content-Length': 'many' } }));
    const first = await conn.next();
    await conn.gone;

    // assess: one answer that says it closes, then the connection is gone
    expect(first.headers.connection).toBe('close');
    expect(conn.closed).toBe(true);
    await expect(conn.next()).rejects.toThrow('connection closed before the answer');
  });

  it('closes the connection after refusing a request line too long to read, on a connection already used', async () => {
    // prepare
    conn = await Conn.open(moto().endpoint);
    conn.send(request('PUT', '/keepalive-e'));
    expect((await conn.next()).status).toBe(200);

    // act: a request line over http.server's 64 KB, whose rest must not be read as a request
    conn.send(request('GET', `/keepalive-e/${'x'.repeat(70_000)}`));
    const refused = await conn.next();
    await conn.gone;

    // assess
    expect(refused.status).toBe(414);
    expect(refused.headers.connection).toBe('close');
    await expect(conn.next()).rejects.toThrow('connection closed before the answer');
  });
});
