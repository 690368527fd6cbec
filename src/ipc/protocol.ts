/**
 * edgegov client protocol, version 1 (docs/protocol.md is the reference for integrators).
 *
 * Transport: a Unix domain stream socket; one UTF-8 JSON object per `\n`-terminated line.
 * Requests carry an `op` and an optional `id` the reply echoes; the daemon also pushes
 * unsolicited `event` lines (decisions, shutdown) to subscribers.
 */
import type { Decision, Knobs, Reason } from '../core/decision.js';
import type { Policy } from '../policy/types.js';

export const PROTOCOL_VERSION = 1;
/** A request line longer than this is refused and the client disconnected. */
export const MAX_LINE_BYTES = 64 * 1024;

export const ERROR_CODES = {
  bad_json: 'the line is not valid JSON',
  bad_request: 'the message is not an object with a string `op`, or a field has the wrong type',
  unknown_op: 'no such op in protocol v1',
  unsupported_version: 'the client asked for a protocol version this daemon does not speak',
  line_too_long: 'a line exceeded 64 KiB; the daemon disconnects the client',
  rate_limited: 'the client sent faster than the token bucket allows; messages are dropped, persistent floods are disconnected',
  too_many_clients: 'the daemon already serves its maximum number of clients; the connection is closed',
  not_ready: 'the daemon has not made its first decision yet',
  policy_invalid: 'reload: the policy file has errors; the last good policy stays in force (see details)',
  policy_unreadable: 'reload: the policy file could not be read; the last good policy stays in force',
  peer_refused: 'the connecting process is neither the daemon\'s user nor in the socket\'s group or the admin group (SO_PEERCRED); the connection is closed',
  forbidden: 'a state-changing request (reload, report) from a peer that is not the daemon\'s user or in the admin group; the connection stays open',
  internal: 'an unexpected error inside the daemon (a bug); the connection stays open',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** The knobs of the policy's safe tier: what a client falls back to when its lease runs out. */
export interface SafeKnobs extends Knobs {
  tierIndex: number;
}

/** The safe tier's knobs for a policy (the last tier if the name does not resolve; the loader rejects that). */
export function safeKnobsOf(policy: Policy): SafeKnobs {
  const t = policy.tiers.find((x) => x.name === policy.control.safeTier) ?? policy.tiers[policy.tiers.length - 1];
  return {
    tier: t.name, tierIndex: t.index, quant: t.quant, contextLength: t.contextLength,
    batchSize: t.batchSize, threads: t.threads, pacingMs: t.pacingMs, offload: 'local',
  };
}

// ---------------------------------------------------------------- requests

export interface HelloRequest { op: 'hello'; id?: RequestId; version: number; client?: string }
export interface SubscribeRequest { op: 'subscribe'; id?: RequestId }
export interface UnsubscribeRequest { op: 'unsubscribe'; id?: RequestId }
export interface StatusRequest { op: 'status'; id?: RequestId }
export interface AdviseRequest {
  op: 'advise';
  id?: RequestId;
  /** Tokens in the prompt (after the chat template). */
  promptTokens: number;
  /** Tokens the caller expects to generate. */
  expectedOutputTokens: number;
  /** Private requests never leave the device. */
  private?: boolean;
  /** The caller wants the whole answer within this many ms. */
  deadlineMs?: number;
  /** `chat` or `document`: picks the policy's first-token target (rules.qoe) unless `firstTokenTargetMs` is given. */
  kind?: 'chat' | 'document';
  /** The app's own first-token target, ms. */
  firstTokenTargetMs?: number;
  /** Tokens of the conversation so far the answer needs (system prompt, earlier turns), beyond `promptTokens`. */
  historyTokens?: number;
  /** Of those, tokens the engine's KV cache already holds. */
  residentTokens?: number;
  /** How long the local engine is busy before it could start this request (a request ahead, a reload), ms. */
  engineWaitMs?: number;
}
export interface ReportRequest {
  op: 'report';
  id?: RequestId;
  /** The knobs the engine actually runs with. */
  applied?: Partial<Pick<Decision, 'tier' | 'quant' | 'contextLength' | 'batchSize' | 'threads' | 'pacingMs' | 'offload'>>;
  /** Decode speed the engine observed, tok/s (fed back as the `tok_s` signal). */
  tokS?: number;
  /** Time to first token the engine observed, ms. */
  firstTokenMs?: number;
  /** Wall time the engine computed for the request it reports (prefill + decode, pacing sleeps excluded), ms. */
  busyMs?: number;
  /** Wall time a request streamed from the cloud, ms (the device's radio was on). */
  radioMs?: number;
  /** Prompt-processing speed of the reported request, tok/s (fed back as `prefill_tok_s`). */
  prefillTokS?: number;
  /** Tokens of context the reported request needed: prompt + conversation (fed back as `req_ctx_tokens`). */
  contextTokens?: number;
}
export interface ReloadRequest { op: 'reload'; id?: RequestId }

export type RequestId = string | number;
export type Request =
  | HelloRequest | SubscribeRequest | UnsubscribeRequest | StatusRequest
  | AdviseRequest | ReportRequest | ReloadRequest;
export type Op = Request['op'];
export const OPS: readonly Op[] = ['hello', 'subscribe', 'unsubscribe', 'status', 'advise', 'report', 'reload'];

// ---------------------------------------------------------------- replies

export interface ErrorBody { code: ErrorCode; message: string; details?: string[] }
export interface ErrorReply { id?: RequestId | null; ok: false; op?: string; error: ErrorBody }

export interface HelloReply {
  id?: RequestId; ok: true; op: 'hello';
  version: number; server: string; deviceId: string; policy: string;
  ttlMs: number; safe: SafeKnobs;
}
export interface SubscribeReply { id?: RequestId; ok: true; op: 'subscribe'; ttlMs: number; safe: SafeKnobs }
export interface UnsubscribeReply { id?: RequestId; ok: true; op: 'unsubscribe' }
export interface StatusReply { id?: RequestId; ok: true; op: 'status'; status: DaemonStatus }

export type Route = 'local' | 'cloud' | 'defer';
export interface Advice {
  route: Route;
  tier: string;
  quant: string;
  contextLength: number;
  /** Predicted time to first token when run locally, ms. */
  predictedFirstTokenMs: number;
  /** Predicted local decode speed, tok/s. */
  predictedLocalTokS: number;
  /** Predicted wall time for the whole local answer, ms. */
  predictedTotalMs: number;
  /** Where the tok/s prediction came from: the bandwidth model alone, or scaled by engine reports. */
  model: 'bandwidth' | 'bandwidth+reports';
  severity: Decision['severity'];
  reasons: Reason[];
  /** The first-token target and reading pace the request was judged against (rules.qoe). */
  target?: { firstTokenMs: number; readTokS: number };
  /** Expected quality of experience (qoe × quality × context fidelity, 0..1) locally and, when it may go, in the cloud. */
  expectedValue?: { local: number; cloud?: number };
}
export interface AdviseReply extends Advice { id?: RequestId; ok: true; op: 'advise' }
export interface ReportReply { id?: RequestId; ok: true; op: 'report'; mismatch: string[] }
export interface ReloadReply { id?: RequestId; ok: true; op: 'reload'; policy: string; file: string }

export type Reply = HelloReply | SubscribeReply | UnsubscribeReply | StatusReply | AdviseReply | ReportReply | ReloadReply;

// ---------------------------------------------------------------- events

export interface DecisionEvent {
  event: 'decision';
  /** Increments on every change of knobs; a refresh repeats the same seq. */
  seq: number;
  /** False for a lease refresh (same decision re-sent so the lease does not run out). */
  changed: boolean;
  ttlMs: number;
  decision: Decision;
}
export interface ShutdownEvent { event: 'shutdown'; reason: string; safe: SafeKnobs }
export type ServerEvent = DecisionEvent | ShutdownEvent;

// ---------------------------------------------------------------- status

export interface DaemonStatus {
  version: string;
  protocol: number;
  pid: number;
  deviceId: string;
  uptimeS: number;
  hz: number;
  samples: number;
  decisionChanges: number;
  policy: {
    name: string;
    file: string;
    loadedAt: string;
    lastReloadOk: boolean;
    lastReloadAt?: string;
    lastReloadErrors: string[];
  };
  /** `psiEvents`: memory-pressure events that forced an immediate sample since start. */
  sources: { sensors: string; psiEvents: number; simulatedDevice?: string };
  simulated: string[];
  /** The signals of the last sample (undefined values are omitted: no reading). */
  signals: Record<string, number>;
  faults: { signal: string; reason: string }[];
  /**
   * What a fault of each declared sensor does under the policy in force (`onFault`, role default
   * or written), so a fault in `faults` can be read with its consequence.
   */
  faultConsequences: { signal: string; onFault: string; byDefault: boolean; fallback?: string; zonesSubstitute?: boolean }[];
  decision?: Decision;
  seq: number;
  clients: number;
  subscribers: number;
  socket: string;
  metrics?: string;
  journal?: { file: string; lines: number; syncedLines: number; lastSyncAt?: string; fsyncEveryLines: number; fsyncEveryMs: number };
  lastReport?: { atMsAgo: number; tokS?: number; firstTokenMs?: number };
}

// ---------------------------------------------------------------- validation

export type Parsed = { ok: true; req: Request } | { ok: false; id: RequestId | null; code: ErrorCode; message: string };

function isId(v: unknown): v is RequestId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function finiteNonNeg(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Parses and checks one request line. Never throws: a bad line becomes an error to send back. */
export function parseRequest(line: string): Parsed {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    return { ok: false, id: null, code: 'bad_json', message: `not JSON: ${(err as Error).message}` };
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return { ok: false, id: null, code: 'bad_request', message: 'a request must be a JSON object' };
  }
  const m = msg as Record<string, unknown>;
  const id = m.id === undefined ? null : isId(m.id) ? m.id : null;
  if (m.id !== undefined && !isId(m.id)) {
    return { ok: false, id: null, code: 'bad_request', message: '`id` must be a string or a finite number' };
  }
  if (typeof m.op !== 'string') {
    return { ok: false, id, code: 'bad_request', message: 'missing string field `op`' };
  }
  const bad = (message: string): Parsed => ({ ok: false, id, code: 'bad_request', message: `${m.op}: ${message}` });
  switch (m.op) {
    case 'hello':
      if (typeof m.version !== 'number') return bad('`version` (number) is required');
      if (m.client !== undefined && typeof m.client !== 'string') return bad('`client` must be a string');
      break;
    case 'subscribe': case 'unsubscribe': case 'status': case 'reload':
      break;
    case 'advise':
      if (!finiteNonNeg(m.promptTokens)) return bad('`promptTokens` must be a number ≥ 0');
      if (!finiteNonNeg(m.expectedOutputTokens)) return bad('`expectedOutputTokens` must be a number ≥ 0');
      if (m.private !== undefined && typeof m.private !== 'boolean') return bad('`private` must be a boolean');
      if (m.deadlineMs !== undefined && !(finiteNonNeg(m.deadlineMs) && (m.deadlineMs as number) > 0)) {
        return bad('`deadlineMs` must be a number > 0');
      }
      if (m.kind !== undefined && m.kind !== 'chat' && m.kind !== 'document') return bad('`kind` must be "chat" or "document"');
      for (const k of ['firstTokenTargetMs', 'historyTokens', 'residentTokens', 'engineWaitMs'] as const) {
        if (m[k] !== undefined && !finiteNonNeg(m[k])) return bad(`\`${k}\` must be a number ≥ 0`);
      }
      break;
    case 'report': {
      if (m.tokS !== undefined && !finiteNonNeg(m.tokS)) return bad('`tokS` must be a number ≥ 0');
      if (m.firstTokenMs !== undefined && !finiteNonNeg(m.firstTokenMs)) return bad('`firstTokenMs` must be a number ≥ 0');
      if (m.busyMs !== undefined && !finiteNonNeg(m.busyMs)) return bad('`busyMs` must be a number ≥ 0');
      if (m.radioMs !== undefined && !finiteNonNeg(m.radioMs)) return bad('`radioMs` must be a number ≥ 0');
      if (m.prefillTokS !== undefined && !finiteNonNeg(m.prefillTokS)) return bad('`prefillTokS` must be a number ≥ 0');
      if (m.contextTokens !== undefined && !finiteNonNeg(m.contextTokens)) return bad('`contextTokens` must be a number ≥ 0');
      if (m.applied !== undefined && (m.applied === null || typeof m.applied !== 'object' || Array.isArray(m.applied))) {
        return bad('`applied` must be an object of knobs');
      }
      break;
    }
    default:
      return { ok: false, id, code: 'unknown_op', message: `unknown op '${m.op.slice(0, 64)}' (protocol v1 ops: ${OPS.join(', ')})` };
  }
  return { ok: true, req: m as unknown as Request };
}

export function errorReply(id: RequestId | null | undefined, code: ErrorCode, message: string, details?: string[], op?: string): ErrorReply {
  const r: ErrorReply = { id: id ?? null, ok: false, error: { code, message } };
  if (op) r.op = op;
  if (details && details.length) r.error.details = details;
  return r;
}
