// Builds the extension bundle (dist/extension.js) and, with --tests, the
// tests (out/test/*.test.js; `vscode` is test/fake-vscode.ts there). --production minifies; --watch rebuilds
// on change.
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  logLevel: 'warning',
};

const builds = [
  {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    minify: production,
  },
];
if (tests) {
  builds.push({
    ...common,
    entryPoints: readdirSync('test')
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `test/${f}`),
    outdir: 'out/test',
    // Unit tests of the VS Code glue run in Node against a recording stand-in.
    alias: { vscode: './test/fake-vscode.ts' },
  });
  builds.push({
    ...common,
    entryPoints: ['e2e/run.ts'],
    outfile: 'out/e2e/run.js',
    external: ['playwright-core'],
  });
}

for (const options of builds) {
  if (watch) {
    await (await esbuild.context(options)).watch();
  } else {
    await esbuild.build(options);
  }
}
