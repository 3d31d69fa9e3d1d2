/**
 * A real DNS server on 127.0.0.1 (UDP) answering A and AAAA from a table, with TTL 0 so no resolver
 * caches an answer: what docs/security.md A05, A08 and A14 need (names that resolve inward, rebinding,
 * mixed A/AAAA sets). Unknown names get NXDOMAIN; a known name without records of the asked type gets
 * an empty NOERROR answer.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIPv4 } from 'node:net';

export interface DnsAnswer {
  A?: readonly string[];
  AAAA?: readonly string[];
}

/**
 * One answer set for every query; or a sequence where the n-th query of each type gets the n-th set
 * (the last repeats), e.g. `[{ A: ['93.184.215.14'] }, { A: ['127.0.0.1'] }]` for rebinding; or a
 * function of the query.
 */
export type DnsRecord = DnsAnswer | readonly DnsAnswer[] | ((query: DnsQuery) => DnsAnswer);

export interface DnsQuery {
  name: string;
  type: 'A' | 'AAAA';
  /** How many queries of this type this name had before this one. */
  index: number;
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, as dnsServers takes it. */
  address: string;
  port: number;
  /** Queries received, all names and types. */
  readonly queries: number;
  queriesFor(name: string): number;
  /** Adds or replaces a name. */
  set(name: string, record: DnsRecord): void;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

export async function startDnsServer(records: Record<string, DnsRecord> = {}): Promise<DnsServer> {
  const table = new Map<string, DnsRecord>();
  for (const [name, record] of Object.entries(records)) table.set(normalize(name), record);
  const counts = new Map<string, number>();
  let queries = 0;

  const socket = createSocket('udp4');
  socket.on('message', (message: Buffer, remote: RemoteInfo) => {
    const reply = answer(message);
    if (reply !== undefined) socket.send(reply, remote.port, remote.address);
  });

  function answer(message: Buffer): Buffer | undefined {
    const question = parseQuestion(message);
    if (question === undefined) return undefined;
    queries++;
    const name = normalize(question.name);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const record = table.get(name);
    if (record === undefined) return reply(message, question.end, 3, []);
    if (question.type !== TYPE_A && question.type !== TYPE_AAAA) return reply(message, question.end, 0, []);
    const type = question.type === TYPE_A ? 'A' : 'AAAA';
    const key = `${name} ${type}`;
    const index = counts.get(key) ?? 0;
    counts.set(key, index + 1);
    const set =
      typeof record === 'function'
        ? record({ name, type, index })
        : Array.isArray(record)
          ? ((record as readonly DnsAnswer[])[Math.min(index, record.length - 1)] ?? {})
          : (record as DnsAnswer);
    const addresses = (type === 'A' ? set.A : set.AAAA) ?? [];
    return reply(
      message,
      question.end,
      0,
      addresses.map((address) => (type === 'A' ? ipv4Bytes(address) : ipv6Bytes(address))),
    );
  }

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const port = socket.address().port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get queries() {
      return queries;
    },
    queriesFor: (name) => counts.get(normalize(name)) ?? 0,
    set(name, record) {
      table.set(normalize(name), record);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The one question of a standard query: its name, type and where it ends. */
function parseQuestion(message: Buffer): { name: string; type: number; end: number } | undefined {
  if (message.length < 12 || (message[2]! & 0x80) !== 0 || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < message.length) {
    const length = message[at]!;
    if (length === 0) break;
    if (length > 63) return undefined; // compression is not used in questions
    labels.push(message.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  if (at + 5 > message.length) return undefined;
  return { name: labels.join('.'), type: message.readUInt16BE(at + 1), end: at + 5 };
}

function reply(query: Buffer, questionEnd: number, rcode: number, rdatas: Buffer[]): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  // QR, the query's opcode and RD, AA; RA; rcode.
  header[2] = 0x80 | (query[2]! & 0x79) | 0x04;
  header[3] = 0x80 | rcode;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdatas.length, 6);
  const type = query.readUInt16BE(questionEnd - 4);
  const answers = rdatas.map((rdata) => {
    const record = Buffer.alloc(12 + rdata.length);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(1, 4); // class IN
    record.writeUInt32BE(0, 6); // TTL 0: never cached
    record.writeUInt16BE(rdata.length, 10);
    rdata.copy(record, 12);
    return record;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}

function ipv4Bytes(address: string): Buffer {
  if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

/** Written here rather than imported from src, so the test's encoding is independent of the guard's parser. */
function ipv6Bytes(address: string): Buffer {
  let text = address;
  const bytes = Buffer.alloc(16);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  if (groups.length !== 8) throw new Error(`not an IPv6 address: ${address}`);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}
