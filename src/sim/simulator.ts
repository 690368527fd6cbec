/**
 * One simulated device running an LLM: thermal network, battery, memory, the OS's own thermal
 * governor, the inference engine applying the governor's knobs, and a user sending requests.
 * `advance(dt, knobs)` moves time; `read(t_ms)` returns what the sensors would report.
 * Used by `simulate`/`compare` (scenario-driven) and by the daemon's live simulated device.
 */
import { ENGINE_REPORTED, SIMULATED_SIGNALS, zoneRegimeKey, type DeviceModel } from './device.js';
import type { SimModel } from './model.js';
import type { Scenario } from './scenario.js';
import type { Sample } from '../core/signals.js';
import { createThermalNetwork, type ThermalNetwork } from './thermal.js';
import { Battery } from './battery.js';
import { createRng, type Rng } from './rng.js';
import { createRequestStream, type Request } from './requests.js';
import { answerQoe, type QoeTarget } from '../core/qoe.js';
import { contextFidelity, quantQuality } from './quality.js';
import {
  decodeRate, prefillRate, powerOf, footprintMb, threadShare, type Knobs, type ClockScale,
} from './workload.js';

export interface SimOptions {
  device: DeviceModel;
  model: SimModel;
  scenario: Scenario;
  seed: number;
  /** Local generation slower than this counts as below the decode floor (tok/s). */
  floorTokS: number;
}

/** What happened during one `advance`. */
export interface TickStats {
  dtS: number;
  localTokens: number;
  qualityTokens: number;
  cloudTokens: number;
  decodeS: number;
  belowFloorS: number;
  pausedS: number;
  /** Seconds a request waited, deferred by the gateway (private work while the device may not run it). */
  deferredS: number;
  energyJ: number;
  oom: boolean;
  knobChanged: boolean;
  /** Tokens of answers lost to an OOM kill (already counted earlier; subtract them). */
  lostTokens: number;
  lostQualityTokens: number;
  requestsDone: number;
}

/** Where an answer went: the device, the cloud, or (for now) nowhere. */
export type Route = 'local' | 'cloud' | 'defer';

/** What the gateway knows about a request when it routes it (before it starts). */
export interface RouteQuery {
  kind: Request['kind'];
  private: boolean;
  promptTokens: number;
  /** The conversation so far the answer needs (system prompt, earlier turns). */
  historyTokens: number;
  /** Of those, tokens the local engine already holds in its KV cache (no prefill). */
  residentTokens: number;
  /** What the app expects the answer to be (its kind's median), tokens. */
  expectedOutputTokens: number;
  /** Seconds since the request was sent (a deferred request keeps asking). */
  waitedS: number;
  /** Seconds before the local engine could start it (a model reload, a restart after a kill). */
  engineWaitS: number;
  cloudReachable: boolean;
}

/** Routes one request; without a router every request runs locally. */
export type Router = (q: RouteQuery) => Route;

/** One request's end: what the user got (docs/simulator.md "Score"). */
export interface AnswerOutcome {
  index: number;
  kind: Request['kind'];
  private: boolean;
  /** `lost`: killed with the engine (OOM); `unanswered`: nothing delivered by the run's end. */
  route: 'local' | 'cloud' | 'lost' | 'unanswered';
  /** The tier (local) it ran at when it started. */
  tier?: string;
  arrivalS: number;
  /** Seconds from the request to its first token (undefined: none came). */
  firstTokenS?: number;
  /** Whether all its tokens were delivered before the run ended. */
  complete: boolean;
  outputTokens: number;
  qoe: number;
  quality: number;
  fidelity: number;
  /** qoe × quality × fidelity: what the score sums. */
  value: number;
}

interface ActiveRequest extends Request {
  arrivalS: number;
  target: QoeTarget;
  expectedOutputTokens: number;
  /** Where the gateway sent it; undefined until it is routed (a deferred one is re-asked). */
  route?: Route;
  /** Started on its route (prefill planned or cloud asked). */
  placed: boolean;
  tier?: string;
  prefillLeft: number;
  outLeft: number;
  cloudWaitS?: number;
  localTokens: number;
  qualityTokens: number;
  /** Tokens the answer needed: history + prompt. */
  neededTokens: number;
  fidelity: number;
  quality: number;
  delivered: number;
  /** Delivered timeline breakpoints [t, cumulative tokens, …] from arrival (qoe.ts). */
  points: number[];
  firstTokenS?: number;
  /** Prompt tokens processed and the time it took, for the engine's prefill report. */
  prefillDone: number;
  prefillS: number;
}

