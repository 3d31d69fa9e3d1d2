/** Shared setup for the egress suites: test options for the guarded client and error capture. */
import { expect } from 'vitest';
import type { EgressOptions } from '../../src/adapters/http-client/options.ts';
import { EgressError, type EgressErrorCode } from '../../src/core/ports/http-client.ts';

/** Short limits so hostile cases finish fast; 127.0.0.2 (the mock upstream) is allow-listed. */
export function egressOptions(overrides: Partial<EgressOptions> = {}): EgressOptions {
  return {
    allowPrivateNetworks: ['127.0.0.2'],
    allowedPorts: [],
    dnsServers: [],
    connectTimeoutMs: 1_000,
    timeoutMs: 2_000,
    timeoutCapMs: 5_000,
    responseLimitBytes: 1024 * 1024,
    responseCapBytes: 4 * 1024 * 1024,
    requestLimitBytes: 64 * 1024,
    maxRedirects: 5,
    userAgent: 'switchboard-test/1',
    ...overrides,
  };
}

/** The EgressError `action` fails with; fails the test if it succeeds or throws anything else. */
export async function egressError(action: Promise<unknown> | (() => unknown)): Promise<EgressError> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    expect(error).toBeInstanceOf(EgressError);
    return error as EgressError;
  }
  throw new Error('expected an EgressError, but the request succeeded');
}

export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: EgressErrorCode,
): Promise<EgressError> {
  const error = await egressError(action);
  expect(error.code, error.message).toBe(code);
  return error;
}
