/**
 * A plain-text chat layout for models without a chat template (the synthetic models have
 * none). Each turn is appended after the previous ones, so a conversation's earlier prompt
 * is a token prefix of its next one and the KV cache of the earlier turns can be reused.
 */
import type { ChatMessage } from './engine.js';

const ROLE_HEADER: Record<ChatMessage['role'], string> = {
  system: '### System:\n',
  user: '### User:\n',
  assistant: '### Assistant:\n',
};

export function formatTurn(m: ChatMessage): string {
  return `${ROLE_HEADER[m.role]}${m.content}\n\n`;
}

/** The prompt text for `messages`, ending with the assistant header the model continues. */
export function formatChat(messages: readonly ChatMessage[]): string {
  return messages.map(formatTurn).join('') + ROLE_HEADER.assistant;
}

export interface FittedPrompt<T> {
  tokens: T[];
  droppedMessages: number;
  maxTokens: number;
}

/**
 * Makes a conversation fit `contextLength` with room for `maxTokens` of answer: drops the
 * oldest non-system turns first (what a chat client would forget first), then shortens the
 * answer budget, and only as a last resort keeps the tail of an over-long single message.
 */
export function fitConversation<T>(
  messages: readonly ChatMessage[],
  maxTokens: number,
  contextLength: number,
  tokenize: (text: string) => T[],
  bos: T,
): FittedPrompt<T> {
  const build = (ms: readonly ChatMessage[]): T[] => [bos, ...tokenize(formatChat(ms))];
  const system = messages.filter((m) => m.role === 'system').slice(0, 1);
  let rest = messages.filter((m) => m !== system[0]);
  let dropped = 0;
  let tokens = build([...system, ...rest]);
  // At least a quarter of the context stays available to the answer while turns can be dropped.
  const answerRoom = Math.max(1, Math.min(maxTokens, Math.floor(contextLength / 4)));
  while (tokens.length + answerRoom > contextLength && rest.length > 1) {
    rest = rest.slice(1);
    dropped++;
    tokens = build([...system, ...rest]);
  }
  if (tokens.length + 1 > contextLength) {
    const keep = Math.max(1, contextLength - answerRoom - 1);
    tokens = [bos, ...tokens.slice(tokens.length - keep)];
  }
  const room = contextLength - tokens.length;
  return { tokens, droppedMessages: dropped, maxTokens: Math.max(1, Math.min(maxTokens, room)) };
}
