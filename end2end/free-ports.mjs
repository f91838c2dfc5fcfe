// Prints N free TCP ports on 127.0.0.1, comma-separated (all held open until all are known,
// so that no two are the same).
import net from 'node:net';

const n = Number(process.argv[2] ?? 1);
const servers = await Promise.all(
  Array.from({ length: n }, () =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    }),
  ),
);
console.log(servers.map((s) => s.address().port).join(','));
await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
