/**
 * Phone battery (research/05 §5c): OCV(SoC) table, internal resistance, constant-power load
 * I = (OCV − √(OCV² − 4·R·P)) / (2R), I²R heat into the skin node, charger and its losses.
 */
import type { DeviceModel } from './device.js';

type BatterySpec = NonNullable<DeviceModel['battery']>;

export interface BatteryStep {
  /** Power at the cell terminals, W, positive = discharging (the `battery_w` signal). */
  batteryW: number;
  /** Heat released inside the phone by the cell and the charger, W. */
  heatW: number;
  /** Power the device spent: its load plus cell and charger losses, W (energy score). */
  inputW: number;
}

export class Battery {
  pct: number;
  charging: boolean;
  dead = false;
  volts: number;

  constructor(readonly spec: BatterySpec, initialPct: number, charging: boolean) {
    this.pct = initialPct;
    this.charging = charging;
    this.volts = this.ocv();
  }

  ocv(): number {
    const t = this.spec.ocv;
    const p = Math.min(100, Math.max(0, this.pct));
    for (let i = 1; i < t.length; i++) {
      if (p <= t[i][0]) {
        const [p0, v0] = t[i - 1];
        const [p1, v1] = t[i];
        return v0 + ((v1 - v0) * (p - p0)) / (p1 - p0 || 1);
      }
    }
    return t[t.length - 1][1];
  }

  /** Whether the charger is actually charging (JEITA stop above a battery temperature, full). */
  activelyCharging(batteryC: number): boolean {
    return this.charging && batteryC < this.spec.chargeStopAboveC;
  }

  step(dtS: number, loadW: number, batteryC: number): BatteryStep {
    const s = this.spec;
    const ocv = this.ocv();
    const plugged = this.charging;
    const chargerInW = plugged ? s.chargerW * s.chargerEfficiency : 0;
    // With the charger in, the system runs from it; what is left charges the cell unless JEITA stops it.
    let cellW = loadW - chargerInW;
    if (cellW < 0 && (!this.activelyCharging(batteryC) || this.pct >= 100)) cellW = 0;
    const r = s.internalResistanceOhm;
    const disc = ocv * ocv - 4 * r * cellW;
    const amps = disc > 0 ? (ocv - Math.sqrt(disc)) / (2 * r) : ocv / (2 * r);
    this.volts = ocv - amps * r;
    this.pct = Math.min(100, this.pct - (amps * dtS * 100) / (3600 * s.capacityAh));
    if (this.pct <= 0 || this.volts < s.cutoffV) { this.pct = Math.max(0, this.pct); this.dead = true; }
    const chargerLossW = plugged ? (Math.min(s.chargerW, loadW / s.chargerEfficiency + Math.max(0, -cellW) / s.chargerEfficiency)) * (1 - s.chargerEfficiency) : 0;
    const cellLossW = amps * amps * r;
    return { batteryW: cellW, heatW: cellLossW + chargerLossW, inputW: loadW + cellLossW + chargerLossW };
  }
}
