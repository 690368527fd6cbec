/**
 * The words of a decision (SPEC §5 `reasons`): which signals and rules bound the choice, with
 * values, thresholds and forecasts, so that "why did it do that?" always has an answer. Built
 * from the stages' per-step results on the state, only when the knobs or the binding
 * constraints change (governor.ts `stageDecision`).
 */
import type { Reason } from './decision.js';
import { VALUE_TIE } from './value.js';
import { SEVERITIES, type Severity } from './severity.js';
import { FK_CAP, FK_IGNORE, FK_SAFE, faultConsequenceName } from './compile.js';
import { healthName, H_OK } from '../estimator/health.js';
import { MiB, needBytes } from './memory.js';
import { unitOfSignal } from './signals.js';
import {
  F_FORECAST, F_SUBSTITUTE, F_UNUSABLE, MEM_CONTEXT, MEM_INFEASIBLE, MEM_TIER, MEM_UNKNOWN,
  OFF_CLOUD_SLOW, OFF_HELD, OFF_MEMORY, OFF_NONE, OFF_PAUSE_SEV, RELAX_AMORTISE, type CoreState,
} from './state.js';

const round2 = (x: number): number => Math.round(x * 100) / 100;
const fmt = (x: number): string => String(round2(x));

export function buildReasons(s: CoreState, t: number): Reason[] {
  const sev = s.stepSev, capIdx = s.stepCapIdx, battIdx = s.stepBattIdx, mem = s.stepMem, budget = s.stepBudget;
  const dwellHeld = s.stepDwellHeld, offloadCause = s.stepOffloadCause, safe = s.stepSafe, tierI = s.stepTierI;
  const cand = s.stepCand, ctx = s.stepCtx, sevHeld = s.stepSevHeld, relaxTo = s.stepRelaxTo;
  const { cp, est } = s;
  const reasons: Reason[] = [];
  const tiers = cp.tiers;
  const unitLabel = (name: string): string => {
    const u = unitOfSignal(name) ?? (/_c$/.test(name) ? 'C' : /_w$/.test(name) ? 'W' : '');
    return u === 'C' ? '°C' : u;
  };
  const faultText = (i: number): string => {
    const h = healthName(est.health[i]);
    const since = est.faultSinceT[i];
    const cause = healthName(est.faultCause[i]);
    if (h === 'failed') return `failed (${cause} for ${fmt((t - since) / 1000)} s, longer than the ${est.signals[i].holdMs} ms hold)`;
    if (h === 'stuck') return est.watch.describe(i, unitLabel);
    if (h === 'missing' && est.lastGoodT[i] !== est.lastGoodT[i]) return 'missing (never reported)';
    return h;
  };
  const onFault = (i: number): string => `onFault: ${faultConsequenceName(cp, i)}`;
  const fallbackOf = (i: number): number => {
    const fb = cp.fallbackIdx[i];
    return fb >= 0 && est.usable[fb] ? fb : -1;
  };

  // Sensors whose fault forces the safe tier first (critical ones by default).
  if (safe) {
    for (const i of cp.faultWatchIdx) {
      if (est.usable[i] || cp.faultKind[i] !== FK_SAFE || fallbackOf(i) >= 0) continue;
      const spec = est.signals[i];
      reasons.push({
        rule: 'sensor-fault', signal: spec.name,
        message: `${spec.critical ? 'critical sensor ' : ''}${spec.name} ${faultText(i)}: safe tier ${tiers[cp.safeIdx].name} (${onFault(i)})`,
      });
    }
  }

  // Limits with a severity, worst first (stable by policy order).
  const order: number[] = [];
  cp.limits.forEach((_, li) => { if (s.levels[li] >= 0) order.push(li); });
  order.sort((a, b) => cp.limits[b].severity[s.levels[b]] - cp.limits[a].severity[s.levels[a]] || a - b);
  for (const li of order) {
    const L = cp.limits[li];
    const lvl = s.levels[li];
    const severity: Severity = SEVERITIES[L.severity[lvl]];
    const flags = s.limitFlags[li];
    if (flags & F_UNUSABLE) {
      const i = L.signalIdx;
      const kind = cp.faultKind[i];
      const cap = kind === FK_CAP ? `, at most tier ${tiers[cp.faultCapIdx[i]].name}` : kind === FK_SAFE ? `, safe tier ${tiers[cp.safeIdx].name}` : '';
      reasons.push({ rule: 'sensor-fault', signal: L.signal, severity,
        message: `${L.signal} ${faultText(i)}: holding ${severity}${cap} (${onFault(i)})` });
      continue;
    }
    const i = flags & F_SUBSTITUTE ? cp.fallbackIdx[L.signalIdx] : L.signalIdx;
    const via = flags & F_SUBSTITUTE ? ` (from its fallback ${est.signals[i].name})` : '';
    const value = round2(est.value[i]);
    const cmp = L.rising ? '≥' : '≤';
    if (flags & F_FORECAST) {
      const forecast = round2(est.forecast[i]);
      const tt = est.timeToLimitS(i, L.setAt[lvl]);
      const r: Reason = { rule: 'forecast', signal: L.signal, value, threshold: L.setAt[lvl], forecast, severity,
        message: `${L.signal}${via} ${fmt(value)} forecast ${fmt(forecast)} in ${fmt(cp.horizonS)} s ${cmp} ${L.setAt[lvl]}${tt === undefined ? '' : ` (in ${fmt(tt)} s)`}: ${severity}` };
      if (tt !== undefined) r.timeToLimitS = round2(tt);
      reasons.push(r);
    } else if (L.rising ? est.value[i] >= L.setAt[lvl] : est.value[i] <= L.setAt[lvl]) {
      reasons.push({ rule: 'limit', signal: L.signal, value, threshold: L.setAt[lvl], severity,
        message: `${L.signal}${via} ${fmt(value)} ${cmp} ${L.setAt[lvl]}: ${severity}` });
    } else {
      reasons.push({ rule: 'limit', signal: L.signal, value, threshold: L.clearAt[lvl], severity,
        message: `${L.signal}${via} ${fmt(value)} holds ${severity} until it passes ${L.clearAt[lvl]} (hysteresis)` });
    }
  }

  // Other faults of declared sensors — held readings, substitutes, dropped limits — say what they do.
  est.signals.forEach((spec, i) => {
    const h = est.health[i];
    if (h === H_OK || !spec.declared) return;
    const usable = est.usable[i] === 1;
    const kind = cp.faultKind[i];
    if (!usable && kind === FK_SAFE && fallbackOf(i) < 0) return; // named above
    if (cp.limits.some((l, li) => l.signalIdx === i && (s.limitFlags[li] & F_UNUSABLE) && s.levels[li] >= 0)) return;
    const limited = cp.limits.some((l) => l.signalIdx === i);
    // A declared sensor that nothing reads and that never reported is just absent here.
    if (!limited && kind === FK_IGNORE && est.lastGoodT[i] !== est.lastGoodT[i]) return;
    if (usable) {
      reasons.push({ rule: 'sensor-fault', signal: spec.name, value: round2(est.current[i]),
        message: `${spec.name} ${healthName(h)}: holding last good value ${fmt(est.current[i])}` });
      return;
    }
    const fb = fallbackOf(i);
    let what: string;
    if (fb >= 0) what = `its fallback ${est.signals[fb].name} (${fmt(est.current[fb])}) stands in`;
    else if (kind === FK_IGNORE) what = limited ? `its limits are not applied (${onFault(i)})` : `not used (${onFault(i)})`;
    else if (kind === FK_CAP) what = `at most tier ${tiers[cp.faultCapIdx[i]].name} (${onFault(i)})`;
    else what = `its limits keep their latched severity (${onFault(i)})`;
    reasons.push({ rule: 'sensor-fault', signal: spec.name, message: `${spec.name} ${faultText(i)}: ${what}` });
  });

  // Raw zones judged stuck: their virtual sensor reads its other zones (the substitute).
  const watch = est.watch;
  for (let ch = est.signals.length; ch < watch.n; ch++) {
    if (watch.stuck[ch] !== 1) continue;
    const name = watch.names[ch];
    reasons.push({ rule: 'sensor-fault', signal: name,
      message: `${name} ${watch.describe(ch, unitLabel)}: left out, its virtual sensor reads its other zones` });
  }

  if (mem & MEM_UNKNOWN) {
    reasons.push({ rule: 'memory', signal: 'mem_avail_mb',
      message: `mem_avail_mb unknown: memory feasibility cannot be checked, at most tier ${tiers[cp.safeIdx].name}` });
  } else if (mem !== 0) {
    const avail = est.current[cp.memIdx];
    const budgetMb = round2(budget / MiB);
    const T = tiers[tierI];
    const needMb = round2(needBytes(cp.policy.model, cp.tierWeightsBytes[tierI], ctx, T.batchSize) / MiB);
    const what = mem & MEM_INFEASIBLE
      ? `even ${T.name} at context ${ctx} needs ${needMb} MiB: pause`
      : [mem & MEM_TIER ? `stepped down from ${tiers[cand].name} to ${T.name}` : '',
        mem & MEM_CONTEXT ? `context ${ctx} (of ${T.contextLength})` : ''].filter(Boolean).join(', ') + ` needs ${needMb} MiB`;
    reasons.push({ rule: 'memory', signal: 'mem_avail_mb', value: round2(avail), threshold: budgetMb,
      message: `budget ${budgetMb} MiB (mem_avail ${fmt(avail)} + our own ${fmt(s.engineGoneSinceT === s.engineGoneSinceT ? 0 : s.heldNowBytes / MiB)}${s.heldFromEngine && s.engineGoneSinceT !== s.engineGoneSinceT ? ' still applied, engine_mb' : ''}, least over ${cp.memTrustMs / 1000} s, − reserve ${cp.policy.rules.memory.reserveMb}${s.engineGoneSinceT === s.engineGoneSinceT ? '; engine believed killed' : ''}): ${what}` });
  }

  if (battIdx >= 0 && battIdx >= capIdx && battIdx > 0) {
    const pct = est.current[cp.pctIdx];
    reasons.push({ rule: 'battery', signal: 'battery_pct', ...(pct === pct ? { value: round2(pct) } : {}),
      message: `on battery${pct === pct ? ` at ${fmt(pct)} %` : ''}: at most tier ${tiers[battIdx].name}` });
  }

  if (sevHeld) {
    let now = 0;
    cp.limits.forEach((L, li) => { if (s.levels[li] >= 0 && L.severity[s.levels[li]] > now) now = L.severity[s.levels[li]]; });
    reasons.push({ rule: 'dwell', severity: SEVERITIES[sev],
      message: `severity ${SEVERITIES[sev]} held for ${cp.dwellMs} ms after it was entered ${fmt((t - s.sevSinceT) / 1000)} s ago (the limits now ask for ${SEVERITIES[now]})` });
  }

  if (dwellHeld) {
    const dwellMs = cp.dwellMs * s.dwellScale;
    const costMs = relaxTo >= 0 ? cp.switchMs[tierI * tiers.length + relaxTo] : 0;
    if (RELAX_AMORTISE * costMs > dwellMs) {
      reasons.push({ rule: 'dwell', message: `relaxing waits for ${RELAX_AMORTISE * costMs} ms at the current knobs: the switch to ${tiers[relaxTo].name} costs ${fmt(costMs / 1000)} s, and a relax waits ≥ ${RELAX_AMORTISE}× its switch cost` });
    } else {
      reasons.push({ rule: 'dwell', message: s.dwellScale > 1
        ? `relaxing waits for ${dwellMs} ms at the current knobs (dwell ×${s.dwellScale}: the last relax was followed by an escalation)`
        : `relaxing waits for ${dwellMs} ms at the current knobs` });
    }
  }

  if (offloadCause !== OFF_NONE && offloadCause !== OFF_MEMORY) {
    const severity = SEVERITIES[sev];
    if (offloadCause === OFF_HELD) {
      const off = s.offloadLvl === 2 ? 'pause' : 'cloud';
      reasons.push({ rule: 'offload', severity,
        message: `${off} held: returning toward local waits for ${cp.dwellMs * s.dwellScale} ms at ${off} (since ${fmt((t - s.offloadSinceT) / 1000)} s)` });
    } else if (offloadCause === OFF_CLOUD_SLOW) {
      reasons.push({ rule: 'offload', signal: 'tok_s', value: round2(est.value[cp.tokIdx]), threshold: cp.minLocalTokS,
        message: `local decode ${fmt(est.value[cp.tokIdx])} tok/s below ${cp.minLocalTokS} tok/s: cloud` });
    } else {
      reasons.push({ rule: 'offload', severity,
        message: `severity ${severity}: ${offloadCause === OFF_PAUSE_SEV ? 'pause' : 'cloud'}` });
    }
  }

  // The value choice, when it is what set the tier: the trade-off in words.
  const valueReason = s.stepValueIdx === tierI && !safe && mem === 0 ? valueWords(s) : undefined;
  if (valueReason) reasons.push(valueReason);

  if (reasons.length === 0) {
    reasons.push({ rule: 'nominal', severity: SEVERITIES[sev],
      message: tierI === 0 ? 'all limits clear: richest tier'
        : tierI > Math.max(capIdx, battIdx, 0)
          ? `relaxing ${cp.relaxStep} tier per dwell toward ${tiers[Math.max(capIdx, battIdx, 0)].name}`
          : `tier ${tiers[tierI].name} (${SEVERITIES[sev]})` });
  }
  return reasons;
}