export class DeviceSimulator {
  readonly device: DeviceModel;
  readonly model: SimModel;
  readonly thermal: ThermalNetwork;
  readonly battery?: Battery;
  readonly signals: string[];

  tS = 0;
  ambientC: number;
  backgroundMb: number;
  cloudReachable: boolean;
  clock: ClockScale = { core: 1, mem: 1 };
  /** The knobs the engine is running with (undefined until the first advance or `start`). */
  knobs?: Knobs;
  contextPos = 0;
  psiSome = 0;
  psiFull = 0;
  lastTokS: number | undefined;
  /** Prompt tok/s of the last prefill that ran to its end (what the engine reports per answer). */
  lastPrefillTokS: number | undefined;
  private lastNeedTokens: number | undefined;
  lastBatteryW = 0;
  /** Seconds until the model is usable again (reload after a knob change or a restart). */
  private reloadLeftS = 0;
  private killedLeftS = 0;
  private req?: ActiveRequest;
  private nextArrivalS: number;
  private readonly nextRequest: () => Request;
  private readonly noise: Rng;
  /** One slot per reported signal, resolved once: its regime, scenario hold and last reading. */
  private readonly readSlots: ReadSlot[];
  private readonly nodeIdx: { soc: number; board: number; skin: number };
  private readonly heat: Float64Array;
  private lastPollMs = -Infinity;
  private ramps: { leftMb: number; perS: number }[] = [];
  /** Tokens of the conversation so far (system prompt, prompts and answers, on any route). */
  private sessionTokens = 0;
  /** Every request's end, in order (the score; `closeRun` adds the one in flight). */
  readonly outcomes: AnswerOutcome[] = [];
  private router?: Router;
  private warmKv = false;
  private closed = false;
  private lastPollTemps: Float64Array;
  private readonly opts: SimOptions;
  /** Per thermal zone: its sample key, the sensor regime it follows, its node. */
  private readonly zoneReads: { key: string; regime: string; node: number; offsetC: number }[];
  private readonly holdFlat: Readonly<Record<string, number>>;

  constructor(opts: SimOptions) {
    this.opts = opts;
    const { device, model, scenario, seed } = opts;
    this.device = device;
    this.model = model;
    this.ambientC = scenario.ambientC ?? device.thermal.ambientC;
    this.thermal = createThermalNetwork(device, this.ambientC);
    this.lastPollTemps = Float64Array.from(this.thermal.temps);
    this.heat = new Float64Array(this.thermal.names.length);
    this.nodeIdx = {
      soc: this.thermal.index(device.thermal.heat.soc),
      board: this.thermal.index(device.thermal.heat.board),
      skin: this.thermal.index(device.thermal.heat.skin),
    };
    if (device.battery) {
      this.battery = new Battery(device.battery, scenario.battery.initialPct ?? device.battery.initialPct, scenario.battery.charging);
    }
    // Before the first period the device idles: the screen, radios and board draw.
    this.lastBatteryW = this.battery?.charging ? 0 : device.power.baseW + device.power.boardW;
    this.backgroundMb = scenario.memory.backgroundMb ?? device.memory.backgroundMb;
    this.cloudReachable = scenario.cloud.reachable;
    this.nextRequest = createRequestStream(scenario, seed);
    this.nextArrivalS = scenario.workload.startDelayS;
    this.noise = createRng(seed, 2);
    this.signals = this.listSignals();
    this.zoneReads = device.thermal.zones.map((z) => ({
      key: `zone.${z.type}`, regime: zoneRegimeKey(device, z.type), node: this.thermal.index(z.node), offsetC: z.offsetC,
    }));
    this.holdFlat = scenario.holdFlat ?? {};
    this.readSlots = this.resolveReadSlots();
  }

  private listSignals(): string[] {
    const out: string[] = [];
    for (const s of SIMULATED_SIGNALS) {
      if (!(s in this.device.sensors) && !(ENGINE_REPORTED.has(s) && 'tok_s' in this.device.sensors)) continue;
      if (s === 'skin_c' && !this.device.thermal.signals.skin) continue;
      if ((s === 'battery_c' || s.startsWith('battery_') || s === 'charging') && !this.battery) continue;
      out.push(s);
    }
    for (const z of this.device.thermal.zones) out.push(`zone.${z.type}`);
    return out;
  }

  /** The app starts with the model already loaded under `knobs` (no reload cost). */
  start(knobs: Knobs): void {
    this.knobs = { ...knobs };
  }

