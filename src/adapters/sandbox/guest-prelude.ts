/**
 * JavaScript that runs inside each fresh QuickJS context. QuickJS parses at roughly 8 KB per
 * millisecond, so what every run needs is kept small (PRELUDE) and the rest is compiled only by the
 * runs that use it: CONSOLE_MODULE, BASE64_MODULE and FETCH_MODULE on the first call of what they
 * implement, DESCRIBE on the error path.
 *
 * The prelude builds the guest's globals from copies (`inputs`, `secrets`), keeps the host functions in
 * its closure, removes what a code action must not have, and returns the result serializer. It captures
 * the intrinsics it relies on (the "kit") before the author's code runs, so patching prototypes cannot
 * change how it behaves. Even so nothing here is trusted: the host re-checks what comes out (size, depth,
 * syntax of the result; byte count of the logs; the fetch budget).
 *
 * Every string that crosses between guest and host does so as JSON text: the engine's string transfer
 * stops at the first NUL character, and JSON escapes it (and lone surrogates).
 *
 * These are String.raw templates: no backticks inside; the only substitution is the author's file name.
 */

/** The file name the author's code is compiled under; stack lines that name it are the author's. */
export const USER_FILENAME = 'action.js';
export const PRELUDE_FILENAME = 'switchboard-prelude.js';

/** The author's source as the body of an async function. Its first line is line 2 of the file. */
export function wrapSource(source: string): string {
  return '(async function () {\n' + source + '\n})';
}
export const WRAPPER_LINES_BEFORE = 1;

/**
 * (load) => [setup, warm], evaluated when the context is prepared (before its run is known). It keeps
 * to what every run needs; console, atob/btoa and fetch are compiled by `load(name, kit, arg)` on their
 * first call (CONSOLE_MODULE, BASE64_MODULE, FETCH_MODULE), so a run pays only for what it uses.
 * - setup(inputsJson, secretsJson, logChars) => serialize, called when the run starts
 * - warm() compiles fetch ahead of the run, for workers whose recent runs used it
 * - serialize(value, maxChars) -> JSON text, or [code, message]
 */
