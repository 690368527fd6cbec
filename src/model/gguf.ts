/**
 * A GGUF v3 writer (written from the format description in research/06-llama-feasibility.md §2).
 *
 * Layout: header (magic, version, tensor count, KV count) → KV metadata → tensor infos →
 * padding to the alignment → tensor data, each tensor at an aligned offset counted from the
 * start of the data section. Tensor data is streamed in (one tensor at a time) so a model
 * never has to sit in memory whole.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { GGML_TYPE_ID, tensorBytes, type GgmlType } from './quant.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

/** GGUF metadata value types. */
const T = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
type ScalarKind = 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64';

export type GgufValue =
  | { kind: ScalarKind; value: number | boolean | string | bigint }
  | { kind: 'array'; of: 'string'; value: readonly string[] }
  | { kind: 'array'; of: 'f32' | 'i32' | 'u32'; value: ArrayLike<number> };

export const kv = {
  u32: (value: number): GgufValue => ({ kind: 'u32', value }),
  i32: (value: number): GgufValue => ({ kind: 'i32', value }),
  f32: (value: number): GgufValue => ({ kind: 'f32', value }),
  bool: (value: boolean): GgufValue => ({ kind: 'bool', value }),
  str: (value: string): GgufValue => ({ kind: 'string', value }),
  strings: (value: readonly string[]): GgufValue => ({ kind: 'array', of: 'string', value }),
  f32s: (value: ArrayLike<number>): GgufValue => ({ kind: 'array', of: 'f32', value }),
  i32s: (value: ArrayLike<number>): GgufValue => ({ kind: 'array', of: 'i32', value }),
};

export interface TensorInfo {
  name: string;
  /** Dimensions in ggml order: ne0 (the contiguous dimension) first. */
  dims: readonly number[];
  type: GgmlType;
}

/** Grows a byte buffer for the header part of the file. */
class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void { this.chunks.push(b); this.length += b.length; }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.push(b); }
  i32(v: number): void { const b = Buffer.alloc(4); b.writeInt32LE(v); this.push(b); }
  u64(v: number | bigint): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  f32(v: number): void { const b = Buffer.alloc(4); b.writeFloatLE(v); this.push(b); }
  str(s: string): void { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.push(b); }
  bytes(): Buffer { return Buffer.concat(this.chunks, this.length); }
}

function writeValue(sink: ByteSink, v: GgufValue): void {
  switch (v.kind) {
    case 'u32': sink.u32(T.u32); sink.u32(v.value as number); return;
    case 'i32': sink.u32(T.i32); sink.i32(v.value as number); return;
    case 'f32': sink.u32(T.f32); sink.f32(v.value as number); return;
    case 'u64': sink.u32(T.u64); sink.u64(v.value as number | bigint); return;
    case 'bool': sink.u32(T.bool); sink.push(Buffer.from([v.value ? 1 : 0])); return;
    case 'string': sink.u32(T.string); sink.str(v.value as string); return;
    case 'array': {
      sink.u32(T.array);
      sink.u32(T[v.of]);
      sink.u64(v.value.length);
      const arr = v.value as ArrayLike<number | string>;
      for (let i = 0; i < arr.length; i++) {
        const e = arr[i]!;
        if (v.of === 'string') sink.str(e as string);
        else if (v.of === 'f32') sink.f32(e as number);
        else if (v.of === 'i32') sink.i32(e as number);
        else sink.u32(e as number);
      }
      return;
    }
  }
}

const align = (n: number): number => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;

/** Header bytes plus each tensor's offset within the data section. */
export function buildGgufHeader(metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly TensorInfo[]): {
  header: Buffer;
  offsets: number[];
  dataBytes: number;
} {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(metadata.length);
  for (const [key, value] of metadata) {
    sink.str(key);
    writeValue(sink, value);
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    sink.str(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(GGML_TYPE_ID[t.type]);
    sink.u64(offset);
    offsets.push(offset);
    offset = align(offset + tensorBytes(t.type, t.dims.reduce((a, b) => a * b, 1)));
  }
  const raw = sink.bytes();
  const header = Buffer.alloc(align(raw.length));
  raw.copy(header);
  return { header, offsets, dataBytes: offset };
}

/**
 * Writes a GGUF file: metadata and tensor infos up front, then each tensor's bytes as the
 * caller supplies them, in declaration order.
 */
export class GgufFileWriter {
  private next = 0;
  private written = 0;
  private constructor(
    private readonly fh: FileHandle,
    private readonly tensors: readonly TensorInfo[],
    private readonly offsets: number[],
    private readonly dataStart: number,
  ) {}

  static async create(path: string, metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly TensorInfo[]): Promise<GgufFileWriter> {
    const { header, offsets } = buildGgufHeader(metadata, tensors);
    const fh = await open(path, 'w');
    await fh.write(header, 0, header.length, 0);
    return new GgufFileWriter(fh, tensors, offsets, header.length);
  }

  /** Writes the next tensor's encoded bytes (must match its declared type and size). */
  async writeTensor(name: string, data: Buffer): Promise<void> {
    const info = this.tensors[this.next];
    if (!info || info.name !== name) throw new Error(`GGUF writer: expected tensor ${info?.name ?? '(none)'}, got ${name}`);
    const want = tensorBytes(info.type, info.dims.reduce((a, b) => a * b, 1));
    if (data.length !== want) throw new Error(`GGUF writer: tensor ${name} has ${data.length} bytes, expected ${want}`);
    const pos = this.dataStart + this.offsets[this.next]!;
    await this.fh.write(data, 0, data.length, pos);
    this.written = pos + data.length;
    this.next++;
  }

  async close(): Promise<void> {
    if (this.next !== this.tensors.length) {
      await this.fh.close();
      throw new Error(`GGUF writer: ${this.tensors.length - this.next} tensor(s) never written`);
    }
    // Pad the file to the alignment so the last tensor's block is whole.
    const end = align(this.written);
    if (end > this.written) await this.fh.write(Buffer.alloc(end - this.written), 0, end - this.written, this.written);
    await this.fh.close();
  }
}