  // ---- scenario events -------------------------------------------------------------------
  setAmbient(c: number): void { this.ambientC = c; }
  /** Another app allocates (or frees, negative) `mb` over `rampS` seconds. */
  addBackground(mb: number, rampS = 0): void {
    if (rampS <= 0) { this.backgroundMb = Math.max(0, this.backgroundMb + mb); return; }
    this.ramps.push({ leftMb: mb, perS: mb / rampS });
  }
  private applyRamps(dtS: number): void {
    for (const r of this.ramps) {
      const step = Math.abs(r.perS * dtS) >= Math.abs(r.leftMb) ? r.leftMb : r.perS * dtS;
      this.backgroundMb = Math.max(0, this.backgroundMb + step);
      r.leftMb -= step;
    }
    this.ramps = this.ramps.filter((r) => Math.abs(r.leftMb) > 1e-9);
  }
  setCharging(on: boolean): void { if (this.battery) this.battery.charging = on; }
  setCloudReachable(on: boolean): void { this.cloudReachable = on; }

  // ---- truth -------------------------------------------------------------------------------
  nodeC(name: string): number { return this.thermal.temps[this.thermal.index(name)]; }
  private signalC(which: 'soc' | 'skin' | 'battery', peak = false): number | undefined {
    const m = this.device.thermal.signals[which];
    if (!m) return undefined;
    const i = this.thermal.index(m.node);
    return (peak ? this.thermal.peak[i] : this.thermal.temps[i]) + m.offsetC;
  }
  /** True temperatures now (and their peaks during the last advance), by SPEC §9 node name. */
  truthC(): { soc: number; skin?: number; battery?: number } {
    return { soc: this.signalC('soc')!, skin: this.signalC('skin'), battery: this.battery ? this.signalC('battery') : undefined };
  }
  peakC(): { soc: number; skin?: number; battery?: number } {
    return { soc: this.signalC('soc', true)!, skin: this.signalC('skin', true), battery: this.battery ? this.signalC('battery', true) : undefined };
  }
  get dead(): boolean { return this.battery?.dead ?? false; }
  footprintMb(): number {
    if (!this.knobs || this.killedLeftS > 0 || this.dead) return 0;
    return footprintMb(this.model, this.knobs);
  }
  memAvailMb(): number {
    const m = this.device.memory;
    return m.totalMb - m.systemMb - this.backgroundMb - this.footprintMb();
  }

  // ---- time --------------------------------------------------------------------------------
  private applyKnobs(k: Knobs): boolean {
    const cur = this.knobs;
    if (!cur) { this.knobs = { ...k }; return false; }
    const same = cur.tier === k.tier && cur.quant === k.quant && cur.contextLength === k.contextLength &&
      cur.batchSize === k.batchSize && cur.threads === k.threads && cur.pacingMs === k.pacingMs && cur.offload === k.offload;
    if (same) return false;
    let costS = 0;
    if (cur.quant !== k.quant) {
      // research/03 §7: a new quant reloads the weights from storage (unload first). The KV cache
      // belongs to the old weights: like the llama.cpp engine (docs/inference.md), the kept
      // conversation is re-prefilled with the NEXT request of the same session (a request in
      // flight needs it at once), and not at all if a new session starts.
      costS = footprintMb(this.model, k) / this.device.memory.storageReadMBs;
      const req = this.req;
      if (req?.placed && req.route === 'local') req.prefillLeft += Math.min(this.contextPos, k.contextLength);
      this.contextPos = 0;
    } else if (cur.contextLength !== k.contextLength || cur.batchSize !== k.batchSize || cur.threads !== k.threads) {
      // New context with the KV state carried over (the llama.cpp adapter does this): ~0.3 s.
      costS = 0.3;
    }
    if (k.contextLength < this.contextPos) this.contextPos = k.contextLength;
    if (costS > 0 && this.killedLeftS <= 0) this.reloadLeftS = Math.max(this.reloadLeftS, costS);
    this.knobs = { ...k };
    return true;
  }

  /** The user sends the next request (it arrived at `nextArrivalS`, maybe while the engine was busy). */
  private newRequest(): ActiveRequest {
    const r = this.nextRequest();
    const w = this.opts.scenario.workload;
    const kind = w.requests.find((x) => x.kind === r.kind) ?? w.requests[0];
    if (r.newSession) { this.sessionTokens = w.systemPromptTokens; this.contextPos = 0; }
    const out = kind.outputTokens;
    return {
      ...r, arrivalS: this.nextArrivalS, placed: false, prefillLeft: 0, outLeft: r.outputTokens, localTokens: 0, qualityTokens: 0,
      target: { firstTokenS: kind.firstTokenS ?? (r.kind === 'document' ? 5 : 1), readTokS: w.readTokS },
      expectedOutputTokens: 'median' in out ? out.median : (out.min + out.max) / 2,
      neededTokens: this.sessionTokens + r.promptTokens, fidelity: 1, quality: 1, delivered: 0,
      points: [this.nextArrivalS, 0], prefillDone: 0, prefillS: 0,
    };
  }

