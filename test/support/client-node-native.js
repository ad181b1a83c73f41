// @kubernetes/client-node 1.x is an ES module. Node 20.19+ loads it from CommonJS (require(esm)),
// which is how Tollgate's worker and CLI load it; Jest's own module loader cannot. Tests load it
// with Node's require, outside Jest's module registry (nothing in the tests mocks it).
const { createRequire } = require('node:module');

module.exports = createRequire(__filename)('@kubernetes/client-node');