const pct = (x: number): string => `${(Math.round(x * 10000) / 100).toString()} %`;
const tokS = (x: number): string => `${x < 10 ? x.toFixed(1) : Math.round(x)} tok/s`;
const sec = (x: number): string => `${x < 10 ? x.toFixed(1) : Math.round(x)} s`;

/**
 * Why the value model runs this tier, against the richest one the caps allow (value.ts): its
 * context against the work's need, its speed where the user notices it, its quality.
 */
function valueWords(s: CoreState): Reason | undefined {
  const { cp } = s;
  const pick = s.stepValueIdx;
  const from = s.stepAllowed;
  const v = s.value.valueOf(pick);
  const name = cp.tiers[pick].name;
  const need = s.speed.needTokens;
  const fits = need === need
    ? (v.fidelity >= 1 ? `fits the ${Math.round(need).toLocaleString('en-US')}-token need` : `keeps ${pct(v.fidelity)} of the ${Math.round(need).toLocaleString('en-US')}-token need`)
    : '';
  const own = [fits, `first token ~${sec(v.firstTokenS)}`, tokS(v.decodeTokS), `quality ${pct(v.quality)}`].filter(Boolean).join(', ');
  if (pick === from) {
    if (pick === 0 && from === 0 && cp.tiers.length === 1) return undefined;
    return { rule: 'value', value: Math.round(v.value * 1000) / 1000, message: `${name}: the best expected value for the work (${own})` };
  }
  const r = s.value.valueOf(from);
  const rich = cp.tiers[from].name;
  const vs: string[] = [];
  if (r.fidelity < v.fidelity) vs.push(`${rich} keeps ${pct(r.fidelity)}`);
  if (Math.abs(r.decodeTokS - v.decodeTokS) >= 0.5) vs.push(`${tokS(v.decodeTokS)} vs ${rich}'s ${tokS(r.decodeTokS)}`);
  if (Math.abs(r.firstTokenS - v.firstTokenS) >= 0.1) vs.push(`first token ${sec(v.firstTokenS)} vs ${sec(r.firstTokenS)}`);
  const dq = r.quality - v.quality;
  vs.push(dq > 0 ? `for ${pct(dq)} quality` : 'at no cost in quality');
  return {
    rule: 'value', value: Math.round(v.value * 1000) / 1000, threshold: Math.round(r.value * 1000) / 1000,
    message: `${name}: ${[fits, ...vs].filter(Boolean).join(', ')}; expected value ${(Math.round(v.value * 1000) / 1000)} vs ${rich}'s ${(Math.round(r.value * 1000) / 1000)}` +
      (v.value < r.value ? ` (within ${pct(VALUE_TIE)}: the leaner tier, for less energy and more headroom)` : ''),
  };
}