  private routeQuery(r: ActiveRequest, t: number): RouteQuery {
    return {
      kind: r.kind, private: r.private, promptTokens: r.promptTokens, historyTokens: this.sessionTokens,
      residentTokens: r.newSession ? 0 : Math.min(this.contextPos, this.sessionTokens),
      expectedOutputTokens: r.expectedOutputTokens, waitedS: t - r.arrivalS, cloudReachable: this.cloudReachable,
      engineWaitS: this.reloadLeftS + this.killedLeftS,
    };
  }

  /**
   * Starts a request on the device under knobs `k`: what its context keeps (the prompt first,
   * then the most recent history; room for a quarter-context answer), what must be prefilled
   * (the prompt and any kept history the KV cache does not hold: a new session, turns answered
   * by the cloud, a quant swap), and so its context fidelity.
   */
  private placeLocal(r: ActiveRequest, k: Knobs): void {
    const ctx = k.contextLength;
    const history = this.sessionTokens;
    const room = Math.max(1, ctx - Math.min(r.outputTokens, ctx / 4));
    const keptPrompt = Math.min(r.promptTokens, room);
    const keptHistory = Math.min(history, room - keptPrompt);
    // The KV cache holds a prefix of this conversation; a context shift keeps its recent part.
    const resident = r.newSession ? 0 : Math.min(this.contextPos, keptHistory);
    this.contextPos = resident;
    r.prefillLeft += keptPrompt + keptHistory - resident;
    r.fidelity = Math.min(r.fidelity, contextFidelity(keptPrompt + keptHistory, r.neededTokens));
    r.quality = Math.min(r.quality, quantQuality(k.quant, this.model.quant(k.quant).qualityCost));
    r.tier ??= k.tier;
    r.route = 'local';
    r.placed = true;
  }

  private deliver(r: ActiveRequest, t0: number, t1: number, n: number): void {
    const p = r.points;
    if (p[p.length - 2] < t0 - 1e-9) p.push(t0, r.delivered);
    r.firstTokenS ??= t0 + (t1 - t0) * Math.min(1, 1 / Math.max(n, 1e-9)) - r.arrivalS;
    r.delivered += n;
    p.push(t1, r.delivered);
  }

  private finish(r: ActiveRequest, route: AnswerOutcome['route'], complete: boolean, horizonS = Infinity): number | undefined {
    const answered = route === 'local' || route === 'cloud';
    const q = answered ? answerQoe(r.arrivalS, r.outputTokens, r.points, complete, r.target, horizonS) : { qoe: 0 };
    const fidelity = route === 'cloud' ? 1 : r.fidelity;
    const quality = route === 'cloud' ? Math.min(r.quality, this.opts.scenario.cloud.quality) : r.quality;
    this.outcomes.push({
      index: r.index, kind: r.kind, private: r.private, route, ...(r.tier !== undefined ? { tier: r.tier } : {}),
      arrivalS: r.arrivalS, ...(r.firstTokenS !== undefined ? { firstTokenS: r.firstTokenS } : {}), complete,
      outputTokens: r.outputTokens, qoe: q.qoe, quality, fidelity, value: q.qoe * quality * fidelity,
    });
    return q.readEndS;
  }

  /** An answer delivered in full at `t`: scored, added to the conversation; the user reads it, thinks, asks again. */
  private complete(r: ActiveRequest, route: 'local' | 'cloud', t: number, st: TickStats): void {
    const readEndS = this.finish(r, route, true) ?? t;
    this.lastNeedTokens = r.neededTokens;
    this.sessionTokens += r.promptTokens + r.outputTokens;
    // The next request comes a think time after the user has READ this answer (a faster stream
    // does not make them ask sooner), except inside a burst, which follows the delivery itself.
    this.nextArrivalS = (r.burstNext ? t : Math.max(t, readEndS)) + r.thinkAfterS;
    this.req = undefined;
    st.requestsDone++;
  }

  /**
   * The run ends at `horizonS`: the request in flight (or one that arrived and was never
   * started) is scored for what its user had by then (qoe.ts: a cut answer earns only what was
   * read before the horizon). Idempotent.
   */
  closeRun(horizonS: number): void {
    if (this.closed) return;
    this.closed = true;
    let r = this.req;
    if (!r && this.nextArrivalS < horizonS - 1e-9 && !this.dead) r = this.newRequest();
    if (!r) return;
    const started = r.delivered > 0;
    this.finish(r, started ? (r.route === 'cloud' ? 'cloud' : 'local') : 'unanswered', false, horizonS);
    this.req = undefined;
  }

