import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { JsonArrayScanner, JsonArrayTransform, MAX_DEPTH } from '../../lambdas/export/json-array';
import { PceProtocolError } from '../../lambdas/pce/errors';

/** Runs bytes through a fresh scanner split at the given offsets; returns the ndjson text. */
function scanSplit(
  input: Buffer,
  cuts: readonly number[],
  ndjson = true,
): { text: string; elements: number } {
  const scanner = new JsonArrayScanner({ ndjson });
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    const written = scanner.write(input.subarray(from, cut));
    if (written) out.push(written);
    from = cut;
  }
  scanner.end();
  return { text: Buffer.concat(out).toString('utf8'), elements: scanner.elements };
}

function scan(text: string, ndjson = true) {
  return scanSplit(Buffer.from(text, 'utf8'), [], ndjson);
}

/** What JSON.parse + JSON.stringify make of it: right for input without escapes or exponents. */
function reference(text: string): string {
  return (JSON.parse(text) as unknown[]).map((e) => `${JSON.stringify(e)}\n`).join('');
}

async function transform(format: 'raw' | 'ndjson', chunks: readonly (Buffer | string)[]): Promise<Buffer> {
  return buffer(
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).pipe(
      new JsonArrayTransform({ format }),
    ),
  );
}

// Brackets, braces, commas and colons inside strings, escaped quotes and backslashes, \u escapes,
// multi-byte UTF-8 (2, 3 and 4 bytes), nesting, every scalar kind, and whitespace everywhere.
const TRICKY = `[
  {"name": "a [b] {c}, d: \\"e\\"", "path\\\\": "C:\\\\dir\\\\", "u": "\\u00e9\\ud83d\\ude00\\n\\t/\\/",
   "labels": [ { "href": "/orgs/1/labels/1" }, [], {}, [[ ]] ],
   "utf8": "é—😀", "n": -12.5e+3, "z": 0, "t": true, "f": false, "nil": null },
  "plain string with \\"quotes\\" and ] and }",
  42 ,
  [1, [2, [3, {"deep": [ ]}]]],
  {},
  []
]
`;

// Byte-exact: escapes and number spellings stay as the PCE wrote them.
const TRICKY_NDJSON = [
  String.raw`{"name":"a [b] {c}, d: \"e\"","path\\":"C:\\dir\\","u":"\u00e9\ud83d\ude00\n\t/\/","labels":[{"href":"/orgs/1/labels/1"},[],{},[[]]],"utf8":"é—😀","n":-12.5e+3,"z":0,"t":true,"f":false,"nil":null}`,
  String.raw`"plain string with \"quotes\" and ] and }"`,
  '42',
  '[1,[2,[3,{"deep":[]}]]]',
  '{}',
  '[]',
  '',
].join('\n');

describe('JsonArrayScanner (ndjson)', () => {
  it('emits each element of the tricky sample as compact JSON on its own line', () => {
    const result = scan(TRICKY);

    expect(result.text).toBe(TRICKY_NDJSON);
    expect(result.elements).toBe(6);
  });

  it('emits lines that parse to the same values as the array elements', () => {
    const lines = scan(TRICKY).text.trimEnd().split('\n');

    expect(lines.map((line) => JSON.parse(line))).toEqual(JSON.parse(TRICKY));
  });

  it('matches JSON.stringify for input without escapes or exponents', () => {
    const text = JSON.stringify([{ a: 'x [y] {z}, q', b: [1, 2.5, -3], c: { d: null } }, 'é😀', 7], null, 2);

    expect(scan(text).text).toBe(reference(text));
  });

  it('gives the same output whatever byte position a chunk boundary falls on', () => {
    const input = Buffer.from(TRICKY, 'utf8');
    const expected = TRICKY_NDJSON;

    for (let cut = 0; cut <= input.length; cut++) {
      expect(scanSplit(input, [cut]).text, `cut at byte ${cut}`).toBe(expected);
    }
  });

  it('gives the same output for random chunkings of a larger body', () => {
    const body = Buffer.concat([
      Buffer.from('['),
      Buffer.from(Array(50).fill(TRICKY.trim().slice(1, -1)).join(',')),
      Buffer.from(']'),
    ]);
    const whole = scanSplit(body, []).text;
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };

    for (let round = 0; round < 20; round++) {
      const cuts = Array.from({ length: 40 }, () => Math.floor(random() * body.length)).sort((a, b) => a - b);
      expect(scanSplit(body, cuts).text).toBe(whole);
    }
    expect(whole).toBe(TRICKY_NDJSON.repeat(50));
  });

  it('gives the same output when fed one byte at a time', () => {
    const input = Buffer.from(TRICKY, 'utf8');
    const cuts = Array.from({ length: input.length }, (_, i) => i);

    expect(scanSplit(input, cuts).text).toBe(TRICKY_NDJSON);
  });

  it('keeps string bytes exactly as sent, including escapes JSON.stringify would rewrite', () => {
    const text = '[{"s":"\\u0041\\/x \\" y"},"tab\\there"]';

    expect(scan(text).text).toBe('{"s":"\\u0041\\/x \\" y"}\n"tab\\there"\n');
  });

  it('removes whitespace outside strings from pretty-printed input', () => {
    const pretty = JSON.stringify([{ a: 1, b: [1, 2, { c: 'x y' }] }, { d: null }], null, 4);

    expect(scan(pretty).text).toBe('{"a":1,"b":[1,2,{"c":"x y"}]}\n{"d":null}\n');
  });

  it('turns an empty array into no lines and counts zero objects', () => {
    expect(scan('[]')).toEqual({ text: '', elements: 0 });
    expect(scan(' \n[ \r\n\t] \n')).toEqual({ text: '', elements: 0 });
  });

  it('handles deeply nested elements', () => {
    const deep = `[${'['.repeat(500)}1${']'.repeat(500)}]`;

    expect(scan(deep).text).toBe(`${'['.repeat(500)}1${']'.repeat(500)}\n`);
  });

  it('emits top-level scalars one per line', () => {
    expect(scan('[1, -0.5e-3 ,true,false , null,"x"]').text).toBe('1\n-0.5e-3\ntrue\nfalse\nnull\n"x"\n');
  });
});

