/** The classification table against real zone names per platform (research 02 §4.3-4.5). */
import { describe, expect, it } from 'vitest';
import { classifyZone, SOC_ROLES } from '../../src/sensors/roles.js';

const CASES: Record<string, [string, string][]> = {
  'Qualcomm vendor kernels (kona … sun)': [
    ['cpu-0-0', 'cpu'], ['cpu-1-3', 'cpu'], ['cpu-1-0-usr', 'cpu'], ['cpu-0-0-0', 'cpu'], ['cpu-2-0-0', 'cpu'],
    ['cpuss-0-usr', 'cpu'], ['cpuss-2', 'cpu'], ['apc0-cpu0-usr', 'cpu'],
    ['gpuss-0', 'gpu'], ['gpuss-1-usr', 'gpu'], ['gpu-usr', 'gpu'],
    ['npu', 'npu'], ['nspss-2', 'npu'], ['nsphvx-1', 'npu'], ['nsphmx-3', 'npu'],
    ['skin-msm-therm', 'skin'], ['xo-therm-usr', 'skin'], ['xo-therm-adc', 'skin'], ['sys-therm-2', 'skin'],
    ['ddr', 'ddr'], ['mdmss-2', 'modem'], ['pa_therm0', 'modem'], ['aoss-1', 'soc'], ['video', 'soc'], ['camera-0', 'soc'],
    ['pm8150b-ibat-lvl0', 'not-a-temperature'], ['pm8550b-ibat-lvl0', 'not-a-temperature'], ['pmi632-vbat-lvl0', 'not-a-temperature'],
    ['vbat', 'not-a-temperature'], ['socd', 'not-a-temperature'], ['soc', 'not-a-temperature'], ['pm8550-bcl-lvl2', 'not-a-temperature'],
    ['tsens_tz_sensor3', 'soc'], ['pm8953_tz', 'board'], ['xo_therm', 'skin'], ['case_therm', 'skin'],
  ],
  'Qualcomm mainline (RB3/RB5/Rubik Pi)': [
    ['cpu0-thermal', 'cpu'], ['cpuss0-thermal', 'cpu'], ['cpu7-top-thermal', 'cpu'], ['gpuss0-thermal', 'gpu'],
    ['aoss0-thermal', 'soc'], ['nsp0-thermal', 'npu'],
  ],
  'Google Tensor': [
    ['BIG', 'cpu'], ['MID', 'cpu'], ['LITTLE', 'cpu'], ['BIG_MID', 'cpu'], ['G3D', 'gpu'], ['TPU', 'npu'], ['ISP', 'soc'],
    ['north_therm', 'skin'], ['quiet_therm', 'skin'], ['soc_therm', 'board'], ['usb_pwr_therm', 'board'],
    ['vdroop1', 'not-a-temperature'], ['batoilo', 'not-a-temperature'], ['smpl_gm', 'not-a-temperature'],
  ],
  'Samsung Exynos': [['BIG', 'cpu'], ['G3D', 'gpu'], ['NPU', 'npu'], ['ISP', 'soc'], ['battery', 'battery']],
  MediaTek: [
    ['mtktscpu', 'cpu'], ['mtktsAP', 'board'], ['mtktsbattery', 'battery'], ['mtktsbattery2', 'battery'], ['tzbattery', 'battery'],
    ['mtktspmic', 'board'], ['mtktspa', 'modem'], ['mtktsabb', 'modem'], ['mtktswmt', 'board'], ['mtktsbuck', 'board'],
    ['mtktscharger', 'board'], ['soc_max', 'soc'], ['cpu_big1', 'cpu'], ['cpu_little0', 'cpu'],
  ],
  'Rockchip RK3588': [
    ['soc-thermal', 'soc'], ['package-thermal', 'soc'], ['bigcore0-thermal', 'cpu'], ['bigcore1-thermal', 'cpu'],
    ['bigcore2-thermal', 'cpu'], ['littlecore-thermal', 'cpu'], ['center-thermal', 'soc'], ['gpu-thermal', 'gpu'], ['npu-thermal', 'npu'],
  ],
  'Raspberry Pi and generic': [
    ['cpu-thermal', 'cpu'], ['cpu_thermal', 'cpu'], ['rp1_adc', 'board'], ['x86_pkg_temp', 'cpu'], ['acpitz', 'board'], ['coretemp', 'cpu'],
    ['iwlwifi_1', 'unknown'],
  ],
};

describe('zone classification', () => {
  for (const [platform, cases] of Object.entries(CASES)) {
    it(platform, () => {
      const got = cases.map(([t]) => [t, classifyZone(t).role]);
      expect(got).toEqual(cases);
    });
  }

  it('no not-a-temperature name can fall into a role that feeds soc_c', () => {
    for (const t of ['pm8550b-ibat-lvl0', 'vbat', 'socd', 'soc', 'pm8550-bcl-lvl0', 'vdroop2', 'batoilo', 'ocp_cpu1']) {
      expect(SOC_ROLES.has(classifyZone(t).role), t).toBe(false);
    }
  });
});
