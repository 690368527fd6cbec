/**
 * Tensor encoders for the ggml types the synthetic models use. Layouts follow the GGUF
 * format description in research/06-llama-feasibility.md §2 (32-value blocks; Q4_0 keeps
 * element j in the low nibble and element j+16 in the high nibble of byte j).
 */
import { float32ToFloat16Bits } from './f16.js';

export type GgmlType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

/** ggml_type enum values as stored in GGUF tensor infos. */
export const GGML_TYPE_ID: Record<GgmlType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 8 };
/** `general.file_type` (llama_ftype) for a file whose matrices are all of this type. */
export const FILE_TYPE_ID: Record<GgmlType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

export const QK = 32;

export function isQuantized(t: GgmlType): boolean {
  return t === 'q8_0' || t === 'q4_0';
}

/** Bytes a tensor of `count` elements occupies; quantized types need count % 32 === 0. */
export function tensorBytes(type: GgmlType, count: number): number {
  switch (type) {
    case 'f32': return count * 4;
    case 'f16': return count * 2;
    case 'q8_0': return (count / QK) * 34;
    case 'q4_0': return (count / QK) * 18;
  }
}

export function encodeTensor(type: GgmlType, x: Float32Array): Buffer {
  switch (type) {
    case 'f32': return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    case 'f16': return encodeF16(x);
    case 'q8_0': return encodeQ8_0(x);
    case 'q4_0': return encodeQ4_0(x);
  }
}

function encodeF16(x: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    const h = float32ToFloat16Bits(x[i]!);
    out[i * 2] = h & 0xff;
    out[i * 2 + 1] = h >>> 8;
  }
  return out;
}

function checkBlocks(x: Float32Array): number {
  if (x.length % QK !== 0) throw new Error(`quantized tensor length ${x.length} is not a multiple of ${QK}`);
  return x.length / QK;
}

/** Q8_0: f16 scale d = amax/127, then 32 × int8 round(x/d). */
export function encodeQ8_0(x: Float32Array): Buffer {
  const blocks = checkBlocks(x);
  const out = Buffer.alloc(blocks * 34);
  for (let b = 0; b < blocks; b++) {
    const base = b * QK;
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[base + j]!));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    const o = b * 34;
    const h = float32ToFloat16Bits(d);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < QK; j++) {
      // C roundf: halves away from zero (Math.round rounds them up).
      const v = x[base + j]! * id;
      const q = v < 0 ? -Math.round(-v) : Math.round(v);
      out[o + 2 + j] = q & 0xff; // two's complement int8
    }
  }
  return out;
}

/** Q4_0: f16 scale d = max/−8 (max = the signed value of largest |x|), nibbles min(15, trunc(x/d + 8.5)). */
export function encodeQ4_0(x: Float32Array): Buffer {
  const blocks = checkBlocks(x);
  const out = Buffer.alloc(blocks * 18);
  const half = QK / 2;
  for (let b = 0; b < blocks; b++) {
    const base = b * QK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[base + j]!;
      if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
    }
    const d = max / -8;
    const id = d ? 1 / d : 0;
    const o = b * 18;
    const h = float32ToFloat16Bits(d);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < half; j++) {
      const lo = Math.min(15, Math.trunc(x[base + j]! * id + 8.5));
      const hi = Math.min(15, Math.trunc(x[base + j + half]! * id + 8.5));
      out[o + 2 + j] = lo | (hi << 4);
    }
  }
  return out;
}
