/**
 * The engine's WebAssembly memory, created here so its growth passes through a check. QuickJS's own
 * memory limit only refuses single allocations larger than the limit (its running total is not kept in
 * this build), and the interrupt handler runs too rarely to catch a loop that allocates a megabyte per
 * turn. Every growth of the heap, though, goes through `memory.grow`: refusing it past the ceiling makes
 * the allocation fail inside QuickJS, which throws "out of memory" in the guest. The memory never shrinks,
 * so the pool replaces a worker whose memory has grown (see `wasmBytes` in the done message).
 */

import { wasm, type WasmMemory } from './wasm.ts';

const PAGE_BYTES = 65_536;
/** What Emscripten would create by default: 16 MiB to start, 2 GiB at most. */
const INITIAL_PAGES = 256;
const MAXIMUM_PAGES = 32_768;

export class MemoryGuard {
  readonly memory: WasmMemory;
  #ceiling = Number.POSITIVE_INFINITY;
  #hit = false;

  constructor() {
    const memory = new wasm.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES });
    const grow = memory.grow.bind(memory);
    memory.grow = (pages: number): number => {
      if (memory.buffer.byteLength + pages * PAGE_BYTES > this.#ceiling) {
        this.#hit = true;
        throw new RangeError('sandbox memory ceiling');
      }
      return grow(pages);
    };
    this.memory = memory;
  }

  /** Current size of the engine's memory, in bytes. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** True once a growth was refused since the last `limit` call. */
  get hit(): boolean {
    return this.#hit;
  }

  /** Refuse growth past `ceilingBytes` (absolute size of the memory) from now on. */
  limit(ceilingBytes: number): void {
    this.#ceiling = ceilingBytes;
    this.#hit = false;
  }

  /** Let the host's own bookkeeping allocate past the guest's ceiling without counting as a hit. */
  raise(extraBytes: number): void {
    this.#ceiling += extraBytes;
  }
}
