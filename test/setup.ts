// Loaded before every spec (see .mocharc.js). No test may reach AWS, or the EC2 metadata address that the
// SDK's default credential chain probes when it finds no credentials: give it dummy credentials, turn
// the metadata lookup off, and refuse any socket that is not to this machine.
import * as net from "node:net";
import { makeAwsEnvOffline } from "./fixtures";

makeAwsEnvOffline();

const LOCAL = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);
const connect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const [first] = args;
  const options = (typeof first === "object" && first !== null ? first : { port: first, host: args[1] }) as { host?: unknown; path?: unknown };
  const host = typeof options.host === "string" ? options.host : undefined;
  if (options.path === undefined && host !== undefined && !LOCAL.has(host)) {
    throw new Error(`test tried to connect to ${host}: tests may only talk to 127.0.0.1`);
  }
  return connect.apply(this, args);
} as typeof net.Socket.prototype.connect;
