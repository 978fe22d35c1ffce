/**
 * The parts of undici the client uses — the keep-alive Agent, its `request` API and the
 * ProxyAgent — loaded without the rest of the package (fetch, WebSocket, cache, mocks).
 * That keeps the extension bundle ~230 KB smaller and its activation faster. It is what undici's
 * own index does: `Object.assign(Dispatcher.prototype, api)`.
 */
import type { Agent as AgentClass, ProxyAgent as ProxyAgentClass } from 'undici';

/* eslint-disable @typescript-eslint/no-require-imports */
const Dispatcher = require('undici/lib/dispatcher/dispatcher') as { prototype: object };
const api = require('undici/lib/api') as object;
Object.assign(Dispatcher.prototype, api);

export const Agent = require('undici/lib/dispatcher/agent') as typeof AgentClass;
export const ProxyAgent = require('undici/lib/dispatcher/proxy-agent') as typeof ProxyAgentClass;
export type { Dispatcher } from 'undici';
