'use strict';
// Which compiled file runs for a source module, compiling first when the sources changed.
//
// In an image or an installed package there is no src/: dist/ is all there is. In a checkout,
// dist/.sources holds a fingerprint of the sources it was compiled from (every file's path, size
// and modification time); when today's sources differ in any way, they are compiled again with
// esbuild (transpile only, about a second; `npm run typecheck` checks types) before anything runs,
// so an edited checkout never runs yesterday's code, and an unchanged one starts from compiled
// JavaScript at once.
const fs = require('node:fs');
const path = require('node:path');

/** Folders whose TypeScript is compiled; dist/ mirrors their layout (dist/src/cli/main.js). */
const SOURCE_FOLDERS = ['src', 'migrations', 'examples'];
/** Bumped when the way sources are compiled changes, so older output is compiled again. */
const COMPILE_FORMAT = 'esbuild-cjs-node20 1';
const FINGERPRINT_FILE = '.sources';

function typescriptFiles(root) {
  const files = [];
  for (const folder of SOURCE_FOLDERS) {
    const dir = path.join(root, folder);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
        files.push(path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)));
    }
  }
  return files.sort();
}

/** One line per source file: any edit, addition, removal or checkout changes it. */
function fingerprint(root, files) {
  const lines = [COMPILE_FORMAT];
  for (const file of files) {
    const stat = fs.statSync(path.join(root, file));
    lines.push(`${file} ${stat.size} ${stat.mtimeMs}`);
  }
  return lines.join('\n');
}

function moveInto(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      fs.mkdirSync(target, { recursive: true });
      moveInto(source, target);
    } else {
      // rename is atomic: a tollgate running beside this one reads the old file or the new, never half of one.
      fs.renameSync(source, target);
    }
  }
}

/** Compiles every source file into dist/ and records what it compiled. */
function compileSources(root, { quiet = false } = {}) {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    throw new Error(
      'tollgate: the sources changed since dist/ was compiled, and esbuild (a dev dependency) is not installed to compile them: run `npm ci`',
    );
  }
  const files = typescriptFiles(root);
  const before = fingerprint(root, files);
  if (!quiet) process.stderr.write('tollgate: compiling the sources (changed since dist/ was built)...\n');
  const dist = path.join(root, 'dist');
  fs.mkdirSync(dist, { recursive: true });
  const staging = fs.mkdtempSync(path.join(dist, '.compiling-'));
  try {
    esbuild.buildSync({
      absWorkingDir: root,
      entryPoints: files,
      outdir: staging,
      outbase: root,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      logLevel: 'error',
    });
    moveInto(staging, dist);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  // The fingerprint taken before compiling: a file edited meanwhile is compiled again next time.
  const stamp = path.join(dist, `${FINGERPRINT_FILE}.${process.pid}`);
  fs.writeFileSync(stamp, before);
  fs.renameSync(stamp, path.join(dist, FINGERPRINT_FILE));
}

/** The compiled file for `entry` (e.g. 'src/cli/main'), compiled first if the sources changed. */
function compiledEntry(root, entry) {
  const compiled = path.join(root, 'dist', `${entry}.js`);
  if (!fs.existsSync(path.join(root, 'src'))) return compiled;
  let recorded;
  try {
    recorded = fs.readFileSync(path.join(root, 'dist', FINGERPRINT_FILE), 'utf8');
  } catch {
    recorded = undefined;
  }
  if (recorded !== fingerprint(root, typescriptFiles(root)) || !fs.existsSync(compiled)) compileSources(root);
  return compiled;
}

module.exports = { compiledEntry, compileSources };

// `node bin/compiled-sources.js`: compile now (npm run build, npm ci's prepare).
if (require.main === module) compileSources(path.join(__dirname, '..'), { quiet: true });
