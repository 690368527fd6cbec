/**
 * `--report <file.html>`: one self-contained HTML report of a replay, a simulation or a
 * comparison. Commands record each run with a TimelineRecorder (a step hook), then call
 * `writeReport` with the command's own summary.
 */
import { writeFileSync } from 'node:fs';
import { envErrorFrom } from '../util/errors.js';
import { buildReportData, type ReportInput } from './build.js';
import { renderReportHtml } from './page.js';

export { TimelineRecorder, KNOB_COLUMNS, type RunTimeline, type ReportDecision } from './recorder.js';
export { buildReportData, type ReportInput, type ReportData, type ScoreTable, type ChartSpec } from './build.js';
export { renderReportHtml } from './page.js';
export { buildGrid } from './downsample.js';

/** Builds and writes the report; returns its size in bytes. */
export function writeReport(path: string, input: ReportInput): number {
  const html = renderReportHtml(buildReportData(input));
  try {
    writeFileSync(path, html);
  } catch (err) {
    throw envErrorFrom(err, path);
  }
  return Buffer.byteLength(html);
}
