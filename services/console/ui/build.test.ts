import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Script } from 'node:vm';
import { buildUi } from './build.ts';

describe('buildUi', () => {
  it('bundles index.html, app.js and app.css in memory, the page referencing both assets', async () => {
    const files = await buildUi();
    assert.deepEqual([...files.keys()].sort(), ['/', '/assets/app.css', '/assets/app.js']);
    const html = files.get('/')!.body.toString();
    assert.match(files.get('/')!.contentType, /^text\/html/);
    assert.match(html, /<script defer src="\/assets\/app\.js\?v=[0-9a-f]{12}"><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="\/assets\/app\.css\?v=[0-9a-f]{12}">/);
    assert.match(html, /<div id="app"><\/div>/);
    assert.match(files.get('/assets/app.js')!.contentType, /^text\/javascript/);
    assert.match(files.get('/assets/app.css')!.contentType, /^text\/css/);
  });

  it('produces a script that parses, without zod or server code, under a size budget', async () => {
    const files = await buildUi();
    const js = files.get('/assets/app.js')!.body.toString();
    // A classic script: it compiles as one, so no stray import/export reached the bundle.
    assert.doesNotThrow(() => new Script(js, { filename: 'app.js' }));
    assert.doesNotMatch(js, /ZodError|node:fs/);
    // preact and uPlot are ~60 KiB of it; growing far past this means something heavy slipped in.
    assert.ok(js.length < 200 * 1024, `app.js is ${js.length} bytes`);
  });

  it('puts uPlot\'s stylesheet and the theme in app.css', async () => {
    const css = (await buildUi()).get('/assets/app.css')!.body.toString();
    assert.match(css, /\.uplot/);
    assert.match(css, /\.u-legend/);
    assert.match(css, /--critical/);
    assert.doesNotMatch(css, /@import/);
  });

  it('can leave the code readable', async () => {
    const files = await buildUi({ minify: false });
    assert.match(files.get('/assets/app.js')!.body.toString(), /openAlertStream/);
  });
});
