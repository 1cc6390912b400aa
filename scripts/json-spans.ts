/**
 * Where a value sits in a JSON text, so a tool can change one place of a
 * hand-formatted file and leave the rest of it byte for byte. The text must be
 * valid JSON (JSON.parse it first); the scan only measures it.
 */
export interface Span {
  start: number;
  /** Exclusive. */
  end: number;
}

/** A member of an object (or array): its value's span, and where the member starts (its key, for an object). */
export interface Member extends Span {
  key: string | number;
  memberStart: number;
}

const ws = (text: string, i: number): number => {
  while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  return i;
};

function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  throw new Error('unterminated string');
}

/** The end of the value starting at `i`; `visit` sees each member (key or index) with its value's span. */
function valueEnd(text: string, i: number, visit?: (member: Member) => void): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c !== '{' && c !== '[') {
    let j = i;
    while (j < text.length && !',]} \t\n\r'.includes(text[j]!)) j++;
    return j;
  }
  const close = c === '{' ? '}' : ']';
  let j = ws(text, i + 1);
  let index = 0;
  while (text[j] !== close) {
    let key: string | number = index++;
    const memberStart = j;
    if (c === '{') {
      const keyEnd = stringEnd(text, j);
      key = JSON.parse(text.slice(j, keyEnd)) as string;
      j = ws(text, ws(text, keyEnd) + 1); // past ':'
    }
    const start = j;
    j = valueEnd(text, j);
    visit?.({ key, memberStart, start, end: j });
    j = ws(text, j);
    if (text[j] === ',') j = ws(text, j + 1);
  }
  return j + 1;
}

/** The members of the object or array at `i`. */
export function membersAt(text: string, i: number): Member[] {
  const out: Member[] = [];
  valueEnd(text, i, (m) => out.push(m));
  return out;
}

/** The span of the value at `path`, or undefined when there is none. */
export function spanAt(text: string, path: ReadonlyArray<string | number>): Span | undefined {
  let start = ws(text, 0);
  for (const step of path) {
    const hit = membersAt(text, start).find((m) => m.key === step);
    if (!hit) return undefined;
    start = hit.start;
  }
  return { start, end: valueEnd(text, start) };
}

const lineStart = (text: string, offset: number): number => text.lastIndexOf('\n', offset - 1) + 1;

/** The indentation of the line `offset` is on. */
export function indentAt(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, offset)))?.[0] ?? '';
}

/** True when only indentation precedes `offset` on its line. */
export function startsLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, offset), offset));
}
