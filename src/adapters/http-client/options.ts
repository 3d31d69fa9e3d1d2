/**
 * What the operator decides about outbound requests (docs/security.md, "Limits"); see SWITCHBOARD_EGRESS_*
 * in config.ts.
 */
export interface EgressOptions {
  /** Hosts, IPs or CIDRs reachable despite the SSRF guard (SWITCHBOARD_ALLOW_PRIVATE_NETWORKS), on any port. */
  allowPrivateNetworks: readonly string[];
  /** Ports allowed on public hosts besides 80 and 443. */
  allowedPorts: readonly number[];
  /** DNS servers to resolve with (`ip` or `ip:port`); empty means the system resolver (getaddrinfo). */
  dnsServers: readonly string[];
  connectTimeoutMs: number;
  /** Default total deadline, and the most a request may ask for. */
  timeoutMs: number;
  timeoutCapMs: number;
  /** Default response body limit after decompression, and the most a request may ask for. */
  responseLimitBytes: number;
  responseCapBytes: number;
  requestLimitBytes: number;
  /** Redirect hops followed at most. */
  maxRedirects: number;
  userAgent: string;
}
