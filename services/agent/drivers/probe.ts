// One run of a readiness probe, after the kubelet's prober (pkg/probe/{exec,http,tcp}):
// exec succeeds on exit status 0, httpGet on a status in 200..399, tcpSocket when a
// connection opens. Each run is bounded by the probe's timeout.

import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, IntOrString, Probe } from '../../../libs/model/types.js';
import { signalGroup } from './signal-group.js';

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

export interface ProbeContext {
  readonly container: Container;
  /** Environment and working directory an exec probe runs with (the container's own). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs: number;
}

const DEFAULT_HOST = '127.0.0.1';

/** A numeric port, or a named one looked up in the container's ports (FindPortByName). */
export function resolvePort(port: IntOrString, container: Container): number | undefined {
  if (typeof port === 'number') return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  if (/^\d+$/.test(port)) return resolvePort(Number(port), container);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

const fail = (message: string): ProbeResult => ({ ok: false, message });
const OK: ProbeResult = { ok: true };

function execProbe(command: readonly string[], ctx: ProbeContext): Promise<ProbeResult> {
  const [file, ...args] = command;
  if (file === undefined) return Promise.resolve(fail('exec probe has no command'));
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { ...ctx.env }, cwd: ctx.cwd, stdio: 'ignore', detached: true });
    let settled = false;
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      settle(fail(`exec probe timed out after ${ctx.timeoutMs}ms`));
    }, ctx.timeoutMs);
    child.on('error', (err) => settle(fail(`exec probe failed to run: ${err.message}`)));
    child.on('exit', (code, signal) =>
      settle(code === 0 ? OK : fail(`exec probe exited with ${code ?? signal ?? 'unknown status'}`)),
    );
  });
}

function httpGetProbe(probe: NonNullable<Probe['httpGet']>, ctx: ProbeContext): Promise<ProbeResult> {
  const port = resolvePort(probe.port, ctx.container);
  if (port === undefined) return Promise.resolve(fail(`httpGet probe port ${String(probe.port)} not found`));
  const https = probe.scheme === 'HTTPS';
  const request = https ? httpsRequest : httpRequest;
  const path = probe.path === undefined || probe.path === '' ? '/' : probe.path.startsWith('/') ? probe.path : `/${probe.path}`;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = request(
      {
        host: probe.host === undefined || probe.host === '' ? DEFAULT_HOST : probe.host,
        port,
        path,
        method: 'GET',
        timeout: ctx.timeoutMs,
        headers: { 'User-Agent': 'kube-probe/1.0', Accept: '*/*' },
        agent: false,
        // The kubelet does not verify probe certificates either.
        ...(https ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        settle(status >= 200 && status < 400 ? OK : fail(`httpGet probe got HTTP ${status}`));
      },
    );
    req.on('timeout', () => {
      settle(fail(`httpGet probe timed out after ${ctx.timeoutMs}ms`));
      req.destroy();
    });
    req.on('error', (err) => settle(fail(`httpGet probe failed: ${err.message}`)));
    req.end();
  });
}

function tcpSocketProbe(probe: NonNullable<Probe['tcpSocket']>, ctx: ProbeContext): Promise<ProbeResult> {
  const port = resolvePort(probe.port, ctx.container);
  if (port === undefined) return Promise.resolve(fail(`tcpSocket probe port ${String(probe.port)} not found`));
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host: probe.host === undefined || probe.host === '' ? DEFAULT_HOST : probe.host, port });
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(ctx.timeoutMs, () => settle(fail(`tcpSocket probe timed out after ${ctx.timeoutMs}ms`)));
    socket.on('connect', () => settle(OK));
    socket.on('error', (err) => settle(fail(`tcpSocket probe failed: ${err.message}`)));
  });
}

/** Runs the probe's handler once. A probe with no handler fails, as the kubelet's does. */
export function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  if (probe.exec !== undefined) return execProbe(probe.exec.command ?? [], ctx);
  if (probe.httpGet !== undefined) return httpGetProbe(probe.httpGet, ctx);
  if (probe.tcpSocket !== undefined) return tcpSocketProbe(probe.tcpSocket, ctx);
  return Promise.resolve(fail('probe has no handler'));
}
