/**
 * Thermal-zone and hwmon classification by `type` / `name`. The table is ordered: the first
 * matching row wins, and the not-a-temperature rows come first, so a BCL zone such as
 * `pm8550b-ibat-lvl0` (mA) can never be mistaken for a temperature and reach `soc_c`.
 * Sources for the names: research 02 §4.3-4.5 (Qualcomm vendor and mainline, MediaTek,
 * Exynos, Tensor, RK3588 BSP and mainline, Raspberry Pi) and the real Galaxy S25 zone list
 * (shared/traces/real README §1).
 */
export type ZoneRole =
  | 'cpu'
  | 'gpu'
  | 'npu'
  | 'soc'
  | 'skin'
  | 'battery'
  | 'ddr'
  | 'modem'
  | 'board'
  | 'not-a-temperature'
  | 'unknown';

/** Roles whose maximum is the SoC hotspot `soc_c` (SPEC §3: max over CPU/GPU/NPU die zones). */
export const SOC_ROLES: ReadonlySet<ZoneRole> = new Set(['cpu', 'gpu', 'npu', 'soc']);

export interface RoleRule {
  readonly pattern: RegExp;
  readonly role: ZoneRole;
  /** Which platform the name comes from, for inventory and docs. */
  readonly vendor: string;
  readonly note?: string;
}

export const ROLE_RULES: readonly RoleRule[] = [
  // --- not temperatures: battery-current-limiter (BCL) and similar zones (research 02 §4.4)
  { pattern: /ibat/i, role: 'not-a-temperature', vendor: 'Qualcomm BCL', note: 'battery current, mA' },
  { pattern: /vbat/i, role: 'not-a-temperature', vendor: 'Qualcomm BCL', note: 'battery voltage, mV' },
  { pattern: /^socd$/i, role: 'not-a-temperature', vendor: 'Qualcomm BCL', note: 'state of charge delta, %' },
  { pattern: /-bcl-lvl\d+$|^bcl|_bcl/i, role: 'not-a-temperature', vendor: 'Qualcomm BCL', note: 'limiter level flag' },
  { pattern: /^soc$/i, role: 'not-a-temperature', vendor: 'Google/Qualcomm BCL', note: 'state of charge, %' },
  { pattern: /^vdroop\d*$|^batoilo|^smpl_gm|^ocp_|^soc_ovp/i, role: 'not-a-temperature', vendor: 'Google BCL' },
  { pattern: /-lvl\d+$/i, role: 'not-a-temperature', vendor: 'Qualcomm BCL', note: 'limiter level' },
  // --- CPU
  { pattern: /^cpu-\d+-\d+(-\d+)?(-usr)?$/i, role: 'cpu', vendor: 'Qualcomm (vendor kernel)' },
  { pattern: /^cpuss-\d+(-\d+)?(-usr)?$/i, role: 'cpu', vendor: 'Qualcomm (vendor kernel)' },
  { pattern: /^apc\d+-cpu\d+(-usr)?$/i, role: 'cpu', vendor: 'Qualcomm (older vendor kernel)' },
  { pattern: /^cpu\d*(ss\d*)?(-(top|bottom|\d+))?-thermal$/i, role: 'cpu', vendor: 'mainline DT (Qualcomm, Pi, generic)' },
  { pattern: /^(big|mid|little|big_mid)$/i, role: 'cpu', vendor: 'Google Tensor / Samsung Exynos TMU' },
  { pattern: /^mtktscpu$|^cpu_(big|mid|little)\d*$/i, role: 'cpu', vendor: 'MediaTek' },
  { pattern: /^(big|little)core\d*-thermal$/i, role: 'cpu', vendor: 'Rockchip RK3588' },
  { pattern: /^cpu[-_]thermal$|^cpu\d*_thermal$|^x86_pkg_temp$|^coretemp$|^k10temp$|^zenpower$/i, role: 'cpu', vendor: 'Raspberry Pi / generic / x86' },
  // --- GPU
  { pattern: /^gpuss-?\d+(-usr)?$|^gpuss\d*-thermal$|^gpu-usr$/i, role: 'gpu', vendor: 'Qualcomm' },
  { pattern: /^g3d$/i, role: 'gpu', vendor: 'Google Tensor / Samsung Exynos TMU' },
  { pattern: /^gpu([-_]thermal|\d*)$|^mtktsgpu$|^amdgpu$|^nouveau$/i, role: 'gpu', vendor: 'RK3588 / MediaTek / generic' },
  // --- NPU / DSP / TPU
  { pattern: /^nsp(ss|hvx|hmx)-\d+(-usr)?$|^nsp\d*-thermal$|^npu(-usr)?$/i, role: 'npu', vendor: 'Qualcomm Hexagon' },
  { pattern: /^(tpu|npu)$|^npu-thermal$|^mtktsapu$|^apu\d*$/i, role: 'npu', vendor: 'Tensor / Exynos / RK3588 / MediaTek' },
  // --- other SoC-die sensors
  { pattern: /^(soc|package|center)-thermal$|^soc_thermal$|^soc_max$/i, role: 'soc', vendor: 'RK3588 (BSP: soc, mainline: package) / MediaTek' },
  { pattern: /^aoss-?\d+(-usr)?$|^aoss\d*-thermal$|^camera-\d+$|^video(-usr)?$|^isp$|^mmss?-\d+$/i, role: 'soc', vendor: 'Qualcomm / Exynos die sensors' },
  { pattern: /^tsens_tz_sensor\d+$/i, role: 'soc', vendor: 'Qualcomm msm8953-era' },
  // --- memory, modem
  { pattern: /^ddr(-usr)?$|^ddr\d*-thermal$|^mtktsddr$/i, role: 'ddr', vendor: 'Qualcomm / generic' },
  { pattern: /^mdmss-\d+$|^modem|^mdm-|^mtktspa$|^mtktsabb$|^pa_therm\d*$|^pa-therm\d*$|^qfe_/i, role: 'modem', vendor: 'Qualcomm / MediaTek' },
  // --- battery
  { pattern: /^battery$|^mtktsbattery\d*$|^tzbattery$|^battery[-_]thermal$|^batt_therm$|^bq27\w*|^max170\w*/i, role: 'battery', vendor: 'generic / MediaTek / fuel gauges' },
  // --- skin (chassis) thermistors
  { pattern: /skin|^xo-therm(-usr|-adc)?$|^xo_therm$|^(quiet|neutral|disp|north|case|back)_therm|^sys-therm-2$/i, role: 'skin', vendor: 'Qualcomm skin-msm/xo / Pixel board thermistors' },
  // --- board: PMIC dies, charger, connectors, other thermistors
  { pattern: /^pm\w*_tz$|^pm\w*-tz$|^pmr\w*_tz$|^pmic|^mtktspmic$|^mtktsbuck$|^mtktscharger$|^mtktswmt$|^mtktsap$|^mtktsbtsmdpa$|^mtkts\d+$/i, role: 'board', vendor: 'PMIC / MediaTek board (BTS)' },
  { pattern: /therm|^ac$|^acpitz$|^usb|^charger|^rp1_adc$|^nvme$/i, role: 'board', vendor: 'board thermistors / ACPI' },
];

export interface Classified {
  readonly role: ZoneRole;
  readonly vendor: string;
  readonly note?: string;
}

export function classifyZone(type: string): Classified {
  for (const r of ROLE_RULES) {
    if (r.pattern.test(type)) return { role: r.role, vendor: r.vendor, ...(r.note ? { note: r.note } : {}) };
  }
  return { role: 'unknown', vendor: '' };
}