describe('JsonArrayScanner (validation)', () => {
  const malformed: Array<[string, string]> = [
    ['an empty body', ''],
    ['only whitespace', '  \n '],
    ['an object instead of an array', '{"a":1}'],
    ['a truncated array', '[{"a":1},{"b":'],
    ['a truncated string', '["abc'],
    ['an unclosed nested array', '[[1,2]'],
    ['trailing garbage', '[1,2] x'],
    ['a second array', '[1][2]'],
    ['a missing comma', '[1 2]'],
    ['a trailing comma', '[1,2,]'],
    ['a leading comma', '[,1]'],
    ['mismatched brackets', '[{"a":1]]'],
    ['a missing colon', '[{"a" 1}]'],
    ['an unquoted key', '[{a:1}]'],
    ['a bad literal', '[tru]'],
    ['a bad number', '[01]'],
    ['a bad escape', '["\\x"]'],
    ['a short unicode escape', '["\\u12"]'],
    ['a raw control character in a string', '["a\u0001b"]'],
    ['a bare word', '[hello]'],
  ];

  for (const [what, text] of malformed) {
    it(`rejects ${what} with PceProtocolError`, () => {
      expect(() => scan(text)).toThrow(PceProtocolError);
      expect(() => scan(text, false)).toThrow(PceProtocolError);
    });
  }

  it('rejects nesting deeper than the limit', () => {
    expect(() => scan(`[${'['.repeat(MAX_DEPTH)}]`)).toThrow(/nesting deeper than 10000 levels/);
    expect(scan(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`).elements).toBe(1);
  });

  it('names the body and the byte offset in the error', () => {
    const scanner = new JsonArrayScanner({
      ndjson: false,
      describe: 'Datafile /orgs/1/datafiles/x',
      href: '/orgs/1/datafiles/x',
    });

    expect(() => scanner.write(Buffer.from('[1,2] x'))).toThrow(
      /^Datafile \/orgs\/1\/datafiles\/x is not one complete JSON array: .* at byte 6$/,
    );
  });

  it('counts the elements in raw mode without producing output', () => {
    const scanner = new JsonArrayScanner({ ndjson: false });

    expect(scanner.write(Buffer.from(TRICKY))).toBeUndefined();
    scanner.end();
    expect(scanner.elements).toBe(6);
    expect(scanner.complete).toBe(true);
  });
});

describe('JsonArrayTransform', () => {
  it('passes raw bytes through unchanged', async () => {
    const input = Buffer.from(TRICKY, 'utf8');

    const out = await transform('raw', [input.subarray(0, 17), input.subarray(17, 18), input.subarray(18)]);

    expect(out.equals(input)).toBe(true);
  });

  it('writes ndjson across chunk boundaries', async () => {
    const out = await transform('ndjson', ['[{"a":', '"x,y"}', ',  {"b":[1', ',2]}]']);

    expect(out.toString()).toBe('{"a":"x,y"}\n{"b":[1,2]}\n');
  });

  it('fails the stream with PceProtocolError when the body is cut off', async () => {
    await expect(transform('raw', ['[{"a":1},', '{"b"'])).rejects.toBeInstanceOf(PceProtocolError);
    await expect(transform('ndjson', [])).rejects.toThrow(/the body is empty/);
  });
});
