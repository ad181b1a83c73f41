// jose is an ES module: loaded with Node's own require (require(esm)), outside Jest's module
// registry, as test/support/client-node-native.js explains. Nothing in the tests mocks it.
const nodeModule = process.getBuiltinModule('node:module');

module.exports = nodeModule.createRequire(__filename)('jose');
