// Preloaded into the policy pack process by the harness (NODE_OPTIONS=--require) when a test or bench
// asks for it: records which AWS modules the pack loads and refuses every socket that is not to this
// machine, then reports both on stderr when the pack is stopped with SIGTERM. The pack itself starts
// exactly as the CLI starts it; this file only watches.
"use strict";
const net = require("node:net");

const LOCAL = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);
const refused = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function probedConnect(...args) {
  const [first] = args;
  const options = typeof first === "object" && first !== null ? first : { port: first, host: args[1] };
  const host = typeof options.host === "string" ? options.host : undefined;
  if (options.path === undefined && host !== undefined && !LOCAL.has(host)) {
    refused.push(`${host}:${options.port}`);
    throw new Error(`keyage probe: the policy pack tried to connect to ${host}`);
  }
  return connect.apply(this, args);
};

function report() {
  const loaded = Object.keys(require.cache);
  const aws = [...new Set(loaded.map((f) => /node_modules[\\/]((?:@aws-sdk[\\/][^\\/]+)|(?:@pulumi[\\/]aws)|(?:aws-sdk))[\\/]/.exec(f)?.[1]).filter(Boolean))];
  process.stderr.write(`keyage-probe ${JSON.stringify({ modules: loaded.length, awsModules: aws, refusedConnections: refused })}\n`);
}

process.on("SIGTERM", () => {
  report();
  process.exit(0);
});
