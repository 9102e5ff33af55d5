/**
 * Jest's transform for TypeScript: esbuild strips the types (tsconfig has isolatedModules, so each
 * file compiles alone). Measured on two integration files: 15 % less CPU than ts-jest, whose
 * per-file work went on even with a warm cache. Types are checked by `tsc --noEmit` (.ci/run), not
 * here. Source maps inline, so a failing line is reported in the .ts file.
 */
const { transformSync } = require('esbuild');
const { createHash } = require('node:crypto');

// import() becomes a require, as tsc compiles it for CommonJS: jest runs CommonJS, and its vm has
// no ES module loader without --experimental-vm-modules.
const OPTIONS = { loader: 'ts', format: 'cjs', target: 'node20', sourcemap: 'inline', supported: { 'dynamic-import': false } };
const VERSION = require('esbuild/package.json').version;

// esbuild defines a module's exports as getters that can be neither redefined nor assigned, where
// tsc assigns plain properties: jest.spyOn(require('…/app'), 'createApp') fails ("Cannot redefine
// property"), and test/setup.ts's wrapping of signSlackRequest for the secrets scan would be lost.
// The exports are made configurable, and assigning one makes it a plain property holding the new
// value, as under tsc; until then they stay live bindings. (esbuild may rename the helpers'
// variables to avoid a clash with the module's own names, hence the patterns.) And
// `import * as m` gives the module's own exports object when it is an ES module compiled to
// CommonJS, as tsc's __importStar does, not a copy: test/setup.ts assigns through such an import.
const EXPORT_HELPERS = [
  ['var __toESM = ', /^var __toESM = \((\w+), (\w+), (\w+)\) => \(/, 'var __toESM = ($1, $2, $3) => !$2 && $1 && $1.__esModule ? $1 : ('],
  ['var __export = ', /enumerable: true \}\)/, 'enumerable: true, configurable: true })'],
  [
    'var __copyProps = ',
    /__defProp\((\w+), (\w+), \{ get: \(\) => (\w+)\[\2\], enumerable: !\((\w+) = __getOwnPropDesc\(\3, \2\)\) \|\| \4\.enumerable \}\)/,
    '__defProp($1, $2, { get: () => $3[$2], set: (value) => __defProp($1, $2, { value, writable: true, enumerable: true, configurable: true }), enumerable: !($4 = __getOwnPropDesc($3, $2)) || $4.enumerable, configurable: true })',
  ],
];

function configurableExports(code, filename) {
  let out = code;
  for (const [helper, pattern, replacement] of EXPORT_HELPERS) {
    const at = out.indexOf(helper);
    if (at < 0) continue;
    // the helper's definition: up to the end of its body (the patterns match its first lines)
    const stop = out.indexOf('\n};\n', at);
    const end = stop < 0 ? out.length : stop;
    const block = out.slice(at, end);
    const patched = block.replace(pattern, replacement);
    // a new esbuild that writes its helpers differently must not pass silently
    if (patched === block) throw new Error(`esbuild-transform: ${filename}: esbuild ${VERSION} writes ${helper.trim()} differently; update EXPORT_HELPERS`);
    out = out.slice(0, at) + patched + out.slice(end);
  }
  return out;
}

module.exports = {
  process(source, filename) {
    return { code: configurableExports(transformSync(source, { ...OPTIONS, sourcefile: filename }).code, filename) };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(VERSION).update(JSON.stringify(OPTIONS)).update(String(EXPORT_HELPERS)).update(filename).update('\0').update(source).digest('hex');
  },
};