  /**
   * The controller's gateway: routes each request when it is sent (undefined: all local).
   * `warmKv`: between requests it prefills the cloud's turns of the conversation into the local
   * KV cache (as `serve` does), so losing the cloud does not cost a whole history's prefill.
   */
  setRouter(router: Router | undefined, warmKv = false): void { this.router = router; this.warmKv = warmKv; }

  advance(dtS: number, knobs: Knobs): TickStats {
    const st: TickStats = {
      dtS, localTokens: 0, qualityTokens: 0, cloudTokens: 0, decodeS: 0, belowFloorS: 0, pausedS: 0,
      energyJ: 0, oom: false, knobChanged: false, lostTokens: 0, lostQualityTokens: 0, requestsDone: 0, deferredS: 0,
    };
    if (this.dead) { this.integrate(dtS, { loaded: false, busy: 0, threadShare: 0, bandwidthGBs: 0, radio: 0 }, st, true); this.tS += dtS; return st; }
    // Like the llama.cpp engine (docs/inference.md `apply`), knob changes wait for a safe point —
    // the end of the answer in flight — so no reply is half one configuration and half another.
    // A pause is an engine command and acts at once; offload routes each request when it starts.
    // Exception: under memory pressure (MemAvailable below where PSI starts — Android's
    // onTrimMemory(RUNNING_LOW) moment) a change that SHRINKS the model's memory is applied at once
    // (the answer's rest is re-prefilled): waiting for the end of the answer would let the
    // low-memory killer act first. Without pressure a shrink is just a knob change and waits for the
    // safe point like any other (docs/inference.md `apply`); re-prefilling a 5k-token document in
    // flight for a thermal step was a cost no real engine pays.
    const shrinks = this.knobs !== undefined && this.memAvailMb() < this.device.memory.pressureBelowMb &&
      footprintMb(this.model, knobs) < footprintMb(this.model, this.knobs) - 1;
    // A request not yet started on the device (deferred, or streaming from the cloud) does not
    // hold the engine: knobs apply as at any safe point.
    const engineFree = !this.req || !(this.req.placed && this.req.route === 'local');
    if (engineFree || !this.knobs || shrinks) st.knobChanged = this.applyKnobs(knobs);
    let k = this.knobs!;
    const clock = this.clock;
    let share = threadShare(this.device, k);
    let qWeight = quantQuality(k.quant, this.model.quant(k.quant).qualityCost);
    const cloud = this.opts.scenario.cloud;
    let busyS = 0, bwGBsS = 0, radioS = 0, decodeTokS = 0;
    let t = this.tS;
    const end = this.tS + dtS;
    let guard = 0;
    // A deferred request asks the gateway again once a period.
    if (this.req && this.req.route === 'defer') this.req.route = undefined;
    while (end - t > 1e-9 && guard++ < 64) {
      const rem = end - t;
      let r = this.req;
      // The cloud streams whatever the device is doing; it dropping mid-answer sends the rest to the device.
      if (r?.route === 'cloud') {
        if (!this.cloudReachable) { r.cloudWaitS = undefined; r.placed = false; r.route = undefined; }
        else {
          r.placed = true;
          if (r.cloudWaitS === undefined) r.cloudWaitS = cloud.ttftS;
          if (r.cloudWaitS > 0) { const w = Math.min(rem, r.cloudWaitS); r.cloudWaitS -= w; t += w; radioS += w; continue; }
          const w = Math.min(rem, r.outLeft / cloud.tokS);
          const n = w * cloud.tokS;
          this.deliver(r, t, t + w, n);
          r.outLeft -= n; st.cloudTokens += n; t += w; radioS += w;
          if (r.outLeft <= 1e-6) this.complete(r, 'cloud', t, st);
          continue;
        }
      }
      if (this.killedLeftS > 0) {
        const w = Math.min(rem, this.killedLeftS);
        this.killedLeftS -= w; t += w;
        if (this.killedLeftS <= 1e-9) {
          // The app restarts and loads the model under the knobs the governor wants now.
          this.killedLeftS = 0;
          if (this.applyKnobs(knobs)) { st.knobChanged = true; k = this.knobs!; share = threadShare(this.device, k); qWeight = quantQuality(k.quant, this.model.quant(k.quant).qualityCost); }
          this.reloadLeftS = footprintMb(this.model, k) / this.device.memory.storageReadMBs;
        }
        continue;
      }
      if (this.reloadLeftS > 0) {
        const w = Math.min(rem, this.reloadLeftS);
        this.reloadLeftS -= w; t += w; busyS += 0.3 * w;
        if (this.reloadLeftS < 1e-9) this.reloadLeftS = 0;
        continue;
      }
      if (!r || !r.placed) {
        if (this.applyKnobs(knobs)) {
          st.knobChanged = true;
          k = this.knobs!;
          share = threadShare(this.device, k);
          qWeight = quantQuality(k.quant, this.model.quant(k.quant).qualityCost);
          if (this.reloadLeftS > 0) continue;
        }
        if (!r) {
          if (this.nextArrivalS > t + 1e-9) {
            // While the user reads and thinks, a gateway that warms the cache prefills the turns
            // the cloud answered into the local KV, so the conversation can go on locally.
            const gap = this.warmKv && knobs.offload !== 'pause' ? Math.min(this.sessionTokens, k.contextLength * 0.75) - this.contextPos : 0;
            if (gap > 1) {
              const rate = prefillRate(this.device, this.model, k, clock);
              const w = Math.min(rem, this.nextArrivalS - t, gap / rate);
              this.contextPos += w * rate; t += w; busyS += w;
              bwGBsS += w * (this.model.quant(k.quant).weightsBytes / 1e9) * rate / Math.max(1, k.batchSize);
              continue;
            }
            t += Math.min(rem, this.nextArrivalS - t);
            continue;
          }
          r = this.req = this.newRequest();
        }
        if (r.route === undefined) {
          // Without a gateway of its own (a bare device, the baselines) a request goes where the
          // knobs say: the cloud when the decision offloads, else the device.
          let route: Route = this.router ? this.router(this.routeQuery(r, t)) : k.offload === 'cloud' ? 'cloud' : 'local';
          // The cloud is for what may leave the device, and only while it answers.
          if (route === 'cloud' && (r.private || !this.cloudReachable)) route = 'local';
          r.route = route;
          if (route === 'cloud') continue;
        }
        if (r.route === 'defer') { st.deferredS += rem; t = end; break; }
        this.placeLocal(r, k);
      }
      if (knobs.offload === 'pause') { st.pausedS += rem; t = end; break; }
      if (r.prefillLeft > 0) {
        const rate = prefillRate(this.device, this.model, k, clock);
        const w = Math.min(rem, r.prefillLeft / rate);
        r.prefillLeft -= w * rate; this.contextPos += w * rate; t += w; busyS += w;
        r.prefillDone += w * rate; r.prefillS += w;
        // Prefill streams the weights once per micro-batch: little DRAM traffic.
        bwGBsS += w * (this.model.quant(k.quant).weightsBytes / 1e9) * rate / Math.max(1, k.batchSize);
        if (r.prefillLeft < 1e-6) {
          r.prefillLeft = 0;
          // The engine reports the prompt's speed once it is processed (short prompts say little).
          if (r.prefillDone >= 16 && r.prefillS > 0) this.lastPrefillTokS = r.prefillDone / r.prefillS;
        }
        continue;
      }
      const d = decodeRate(this.device, this.model, k, this.contextPos, clock);
      const w = Math.min(rem, r.outLeft / d.tokS);
      const n = w * d.tokS;
      this.deliver(r, t, t + w, n);
      r.outLeft -= n; r.localTokens += n; r.qualityTokens += n * qWeight;
      st.localTokens += n; st.qualityTokens += n * qWeight;
      this.contextPos += n;
      if (this.contextPos >= k.contextLength) {
        // llama.cpp context shift: half the context is dropped, and with it history this answer had.
        this.contextPos = k.contextLength / 2;
        r.fidelity = Math.min(r.fidelity, contextFidelity(this.contextPos - (r.outputTokens - r.outLeft), r.neededTokens));
      }
      st.decodeS += w; decodeTokS += n;
      if (d.tokS < this.opts.floorTokS) st.belowFloorS += w;
      busyS += w * d.busy; bwGBsS += w * d.bandwidthGBs; t += w;
      if (r.outLeft <= 1e-6) this.complete(r, 'local', t, st);
    }
    // The engine's last report stands until it generates again (a real engine reports per answer).
    if (st.decodeS > 0) this.lastTokS = decodeTokS / st.decodeS;
    this.integrate(dtS, {
      loaded: this.killedLeftS <= 0,
      busy: busyS / dtS,
      threadShare: share,
      bandwidthGBs: bwGBsS / dtS,
      radio: radioS / dtS,
    }, st, false);
    this.tS = end;
    this.applyRamps(dtS);
    this.osGovernor();
    // The low-memory killer takes the inference process when MemAvailable would fall below its floor.
    if (this.footprintMb() > 0 && this.memAvailMb() < this.device.memory.lmkMinFreeMb) {
      st.oom = true;
      const r = this.req;
      if (r?.placed && r.route === 'local') {
        st.lostTokens += r.localTokens; st.lostQualityTokens += r.qualityTokens;
        this.finish(r, 'lost', false);
        this.nextArrivalS = this.tS + r.thinkAfterS;
        this.req = undefined;
      } else if (r && r.route !== 'cloud') r.placed = false; // not started yet: it waits for the restart
      this.killedLeftS = this.device.memory.restartS;
      this.reloadLeftS = 0;
      this.contextPos = 0;
    }
    this.updatePsi(dtS);
    return st;
  }

