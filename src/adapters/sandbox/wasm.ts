/**
 * The few WebAssembly APIs the sandbox uses, typed here: the project's TypeScript libs (es2024, node)
 * do not declare the WebAssembly global, and pulling in the DOM lib for it would type the whole tree.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module: opaque here, cloneable to worker threads. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

interface WasmApi {
  Memory: { new (descriptor: { initial: number; maximum: number }): WasmMemory; prototype: WasmMemory };
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