export const PRELUDE = String.raw`(function (load) {
'use strict';
const G = globalThis, O = Object, S = String, freeze = O.freeze, keys = O.keys, def = O.defineProperty;
const parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray;
const uncurry = Function.prototype.bind.bind(Function.prototype.call), slice = uncurry(S.prototype.slice);
const kit = freeze({ freeze, keys, def, parse, stringify, S, slice, isArray, create: O.create, hasOwn: O.hasOwn,
  Error, TypeError, join: uncurry(Array.prototype.join), lower: uncurry(S.prototype.toLowerCase),
  upper: uncurry(S.prototype.toUpperCase), values: uncurry(Array.prototype.values),
  call: uncurry(Function.prototype.call), iterator: Symbol.iterator });
delete G.SharedArrayBuffer; delete G.Atomics; delete G.WebAssembly; delete G.WeakRef; delete G.FinalizationRegistry;
let logChars = 0, con, b64, net;
const logger = (level) => function () { (con || (con = load('console', kit, logChars)))(level, arguments); };
const coded = (mode) => function (data) { return (b64 || (b64 = load('base64', kit, 0)))(mode, data); };
const globals = {
  console: freeze({ log: logger(0), info: logger(1), warn: logger(2), error: logger(3), debug: logger(4) }),
  fetch: function fetch(input, init) { return (net || (net = load('fetch', kit, 0)))(input, init); },
  atob: coded(0), btoa: coded(1),
};
const globalNames = keys(globals);
for (let i = 0; i < globalNames.length; i++) def(G, globalNames[i], { value: globals[globalNames[i]], writable: true, configurable: true });
const deepFreeze = (v) => {
  if (typeof v === 'object' && v !== null) { const k = keys(v); for (let i = 0; i < k.length; i++) deepFreeze(v[k[i]]); freeze(v); }
  return v;
};
const STOP = {};
const serialize = function (value, maxChars) {
  let refused, budget = maxChars;
  // A lower bound of the text each value adds, so an oversized value stops early: a value is at least
  // one character, plus a comma in an array or its key in an object (left out when undefined).
  const replacer = function (key, v) {
    const t = typeof v;
    if (t === 'function' || t === 'symbol' || t === 'bigint') {
      refused = 'contains a ' + (t === 'bigint' ? 'BigInt' : t === 'symbol' ? 'Symbol' : 'function') + ', which JSON cannot hold'
        + (key === '' ? '' : ' (at key ' + slice(stringify(S(key)), 0, 100) + ')');
      throw STOP;
    }
    const inArray = isArray(this);
    if (v === undefined && !inArray) return v;
    budget -= 1 + (inArray ? 1 : key.length) + (t === 'string' ? v.length : 0);
    if (budget < 0) { refused = null; throw STOP; }
    return v;
  };
  try {
    const text = stringify(value, replacer);
    return text === undefined ? 'null' : text;
  } catch (e) {
    if (e === STOP) return refused === null ? ['OUTPUT_TOO_LARGE', ''] : ['OUTPUT_INVALID', 'The returned value ' + refused];
    let why;
    try { why = S(e && e.message); } catch (again) { why = 'an unreadable error'; }
    if (why === 'stack overflow') return ['OUTPUT_INVALID', 'The returned value is nested too deeply'];
    if (why === 'circular reference') return ['OUTPUT_INVALID', 'The returned value contains a circular reference'];
    return ['OUTPUT_INVALID', 'Reading the returned value threw: ' + slice(why, 0, 500)];
  }
};
const setup = function (inputsJson, secretsJson, maxLogChars) {
  logChars = maxLogChars;
  const secrets = O.create(null), given = parse(secretsJson), names = keys(given);
  for (let i = 0; i < names.length; i++) def(secrets, names[i], { value: S(given[names[i]]), enumerable: true });
  def(G, 'inputs', { value: deepFreeze(parse(inputsJson)), enumerable: true });
  def(G, 'secrets', { value: freeze(secrets), enumerable: true });
  return serialize;
};
return [setup, () => { net = load('fetch', kit, 0); }];
})`;

/**
 * (kit, log, logChars) => (level, args). log(level, lineJson, fullLength) returns the characters the
 * host still accepts; lines are cut to that before they cross.
 */
export const CONSOLE_MODULE = String.raw`(function (kit, log, room) {
'use strict';
const { S, stringify, slice, join, Error } = kit;
const show = (v) => {
  if (typeof v === 'string') return v;
  try {
    if (typeof v === 'function') return '[Function ' + (v.name || 'anonymous') + ']';
    if (typeof v === 'bigint') return S(v) + 'n';
    if (typeof v !== 'object' || v === null) return S(v);
    if (v instanceof Error) return S(v.name) + ': ' + S(v.message);
    const t = stringify(v);
    return t === undefined ? S(v) : t;
  } catch (e) { try { return S(v); } catch (again) { return '[unprintable]'; } }
};
return function (level, args) {
  if (!(room > 0)) return;
  const parts = [];
  for (let i = 0; i < args.length; i++) parts[i] = show(args[i]);
  const line = join(parts, ' ');
  room = log(level, stringify(line.length > room ? slice(line, 0, room) : line), line.length);
};
})`;

/** (kit, base64) => (mode, data): atob (mode 0) and btoa (mode 1); base64 returns JSON text or a number when the input is invalid. */
export const BASE64_MODULE = String.raw`(function (kit, base64) {
'use strict';
const { S, stringify, parse, Error } = kit;
return function (mode, data) {
  const out = base64(mode, stringify(S(data)));
  if (typeof out === 'string') return parse(out);
  const e = new Error(mode === 0 ? 'atob: the string is not correctly encoded' : 'btoa: the string contains characters outside of Latin-1');
  e.name = 'InvalidCharacterError';
  throw e;
};
})`;

/**
 * (kit, hostFetch) => fetch. hostFetch(requestJson) returns a promise of the answer's JSON text, or a
 * string (the message of a TypeError) when the call is refused before it leaves (budget, size).
 */