  private integrate(dtS: number, a: Parameters<typeof powerOf>[1], st: TickStats, off: boolean): void {
    const socC = this.thermal.temps[this.thermal.index(this.device.thermal.signals.soc.node)];
    const p = off ? { socW: 0, boardW: 0, skinW: 0 } : powerOf(this.device, a, this.clock, socC);
    const loadW = p.socW + p.boardW + p.skinW;
    let extraSkinW = 0;
    let inputW = loadW;
    if (this.battery) {
      const b = this.battery.step(dtS, loadW, this.truthC().battery ?? this.ambientC);
      extraSkinW = b.heatW;
      inputW = b.inputW;
      this.lastBatteryW = b.batteryW;
    }
    this.heat.fill(0);
    this.heat[this.nodeIdx.soc] += p.socW;
    this.heat[this.nodeIdx.board] += p.boardW;
    this.heat[this.nodeIdx.skin] += p.skinW + extraSkinW;
    this.thermal.step(dtS, this.heat, this.ambientC);
    st.energyJ += inputW * dtS;
  }

  /** The OS's own thermal governor (kernel step_wise-like, research/01 §1): clock caps above trips. */
  private osGovernor(): void {
    const g = this.device.osGovernor;
    const nowMs = this.tS * 1000;
    if (nowMs - this.lastPollMs < g.pollMs - 1e-6) return;
    this.lastPollMs = nowMs;
    const temps = this.thermal.temps;
    let above = false, rising = false, allClear = true;
    for (const trip of g.trips) {
      const i = this.thermal.index(trip.node);
      if (temps[i] >= trip.atC) { above = true; if (temps[i] > this.lastPollTemps[i]) rising = true; }
      if (temps[i] > trip.atC - trip.hystC) allClear = false;
    }
    let s = this.clock.core;
    if (above && rising) s -= g.stepDown;
    else if (allClear) s += g.stepUp;
    if (g.hardFloor && temps[this.thermal.index(g.hardFloor.node)] >= g.hardFloor.atC) s = g.minScale;
    s = Math.min(1, Math.max(g.minScale, s));
    this.clock = { core: s, mem: 1 - g.memCoupling * (1 - s) };
    this.lastPollTemps.set(temps);
  }

