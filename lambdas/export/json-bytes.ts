/*
 * Byte tests for the JSON array scanner (json-array.ts): JSON's whitespace, digits, the bytes of
 * numbers and literals, and a number or literal checked on the bytes where it lies.
 */

/** 1 for the bytes that can continue a number or a literal; anything else ends the token. */
const TOKEN_BYTE = new Uint8Array(256);
for (const [from, to] of [
  [0x30, 0x39],
  [0x61, 0x7a],
  [0x41, 0x5a],
]) {
  for (let b = from as number; b <= (to as number); b++) TOKEN_BYTE[b] = 1;
}
TOKEN_BYTE[0x2e] = 1; // .
TOKEN_BYTE[0x2b] = 1; // +
TOKEN_BYTE[0x2d] = 1; // -

export function isTokenByte(b: number): boolean {
  return TOKEN_BYTE[b] === 1;
}

const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Whether `text` (a token carried across chunks) is a JSON number or true/false/null. */
export function isToken(text: string): boolean {
  return text === 'true' || text === 'false' || text === 'null' || NUMBER.test(text);
}

export function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** The bytes that may follow a backslash, but for `u`: `" \\ / b f n r t`. */
export function isEscape(b: number): boolean {
  return (
    b === 0x22 ||
    b === 0x5c ||
    b === 0x2f ||
    b === 0x62 ||
    b === 0x66 ||
    b === 0x6e ||
    b === 0x72 ||
    b === 0x74
  );
}

export function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
}

/** Whether `chunk[from, to)` is a JSON number or true/false/null, read on the bytes. */
export function isScalar(chunk: Buffer, from: number, to: number): boolean {
  const first = chunk[from] as number;
  const length = to - from;
  if (first === 0x74)
    return length === 4 && chunk[from + 1] === 0x72 && chunk[from + 2] === 0x75 && chunk[from + 3] === 0x65;
  if (first === 0x6e)
    return length === 4 && chunk[from + 1] === 0x75 && chunk[from + 2] === 0x6c && chunk[from + 3] === 0x6c;
  if (first === 0x66) {
    return (
      length === 5 &&
      chunk[from + 1] === 0x61 &&
      chunk[from + 2] === 0x6c &&
      chunk[from + 3] === 0x73 &&
      chunk[from + 4] === 0x65
    );
  }
  let k = first === 0x2d ? from + 1 : from;
  if (k >= to) return false;
  if (chunk[k] === 0x30) k++;
  else if (isDigit(chunk[k] as number)) while (k < to && isDigit(chunk[k] as number)) k++;
  else return false;
  if (k < to && chunk[k] === 0x2e) {
    if (++k >= to || !isDigit(chunk[k] as number)) return false;
    while (k < to && isDigit(chunk[k] as number)) k++;
  }
  if (k < to && ((chunk[k] as number) | 0x20) === 0x65) {
    if (++k < to && (chunk[k] === 0x2b || chunk[k] === 0x2d)) k++;
    if (k >= to || !isDigit(chunk[k] as number)) return false;
    while (k < to && isDigit(chunk[k] as number)) k++;
  }
  return k === to;
}

export function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
