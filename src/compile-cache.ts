/**
 * Preloaded by `npm start` (`--import`): turns Node's on-disk cache of compiled code on before the
 * server's modules load, so a start reuses what an earlier one compiled (about half the time imports
 * take). The cache sits with the dependencies it mostly holds (node_modules/.cache), keyed by Node's
 * version and each file's content; whoever can write there can already change the code itself. Where it
 * cannot be written, Node runs without it.
 */
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache(fileURLToPath(new URL('../node_modules/.cache/switchboard-compile', import.meta.url)));
