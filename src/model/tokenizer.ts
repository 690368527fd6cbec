/**
 * A byte-level SentencePiece ("llama" model) vocabulary: <unk>, <s>, </s>, the 256 byte
 * tokens and the SPM space "▁" as a normal token (research/06 §2). With no merges every
 * character falls back to its UTF-8 bytes, and text round-trips exactly through
 * tokenize → detokenize; without "▁" a space would come back as the literal "▁".
 */
export const TOKEN_UNK = 0;
export const TOKEN_BOS = 1;
export const TOKEN_EOS = 2;

/** llama_token_type values. */
const TYPE_NORMAL = 1;
const TYPE_UNKNOWN = 2;
const TYPE_CONTROL = 3;
const TYPE_BYTE = 6;

export interface Vocabulary {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
}

export function byteLevelVocabulary(): Vocabulary {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TYPE_BYTE);
  }
  tokens.push('\u2581');
  types.push(TYPE_NORMAL);
  return { tokens, scores: new Float32Array(tokens.length), types: Int32Array.from(types) };
}

export const VOCAB_SIZE = 260;
