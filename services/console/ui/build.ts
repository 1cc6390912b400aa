/**
 * Bundles the console's web UI in memory with esbuild, once per console start:
 * nothing is written to disk, so there is no build step to forget and no stale
 * bundle to serve. Returns the files by URL path for the server to serve.
 *
 *   node services/console/ui/build.ts [--minify] [--out DIR]   (prints sizes and time)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export interface UiFile {
  body: Buffer;
  contentType: string;
}

const uiDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(uiDir, 'assets');

/** Browsers a control room or an operator's laptop runs today; older ones get a syntax error, not a half-working page. */
const targets = ['chrome111', 'edge111', 'firefox115', 'safari16.4'];

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export async function buildUi(options: { minify?: boolean } = {}): Promise<Map<string, UiFile>> {
  const minify = options.minify ?? true;
  const result = await esbuild.build({
    absWorkingDir: uiDir,
    entryPoints: [{ in: 'src/main.tsx', out: 'app' }, { in: 'src/styles/app.css', out: 'app' }],
    outdir: outDir,
    write: false,
    bundle: true,
    // A classic script (an IIFE): one file with no imports, which any script tag runs.
    format: 'iife',
    platform: 'browser',
    target: targets,
    tsconfig: join(uiDir, 'tsconfig.json'),
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    // License comments of preact and uPlot go to the end of the bundle.
    legalComments: 'eof',
    logLevel: 'silent',
  });
  const files = new Map<string, UiFile>();
  for (const f of result.outputFiles) {
    const path = '/' + relative(uiDir, f.path).split('\\').join('/');
    const ext = path.slice(path.lastIndexOf('.'));
    files.set(path, { body: Buffer.from(f.contents), contentType: contentTypes[ext] ?? 'application/octet-stream' });
  }
  const js = files.get('/assets/app.js');
  const css = files.get('/assets/app.css');
  if (!js || !css) throw new Error(`the UI build did not produce app.js and app.css (got ${[...files.keys()].join(', ')})`);
  // A content hash in the URL: a browser never runs yesterday's app.js against today's API.
  const version = (body: Buffer): string => createHash('sha256').update(body).digest('hex').slice(0, 12);
  const html = readFileSync(join(uiDir, 'src/index.html'), 'utf8')
    .replace('%APP_JS%', `/assets/app.js?v=${version(js.body)}`)
    .replace('%APP_CSS%', `/assets/app.css?v=${version(css.body)}`);
  files.set('/', { body: Buffer.from(html), contentType: contentTypes['.html'] ?? 'text/html' });
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const t0 = performance.now();
  const files = await buildUi({ minify: !args.includes('--no-minify') });
  const ms = performance.now() - t0;
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
  for (const [path, f] of files) {
    console.log(`${path.padEnd(18)} ${(f.body.length / 1024).toFixed(1).padStart(7)} KiB`);
    if (out) {
      const target = join(out, path === '/' ? 'index.html' : path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.body);
    }
  }
  console.log(`built in ${ms.toFixed(0)} ms`);
}
