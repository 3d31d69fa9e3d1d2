/** OpenCX's api_endpoint, payload.base_url / servers and payload.path → the URL an http action calls. */
import { describe, expect, it } from 'vitest';
import { requestTemplate } from '../../src/http/dialects/opencx/payload.ts';

const param = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

describe('OpenCX payload → request template', () => {
  it.each([
    [
      'no path: the endpoint as given',
      'https://h.example.com/v1/tickets',
      {},
      'https://h.example.com/v1/tickets',
    ],
    [
      'a path: base_url first',
      'https://ignored.example.com/x',
      { base_url: 'https://h.example.com/api/', path: '/tickets/{id}', parameters: [param('id')] },
      'https://h.example.com/api/tickets/{{id}}',
    ],
    [
      'a path: an absolute server next',
      'https://ignored.example.com/x',
      { servers: [{ url: '/relative' }, { url: 'https://s.example.com/v2' }], path: '/tickets' },
      'https://s.example.com/v2/tickets',
    ],
    [
      'a path whose fixed start ends the endpoint',
      'https://h.example.com/v1/bookings',
      { path: '/bookings/{id}', parameters: [param('id')] },
      'https://h.example.com/v1/bookings/{{id}}',
    ],
    [
      'a path whose fixed start is inside the endpoint',
      'https://h.example.com/v1/bookings/123',
      { path: '/bookings/{id}', parameters: [param('id')] },
      'https://h.example.com/v1/bookings/{{id}}',
    ],
    [
      'a path the endpoint does not hold: appended',
      'https://h.example.com/v1',
      { path: 'bookings/{{id}}', parameters: [param('id')] },
      'https://h.example.com/v1/bookings/{{id}}',
    ],
    [
      'only a segment boundary counts',
      'https://h.example.com/v1/bookingsx',
      { path: '/bookings' },
      'https://h.example.com/v1/bookingsx/bookings',
    ],
  ])('%s', (_name, endpoint, payload, url) => {
    const { http } = requestTemplate({ api_endpoint: endpoint, request_type: 'GET', payload });
    expect(http.url).toBe(url);
  });

  it('sends the endpoint’s query as fixed values; a declared query parameter wins', () => {
    const { http } = requestTemplate({
      api_endpoint: 'https://h.example.com/search?source=agent&q=fixed',
      request_type: 'GET',
      payload: { parameters: [{ name: 'q', in: 'query', schema: { type: 'string' } }] },
    });
    expect(http.query).toEqual({ source: 'agent', q: '{{q}}' });
  });

  it('refuses a payload.method that disagrees with request_type, and a relative base_url', () => {
    const spec = { api_endpoint: 'https://h.example.com', request_type: 'POST' };
    expect(() => requestTemplate({ ...spec, payload: { method: 'get' } })).toThrow(/payload.method/);
    expect(requestTemplate({ ...spec, payload: { method: 'post' } }).http.method).toBe('POST');
    expect(() => requestTemplate({ ...spec, payload: { base_url: '/api', path: '/x' } })).toThrow(/base_url/);
  });
});
