// @kubernetes/client-node 1.x is an ES module. Node 20.19+ loads it from CommonJS (require(esm)),
// which is how Tollgate's worker and CLI load it; Jest's module loader cannot, and it replaces
// `require('module')` with its own. So tests load it with Node's own require (reached through
// process.getBuiltinModule), outside Jest's module registry; nothing in the tests mocks it.
const nodeModule = process.getBuiltinModule('node:module');

module.exports = nodeModule.createRequire(__filename)('@kubernetes/client-node');