  /** Memory PSI `some`/`full` avg10: grows as MemAvailable falls under the pressure line. */
  private updatePsi(dtS: number): void {
    const m = this.device.memory;
    const avail = this.memAvailMb();
    const depth = Math.min(1, Math.max(0, (m.pressureBelowMb - avail) / (m.pressureBelowMb - m.lmkMinFreeMb || 1)));
    const some = 80 * depth * depth;
    const a = 1 - Math.exp(-dtS / 10);
    this.psiSome += (some - this.psiSome) * a;
    this.psiFull += (some * 0.4 - this.psiFull) * a;
  }

  /**
   * Advances the device under a load measured outside the simulator — the real inference
   * engine of `edgegov demo`, as it reports its work to the daemon — instead of the scenario's
   * simulated user. `busy` is the fraction of the interval the engine computed (pacing sleeps
   * excluded) and `radio` the fraction it streamed from the cloud; `knobs` are the knobs it
   * reports applied (undefined: no model loaded yet). The same work takes longer on a clock the
   * OS's governor has cut, so busy time stretches by 1/clock (capped at the whole interval).
   */
  advanceUnderLoad(dtS: number, load: { knobs?: Knobs; busy: number; radio: number }): void {
    if (load.knobs) this.knobs = { ...load.knobs };
    const k = this.knobs;
    const st: TickStats = {
      dtS, localTokens: 0, qualityTokens: 0, cloudTokens: 0, decodeS: 0, belowFloorS: 0, pausedS: 0,
      energyJ: 0, oom: false, knobChanged: false, lostTokens: 0, lostQualityTokens: 0, requestsDone: 0, deferredS: 0,
    };
    const busy = k ? Math.min(1, Math.max(0, load.busy) / Math.max(0.05, this.clock.core)) : 0;
    let bandwidthGBs = 0;
    if (k && busy > 0) {
      const d = decodeRate(this.device, this.model, k, 0, this.clock);
      bandwidthGBs = d.busy > 0 ? (d.bandwidthGBs / d.busy) * busy : 0;
    }
    this.integrate(dtS, {
      loaded: k !== undefined, busy, threadShare: k ? threadShare(this.device, k) : 0, bandwidthGBs,
      radio: Math.min(1, Math.max(0, load.radio)),
    }, st, this.dead);
    this.tS += dtS;
    this.applyRamps(dtS);
    this.osGovernor();
    this.updatePsi(dtS);
  }

