// The journal checks of one crash round, on the file's bytes alone. A round's "segment" is
// what one daemon run appended: the bytes from the file's size before it started to the end
// after its kill -9.
//
// What counts as ACKNOWLEDGED (what a crash must never lose):
//  - a `status` reply saying `journal.lines: L`: the daemon has appended L lines in this run,
//    and the journal promises a line is crash-durable once append() returns (it is in the
//    kernel; src/telemetry/journal.ts) — so the segment must hold at least L lines;
//  - a `decision` event a subscriber received with `seq: s`: the journal is the record of
//    what clients were told, so the segment must hold a `changed: true` line with `seq: s`
//    and the same tier.
// (`syncedLines`, the fsync point, is the promise against power loss; a kill -9 leaves the
// page cache alone, so it cannot be tested this way and is not counted.)
//
// A TORN line is one that does not parse or does not end with '\n'. The journal writes each
// line with one write(2), so a kill never tears one; a power cut can, which the loop injects
// on purpose (a prefix of the last line, no '\n'): the daemon must then start its own lines on
// a fresh line (Journal.repairTail), so the injected fragment stays alone on its line.

/**
 * @param {string} segment   the bytes one run appended
 * @param {{ tornBefore?: boolean, ackedLines?: number, ackedDecisions?: Map<number, string> }} acks
 * @returns {{ lines: number, torn: string[], lost: string[] }}
 */
export function checkSegment(segment, { tornBefore = false, ackedLines = 0, ackedDecisions = new Map() } = {}) {
  const torn = [];
  const lost = [];
  let text = segment;
  if (tornBefore && text.length > 0) {
    if (text[0] !== '\n') torn.push('the first line was glued to the torn tail the previous run left');
    else text = text.slice(1);
  }
  if (text.length > 0 && !text.endsWith('\n')) torn.push(`the last line has no newline: ${JSON.stringify(text.slice(-80))}`);
  const raw = text.length ? text.replace(/\n$/, '').split('\n') : [];
  const lines = [];
  raw.forEach((l, i) => {
    try {
      const o = JSON.parse(l);
      if (!Number.isInteger(o?.n) || !Number.isInteger(o?.seq)) throw new Error('no integer n/seq');
      lines.push(o);
    } catch (err) {
      torn.push(`line ${i + 1} of the segment does not parse (${err.message}): ${JSON.stringify(l.slice(0, 80))}`);
    }
  });
  // Every sample is journalled (--journal-every-sample), so n runs 1, 2, 3, … with no gap.
  lines.forEach((o, i) => {
    if (o.n !== i + 1) lost.push(`line ${i + 1} has sample n=${o.n}, expected ${i + 1} (a line missing before it)`);
  });
  if (lines.length < ackedLines) lost.push(`${ackedLines - lines.length} of the ${ackedLines} lines a status reply acknowledged are missing`);
  for (const [seq, tier] of ackedDecisions) {
    if (!lines.some((o) => o.seq === seq && o.changed === true && o.decision?.tier === tier)) {
      lost.push(`decision seq ${seq} (tier ${tier}) reached a client but is not in the journal`);
    }
  }
  return { lines: lines.length, torn, lost };
}

/**
 * The whole file after the last round: every line parses except exactly the fragments the loop
 * injected (each alone on its line).
 * @param {string} text
 * @param {string[]} injected
 */
export function checkWholeFile(text, injected) {
  const unparsable = [];
  for (const l of text.split('\n')) {
    if (l === '') continue;
    try { JSON.parse(l); } catch { unparsable.push(l); }
  }
  const expected = [...injected];
  const unexpected = [];
  for (const l of unparsable) {
    const i = expected.indexOf(l);
    if (i >= 0) expected.splice(i, 1);
    else unexpected.push(l);
  }
  return { lines: text.split('\n').filter(Boolean).length, unexpected, missingInjected: expected.length, endsWithNewline: text === '' || text.endsWith('\n') };
}
