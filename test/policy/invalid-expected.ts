/** Exact problems each invalid fixture must produce: `line:col: path: message` (the test adds the file prefix). */
export const EXPECTED: Record<string, string[]> = {
  'alias-bomb': [
    "4:8: aliases expand to too many nodes (limit 100); this looks like an alias bomb",
  ],
  'binary-garbage': [
    "1:1: not a text file (control byte 0x7f); a policy is UTF-8 YAML",
  ],
  'cloud-never-with-cloud-at': [
    "44:28: rules.offload.cloudAt: has no effect while cloud is \"never\"; set cloud: allowed or remove cloudAt",
  ],
  'comments-only': [
    "1:1: the policy is empty; expected a mapping with version, name, sensors, limits, model, tiers, rules and control",
  ],
  'dangling-battery-tier': [
    "48:29: rules.battery.lowCharge[0].tier: no tier named \"leen\"; did you mean \"lean\"? (tiers: full, lean, safe)",
  ],
  'dangling-limit-sensor': [
    "25:3: limits.batery_pct: no sensor or virtual sensor named \"batery_pct\"; did you mean \"battery_pct\"?; every limit needs a declared sensor",
  ],
  'dangling-quant': [
    "41:26: tiers[2].quant: no quant \"q4_km\" in model.quants; did you mean \"q4_k_m\"? (have: q8_0, q4_k_m)",
  ],
  'dangling-tier-reference': [
    "43:52: rules.severityCaps.severe: no tier named \"saef\"; did you mean \"safe\"? (tiers: full, lean, safe)",
  ],
  'duplicate-key': [
    "52:3: duplicate key \"dwell\"; each key may appear once in a mapping",
  ],
  'duplicate-tier-name': [
    "41:13: tiers[2].name: duplicate tier name \"lean\"",
    "43:52: rules.severityCaps.severe: no tier named \"safe\" (tiers: full, lean, lean)",
    "52:13: control.safeTier: no tier named \"safe\" (tiers: full, lean, lean)",
  ],
  'empty': [
    "1:1: the policy is empty; expected a mapping with version, name, sensors, limits, model, tiers, rules and control",
  ],
  'from-two-forms': [
    "7:11: sensors.soc_c.from: gives max and avg; give exactly one of max, min, avg or weighted",
  ],
  'hysteresis-never-clears-falling': [
    "29:37: limits.mem_avail_mb.moderate.clear: clear 700MiB never clears: on a falling limit it must be above set 800MiB",
  ],
  'hysteresis-never-clears': [
    "20:34: limits.soc_c.moderate.clear: clear 78C never clears: on a rising limit it must be below set 75C",
  ],
  'hysteresis-zero': [
    "18:17: limits.soc_c.hysteresis: must be greater than zero, got 0C",
  ],
  'invalid-utf8': [
    "3:10: not UTF-8 text; a policy is UTF-8 YAML",
  ],
  'kv-and-geometry': [
    "34:3: model.geometry: give kvBytesPerToken or geometry, not both",
  ],
  'min-context-above-tier': [
    "45:75: rules.memory.minContextLength: 2048 is above tier \"safe\"'s contextLength 1024; clamping must never grow a context",
  ],
  'low-charge-not-monotone': [
    "49:28: rules.battery.lowCharge[1].tier: below 5% allows \"full\", richer than \"lean\" below 15%; less charge must never allow a richer tier",
  ],
  'missing-required-model-name': [
    "31:1: model: missing required key \"name\"",
  ],
  'missing-required-safe-tier': [
    "49:1: control: missing required key \"safeTier\"",
  ],
  'missing-tiers-section': [
    "3:1: missing required key \"tiers\"",
    "38:1: tier: unknown key \"tier\"; did you mean \"tiers\"?",
  ],
  'negative-context-length': [
    "41:49: tiers[2].contextLength: must be greater than 0, got -1024",
  ],
  'non-mapping-root': [
    "2:1: the policy must be a mapping of sections (version, name, sensors, …), found a list",
  ],
  'pause-before-cloud': [
    "44:56: rules.offload.pauseAt: pause at light must be a worse severity than cloudAt severe, or the cloud is never used",
  ],
  'range-reversed': [
    "8:12: sensors.soc_c.range: low end 125C must be below high end -20C",
  ],
  'safe-tier-missing': [
    "52:13: control.safeTier: no tier named \"fallback\" (tiers: full, lean, safe)",
  ],
  'scalar-root': [
    "1:1: the policy must be a mapping of sections (version, name, sensors, …), found the string \"just some words\"",
  ],
  'severity-caps-not-monotone': [
    "43:52: rules.severityCaps.severe: severe allows \"lean\", richer than \"safe\" allowed at the milder light; a worse severity must never allow a richer tier",
  ],
  'slope-window-too-short': [
    "52:16: control.slopeWindow: slope window 600ms must span at least two sample periods (1s)",
  ],
  'syntax-tab-indent': [
    "51:1: YAML syntax: tabs are not allowed as indentation",
  ],
  'syntax-unclosed-flow': [
    "9:5: YAML syntax: flow sequence in block collection must be sufficiently indented and end with a ]",
    "10:15: YAML syntax: nested mappings are not allowed in compact mappings",
  ],
  'threshold-order-falling': [
    "27:15: limits.battery_pct.moderate: moderate at 30% must be below light at 20%: on a falling limit thresholds decrease with severity",
  ],
  'threshold-order-reversed': [
    "21:13: limits.soc_c.severe: severe at 70C must be above moderate at 75C: on a rising limit thresholds increase with severity",
  ],
  'threshold-outside-range': [
    "21:13: limits.soc_c.severe: 135C is outside soc_c's plausible range [-20C, 125C], so it could never trigger",
  ],
  'tier-quant-richer-below': [
    "41:26: tiers[2].quant: q8_0 (1.21GiB, quality cost 0.0004) is richer than q4_k_m (724.8MiB, quality cost 0.028): tiers run richest → leanest, so \"safe\" may not need more than \"lean\" above it",
  ],
  'tiers-identical': [
    "41:13: tiers[2].name: tier \"safe\" has the same knobs as \"lean\" above it; each tier must be leaner in at least one knob",
  ],
  'tiers-out-of-cost-order': [
    "41:49: tiers[2].contextLength: 8192 is more than 2048: tiers run richest → leanest, so \"safe\" may not need more than \"lean\" above it",
  ],
  'unit-ambiguous-kb': [
    "45:22: rules.memory.reserve: \"300KB\" has unknown unit \"KB\" (did you mean \"kB\" or \"KiB\"?); accepted units: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB (a bare number means MiB)",
  ],
  'unit-fahrenheit': [
    "19:12: limits.soc_c.light: \"149F\" has unknown unit \"F\" (temperatures are in °C; Fahrenheit and kelvin are not accepted); accepted units: C, °C (a bare number means °C)",
  ],
  'unit-rate-missing-per': [
    "9:14: sensors.soc_c.maxSlew: \"20C\" is not a temperature rate; write e.g. 45C/s, accepted units: C/s, °C/s, C/min, °C/min (a bare number means °C/s)",
  ],
  'unit-typo-duration': [
    "51:10: control.dwell: \"10sec\" has unknown unit \"sec\" (did you mean \"s\"?); accepted units: ms, s, min, h (a bare number means ms)",
  ],
  'unit-typo-temperature': [
    "19:12: limits.soc_c.light: \"65CC\" has unknown unit \"CC\" (did you mean \"C\"?); accepted units: C, °C (a bare number means °C)",
  ],
  'unit-wrong-kind': [
    "19:12: limits.soc_c.light: \"4.5W\" has unknown unit \"W\" (W measures power, not temperature); accepted units: C, °C (a bare number means °C)",
  ],
  'removed-stuck-samples': [
    "52:3: control.stuckSamples: stuckSamples is gone: use control.stuckAfter, a duration (e.g. stuckAfter: 120s); a sensor is now stuck only when it stays flat that long while a physically coupled signal moves (docs/policy.md)",
  ],
  'on-fault-invalid': [
    "11:27: sensors.battery_pct.onFault: must be ignore, hold, safe or \"cap <tier>\" (e.g. \"cap lean\"), got \"drop\"",
    "12:28: sensors.mem_avail_mb.onFault: no tier named \"lena\"; did you mean \"lean\"? (tiers: full, lean, safe)",
    "12:48: sensors.mem_avail_mb.fallback: soc_c is measured in °C, mem_avail_mb in MiB; a fallback must measure the same thing",
  ],
  'unknown-key-near-miss': [
    "51:3: control.dwel: unknown key \"dwel\"; did you mean \"dwell\"?",
  ],
  'unknown-severity-key': [
    "21:5: limits.soc_c.sever: unknown key \"sever\"; did you mean \"severe\"?",
  ],
  'unknown-top-level-key': [
    "13:1: virtualSensor: unknown key \"virtualSensor\"; did you mean \"virtualSensors\"?",
    "22:3: limits.vskin_c: no sensor or virtual sensor named \"vskin_c\"; did you mean \"skin_c\"?; every limit needs a declared sensor",
  ],
  'unresolved-alias': [
    "51:10: alias *ten has no anchor &ten before it",
  ],
  'version-wrong': [
    "3:10: version: must be 1, got 2",
  ],
  'virtual-sensor-no-direction': [
    "23:5: limits.vskin_c: direction (rising or falling) is required for virtual sensor \"vskin_c\"",
  ],
  'wrong-enum-on-shortage': [
    "45:42: rules.memory.onShortage: must be one of \"clamp-context\", \"step-quant\", got \"clamp-ctx\"",
  ],
  'wrong-type-context': [
    "40:49: tiers[1].contextLength: expected a number, got \"big\"",
  ],
  'wrong-type-critical': [
    "10:15: sensors.soc_c.critical: expected true or false, got \"yes\"",
  ],
};