  // ---- sensors -----------------------------------------------------------------------------
  private truthOf(signal: string): number | undefined {
    switch (signal) {
      case 'soc_c': return this.signalC('soc');
      case 'skin_c': return this.signalC('skin');
      case 'battery_c': return this.battery ? this.signalC('battery') : undefined;
      case 'battery_w': return this.battery ? this.lastBatteryW : undefined;
      case 'battery_pct': return this.battery?.pct;
      case 'charging': return this.battery ? (this.battery.charging ? 1 : 0) : undefined;
      case 'mem_avail_mb': return Math.max(0, this.memAvailMb());
      case 'mem_total_mb': return this.device.memory.totalMb;
      case 'psi_mem_some_avg10': return this.psiSome;
      case 'psi_mem_full_avg10': return this.psiFull;
      case 'tok_s': return this.lastTokS;
      case 'prefill_tok_s': return this.lastPrefillTokS;
      case 'req_ctx_tokens': return this.req?.neededTokens ?? this.lastNeedTokens;
      case 'ambient_c': return this.ambientC;
    }
    return undefined;
  }

  private resolveReadSlots(): ReadSlot[] {
    // A signal without a sensor regime still gets its slot: it reads as absent (undefined).
    const slot = (key: string, regimeKey: string, zone: ReadSlot['zone']): ReadSlot => ({
      key, r: this.device.sensors[regimeKey] ?? (ENGINE_REPORTED.has(regimeKey) ? this.device.sensors.tok_s : undefined),
      flat: this.holdFlat[key], zone, value: 0, nextMs: -Infinity, held: false,
    });
    const out: ReadSlot[] = [];
    for (const name of this.signals) if (!name.startsWith('zone.')) out.push(slot(name, name, undefined));
    for (const z of this.zoneReads) out.push(slot(z.key, z.regime, z));
    return out;
  }

  private reading(sl: ReadSlot, truth: number | undefined, tMs: number): number | undefined {
    const r = sl.r;
    if (!r) return undefined;
    if (sl.held && tMs < sl.nextMs && truth !== undefined) return sl.value;
    if (truth === undefined || this.dead) { sl.held = false; return undefined; }
    let v = truth + (r.noiseSigma > 0 ? r.noiseSigma * this.noise.normal() : 0);
    if (r.quantum !== undefined) v = Math.round(v / r.quantum) * r.quantum;
    // A healthy sensor held flat by the scenario reports its constant whenever it reports at all.
    if (sl.flat !== undefined) v = sl.flat;
    // Round away binary noise so the trace prints the same short number the sensor would
    // (the nearest double to a whole number of millionths, as Number(v.toFixed(6)) gives, without
    // a string per reading: that was a third of `compare`'s time).
    v = Math.round(v * 1e6) / 1e6;
    const hot = r.hotCadenceMs !== undefined && r.hotAboveC !== undefined && truth > r.hotAboveC;
    sl.value = v; sl.held = true;
    sl.nextMs = tMs + (hot ? r.hotCadenceMs! : r.cadenceMs);
    return v;
  }

  /** What the device's sensors report at `tMs` (noise, quantisation, cadence, scenario holds). */
  read(tMs: number): Sample {
    const s: Record<string, number | undefined> = { t_ms: tMs };
    for (const sl of this.readSlots) {
      const z = sl.zone;
      s[sl.key] = this.reading(sl, z ? this.thermal.temps[z.node] + z.offsetC : this.truthOf(sl.key), tMs);
    }
    return s as Sample;
  }
}

/** A reported signal's sensor: its regime (noise, quantum, cadence), the scenario's flat hold, its held reading. */
interface ReadSlot {
  readonly key: string;
  readonly r: DeviceModel['sensors'][string] | undefined;
  readonly flat: number | undefined;
  /** The zone it reads (its node and offset), or undefined for a named signal. */
  readonly zone: { readonly node: number; readonly offsetC: number } | undefined;
  value: number;
  nextMs: number;
  held: boolean;
}
