// Preloaded with `node --require bench/peer/loopback.js ...` to keep a server on loopback.
// The Community Solid Server has no host option and calls server.listen(port), which
// binds every interface; here every TCP listen is forced onto 127.0.0.1 instead.
// Unix socket paths (non-numeric strings, {path}) and handles are left alone.
'use strict';
const net = require('net');

const HOST = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

function isPort(value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listen(...args) {
  const [first] = args;
  if (first === undefined || isPort(first)) {
    // listen([port][, host][, backlog][, callback]): drop any host given, put ours in.
    const rest = args.slice(1).filter((arg, i) => !(i === 0 && typeof arg === 'string'));
    return originalListen.call(this, first === undefined ? 0 : Number(first), HOST, ...rest);
  }
  if (first !== null && typeof first === 'object' && first.path === undefined && first.fd === undefined
      && !(first instanceof net.Server) && first._handle === undefined) {
    return originalListen.call(this, { ...first, host: HOST }, ...args.slice(1));
  }
  return originalListen.apply(this, args);
};
