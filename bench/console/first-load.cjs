// First-load JS of a route from a Next production build: the root main files plus the route's entry chunks, gzip (the classic "First Load JS").
//   node bench/console/first-load.cjs PROJECT_DIR "/d/[director]" [v]
const dir = process.argv[2], route = process.argv[3];
process.chdir(dir + '/.next');
globalThis.self = globalThis;
const zlib = require('zlib'), fs = require('fs');
const bm = JSON.parse(fs.readFileSync('build-manifest.json', 'utf8'));
require(process.cwd() + `/server/app${route}/page_client-reference-manifest.js`);
const m = globalThis.__RSC_MANIFEST[`${route}/page`];
const files = new Set([...(bm.rootMainFiles || []), ...Object.values(m.entryJSFiles || {}).flat()]);
let tot = 0; const rows = [];
for (const f of files) { if (!f.endsWith('.js')) continue; const g = zlib.gzipSync(fs.readFileSync(f)).length; tot += g; rows.push([g, f]); }
rows.sort((a, b) => b[0] - a[0]);
if (process.argv[4]) for (const [g, f] of rows) console.log((g / 1024).toFixed(1).padStart(7), f);
console.log(route, 'first-load JS', (tot / 1024).toFixed(1), 'kB gzip in', rows.length, 'files');
