declare module 'dynalite' {
  import type { Server } from 'node:http';
  function dynalite(opts?: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number; path?: string }): Server;
  export default dynalite;
}
