// What the extension loads on demand, through accessModules() (lazy.ts) only:
// the Access flows and, behind them, sshpk, jose, ws and tweetnacl (dist/vendor-*.js).

export { ensureCertificate } from '../access/cert.js';
export { inspectCertificate, readCertificate } from '../access/cert-check.js';
export { HttpClient } from '../access/http.js';
export { login, logout, renewAppToken } from '../access/token-flow.js';
export { discoverApp } from '../access/metadata.js';
