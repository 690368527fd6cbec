/**
 * Battery power from power_supply attributes whose sign and unit vary by driver
 * (research 02 §3.2, §8 case 10):
 *  - kernel ABI and Android: µA, negative = discharging;
 *  - Qualcomm `bms`, smb2-era and mainline qcom-fg: positive = discharging;
 *  - Samsung sec_battery: mA;  ACPI/EC: unsigned.
 * The sign convention is learned from `status` (Charging/Discharging) and kept for the states
 * that do not say (Full, Not charging, Unknown); the unit is inferred from magnitude.
 * Output follows SPEC §3: watts, positive = discharging. Raw values are kept for inventory.
 */
export type SignConvention = 'negative-discharge' | 'positive-discharge' | 'unsigned' | 'assumed-abi';
export type CurrentUnit = 'uA' | 'mA';

export interface BatteryRaw {
  status?: string;
  capacityPct?: number;
  currentRaw?: number;
  voltageRaw?: number; // µV
  powerRaw?: number; // µW (ACPI laptops)
  tempDeciC?: number;
  present?: number;
}

export interface BatteryCalibration {
  sign: SignConvention;
  unit: CurrentUnit | undefined;
  /** Signs seen while Charging / Discharging, to tell signed from unsigned. */
  seenChargingSign?: number;
  seenDischargingSign?: number;
  maxAbsCurrent: number;
}

export function newCalibration(): BatteryCalibration {
  return { sign: 'assumed-abi', unit: undefined, maxAbsCurrent: 0 };
}

/** A phone draws < 10 A, so |I| ≤ 10 000 can be mA; anything larger is certainly µA. */
const MA_CEILING = 10_000;

function learn(cal: BatteryCalibration, status: string | undefined, current: number | undefined): void {
  if (current === undefined || current === 0) return;
  cal.maxAbsCurrent = Math.max(cal.maxAbsCurrent, Math.abs(current));
  // Unit: once a reading could not be mA, the supply is µA for good.
  cal.unit = cal.maxAbsCurrent > MA_CEILING ? 'uA' : 'mA';
  const s = Math.sign(current);
  if (status === 'Discharging') cal.seenDischargingSign = s;
  if (status === 'Charging') cal.seenChargingSign = s;
  const d = cal.seenDischargingSign;
  const c = cal.seenChargingSign;
  if (d !== undefined && c !== undefined && d === c) cal.sign = 'unsigned';
  else if (d === -1 || c === 1) cal.sign = 'negative-discharge';
  else if (d === 1 || c === -1) cal.sign = 'positive-discharge';
}

export interface BatteryReading {
  powerW?: number;
  charging?: 0 | 1;
  pct?: number;
  tempC?: number;
  /** Why power is missing, when it is. */
  powerWhy?: string;
}

export function interpretBattery(raw: BatteryRaw, cal: BatteryCalibration): BatteryReading {
  const out: BatteryReading = {};
  const status = raw.status?.trim();
  if (raw.present === 0) return { powerWhy: 'battery not present (present=0)' };
  if (raw.capacityPct !== undefined && raw.capacityPct >= 0 && raw.capacityPct <= 100) out.pct = raw.capacityPct;
  if (raw.tempDeciC !== undefined) {
    const c = raw.tempDeciC / 10;
    if (c > -30 && c < 100 && raw.tempDeciC !== 0) out.tempC = c;
  }
  if (status === 'Charging') out.charging = 1;
  else if (status === 'Discharging' || status === 'Full' || status === 'Not charging') out.charging = 0;

  learn(cal, status, raw.currentRaw);

  // Magnitude: power_now when the driver has it (µW), else |I|·V.
  let magW: number | undefined;
  let signedByDriver: number | undefined;
  if (raw.powerRaw !== undefined && raw.powerRaw !== 0) {
    magW = Math.abs(raw.powerRaw) / 1e6;
  } else if (raw.currentRaw !== undefined && raw.voltageRaw !== undefined && raw.voltageRaw > 0) {
    const amps = Math.abs(raw.currentRaw) / (cal.unit === 'mA' ? 1e3 : 1e6);
    magW = amps * (raw.voltageRaw / 1e6);
    signedByDriver = raw.currentRaw === 0 ? 0 : Math.sign(raw.currentRaw);
  } else if (raw.currentRaw === undefined && raw.powerRaw === undefined) {
    out.powerWhy = 'no current_now or power_now attribute readable';
    return out;
  } else if (raw.voltageRaw === undefined || raw.voltageRaw <= 0) {
    out.powerWhy = 'no voltage_now to turn current into power';
    return out;
  }
  if (magW === undefined) {
    out.powerWhy = 'current reads 0 (driver does not report it)';
    return out;
  }
  if (magW === 0) {
    out.powerW = 0;
    return out;
  }
  // Direction: status says it outright; otherwise the learned convention (ABI until learned).
  let discharging: boolean | undefined;
  if (status === 'Discharging') discharging = true;
  else if (status === 'Charging') discharging = false;
  else if (signedByDriver !== undefined && cal.sign !== 'unsigned') {
    discharging = cal.sign === 'positive-discharge' ? signedByDriver > 0 : signedByDriver < 0;
  } else if (status === 'Full' || status === 'Not charging') {
    discharging = false; // powered externally; any draw is covered by the charger
  }
  if (discharging === undefined) {
    out.powerWhy = `direction unknown (status ${status ?? 'unreadable'}, unsigned current)`;
    return out;
  }
  out.powerW = Math.round((discharging ? magW : -magW) * 1e4) / 1e4;
  return out;
}
