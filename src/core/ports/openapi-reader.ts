/**
 * Where OpenAPI documents are read and planned. Parsing megabytes of YAML and planning thousands of
 * operations takes seconds of CPU, so an adapter does it off the event loop that serves requests; the
 * caller keeps the I/O (fetching the document and the files its references name, saving actions).
 */
import type { ImportPlan, PlanOptions } from '../openapi/index.ts';

export interface OpenApiReader {
  /**
   * Starts reading a document: JSON or YAML text, its UTF-8 bytes as fetched (the reader may take them
   * over: the caller must not use them again), or the parsed object; fetched from `url` when given (its
   * relative references resolve against it). Throws the AppError of a document that cannot be read.
   */
  open(document: unknown, url: string | undefined): Promise<OpenApiReading>;
  close(): Promise<void>;
}

export interface OpenApiReading {
  /** Files the references name that are neither added nor failed yet: absolute http(s) URLs. */
  readonly pending: readonly string[];
  /**
   * A fetched file's UTF-8 bytes (taken over, as in `open`); a file that cannot be decoded or parsed is
   * failed with the reason. Updates `pending`.
   */
  add(url: string, bytes: Uint8Array): Promise<void>;
  /** A file that could not be fetched: operations that need it are skipped with this reason. */
  fail(url: string, reason: string): Promise<void>;
  /** The plan of the document with its files. */
  plan(options: Omit<PlanOptions, 'documentUrl'>): Promise<ImportPlan>;
  /** Frees the reading; call it whatever happened. */
  close(): void;
}
