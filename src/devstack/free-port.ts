import net from 'node:net';

/** A TCP port on loopback that nothing listens on right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Can a server listen on `port` right now? (Only a hint: take it at once, and verify after.) */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** `preferred` when it is free (so the links people know work), any free port otherwise. */
export async function preferredOrFreePort(preferred: number | undefined, host = '127.0.0.1'): Promise<number> {
  return preferred !== undefined && (await isPortFree(preferred, host)) ? preferred : freePort(host);
}