export const FETCH_MODULE = String.raw`(function (kit, hostFetch) {
'use strict';
const { freeze, keys, parse, stringify, S, create, hasOwn, isArray, TypeError, lower, upper, values, call, iterator } = kit;
function headerList(init) {
  const out = create(null);
  if (init === undefined || init === null) return out;
  const put = (name, value) => { out[lower(S(name))] = S(value); };
  if (isArray(init)) {
    for (let i = 0; i < init.length; i++) {
      const pair = init[i];
      if (!isArray(pair) || pair.length !== 2) throw new TypeError('fetch: each header must be a [name, value] pair');
      put(pair[0], pair[1]);
    }
  } else if (typeof init === 'object' && typeof init.forEach === 'function') {
    init.forEach((value, name) => put(name, value));
  } else if (typeof init === 'object') {
    const names = keys(init);
    for (let i = 0; i < names.length; i++) put(names[i], init[names[i]]);
  } else {
    throw new TypeError('fetch: headers must be an object or a list of [name, value] pairs');
  }
  return out;
}
function makeHeaders(map) {
  const names = keys(map), pairs = [], list = [];
  for (let i = 0; i < names.length; i++) { pairs[i] = [names[i], map[names[i]]]; list[i] = map[names[i]]; }
  const headers = {
    get(name) { const key = lower(S(name)); return hasOwn(map, key) ? map[key] : null; },
    has(name) { return hasOwn(map, lower(S(name))); },
    forEach(callback, thisArg) { for (let i = 0; i < names.length; i++) call(callback, thisArg, map[names[i]], names[i], headers); },
    entries() { return values(pairs); },
    keys() { return values(names); },
    values() { return values(list); },
  };
  headers[iterator] = headers.entries;
  return freeze(headers);
}
function makeResponse(raw) {
  const map = create(null), names = keys(raw.headers);
  for (let i = 0; i < names.length; i++) map[lower(names[i])] = S(raw.headers[names[i]]);
  const body = S(raw.body);
  let used = false;
  const consume = () => {
    if (used) throw new TypeError('fetch: the response body has already been read');
    used = true;
    return body;
  };
  return freeze({
    ok: raw.status >= 200 && raw.status <= 299,
    status: raw.status,
    statusText: S(raw.statusText),
    url: S(raw.url),
    redirected: false,
    headers: makeHeaders(map),
    get bodyUsed() { return used; },
    text: async () => consume(),
    json: async () => parse(consume()),
  });
}
return async function fetch(input, init) {
  const url = typeof input === 'string' ? input
    : input !== null && typeof input === 'object' && typeof input.url === 'string' ? input.url : S(input);
  const options = init === undefined || init === null ? {} : init;
  const method = options.method === undefined || options.method === null ? 'GET' : upper(S(options.method));
  const headers = headerList(options.headers);
  const body = options.body;
  if (body !== undefined && body !== null && typeof body !== 'string') {
    throw new TypeError('fetch: the body must be a string (use JSON.stringify for JSON)');
  }
  const pending = hostFetch(stringify([url, method, headers, body === undefined ? null : body]));
  if (typeof pending === 'string') throw new TypeError(pending);
  const raw = parse(await pending);
  if (typeof raw.error === 'string') throw new TypeError(raw.error);
  return makeResponse(raw);
};
})`;

/** (thrown) => JSON text of [message, stack, lineNumber]; compiled only when a run fails. */
export const DESCRIBE = String.raw`(function (thrown) {
'use strict';
try {
  if ((typeof thrown === 'object' && thrown !== null) || typeof thrown === 'function') {
    const name = thrown.name, message = thrown.message, stack = thrown.stack;
    const text = message === undefined ? String(thrown) : (name ? String(name) + ': ' : '') + String(message);
    const line = thrown.fileName === '${USER_FILENAME}' && typeof thrown.lineNumber === 'number' ? thrown.lineNumber : 0;
    return JSON.stringify([text.slice(0, 2000), typeof stack === 'string' ? stack.slice(0, 4000) : '', line]);
  }
  return JSON.stringify([String(thrown).slice(0, 2000), '', 0]);
} catch (error) {
  return '["a value that could not be read","",0]';
}
})`;
