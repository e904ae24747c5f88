// Test input lines: generic_gateway records whose request_id names them, so delivery can be
// checked by content (every line exactly once).

/** A generic_gateway line whose request_id names it (`<tag>-<i>`); `pad` makes lines longer. */
export function gwLine(tag: string, i: number, pad = 0): string {
  const filler = pad > 0 ? `,"agent_note":"${'x'.repeat(pad)}"` : '';
  return `{"timestamp":"2026-11-20T10:00:00.000Z","request_id":"${tag}-${i}","agent":"bot-${i % 7}","user":"user${i % 13}@example.com","endpoint":"https://api.openai.com/v1/chat/completions","method":"POST","status":200,"latency_ms":${i % 900},"outcome":"success"${filler}}`;
}

export function gwLines(tag: string, from: number, to: number, pad = 0): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${gwLine(tag, i, pad)}\n`;
  return s;
}
