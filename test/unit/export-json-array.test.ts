import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { JsonArrayScanner, MAX_DEPTH } from '../../lambdas/export/json-array';
import { JsonArrayTransform } from '../../lambdas/export/json-array-transform';
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

describe('JsonArrayScanner (chunk boundaries on the fast paths)', () => {
  /** Scans `text` cut at every byte position (and one byte at a time), in both modes; returns the outcomes. */
  function everyCut(text: string): { texts: Set<string>; counts: Set<number>; errors: number } {
    const input = Buffer.from(text, 'utf8');
    const texts = new Set<string>();
    const counts = new Set<number>();
    let errors = 0;
    const splits = [
      ...Array.from({ length: input.length + 1 }, (_, cut) => [cut]),
      Array.from({ length: input.length }, (_, i) => i),
    ];
    for (const cuts of splits) {
      for (const ndjson of [true, false]) {
        try {
          const result = scanSplit(input, cuts, ndjson);
          if (ndjson) texts.add(result.text);
          counts.add(result.elements);
        } catch (error) {
          expect(error).toBeInstanceOf(PceProtocolError);
          errors++;
        }
      }
    }
    return { texts, counts, errors };
  }

  it('keeps escaped quotes and backslashes inside strings wherever the chunks are cut', () => {
    const text = String.raw`["\"", "\\", "a\\\"b", "\\\\\"", {"k\"ey\\": "v\\\"\\"}, "end\\"]`;

    const { texts, counts, errors } = everyCut(text);

    expect(errors).toBe(0);
    expect([...counts]).toEqual([6]);
    expect([...texts]).toEqual([reference(text)]);
  });

  it('copies multi-byte UTF-8 split across chunks byte for byte', () => {
    const text = '["é—😀", {"名前": "ünïcødé 😀😀", "k": ["𝄞", "ß"]}, "€"]';

    const { texts, counts, errors } = everyCut(text);

    expect(errors).toBe(0);
    expect([...counts]).toEqual([3]);
    expect([...texts]).toEqual([reference(text)]);
  });

  it('counts only the brackets and commas outside strings', () => {
    const text = '["]", "[", "}{", "]]]", ",", {"a]": "[,"}, ["]", "}"]]';

    const { texts, counts, errors } = everyCut(text);

    expect(errors).toBe(0);
    expect([...counts]).toEqual([7]);
    expect([...texts]).toEqual([reference(text)]);
  });

  it('reads numbers and literals cut by a chunk boundary', () => {
    const text = '[true,false,null,-12.5e+3,0,1E-7,123456789,{"t":true,"n":[null,-0.0]}]';

    const { texts, counts, errors } = everyCut(text);

    expect(errors).toBe(0);
    expect([...counts]).toEqual([8]);
    expect([...texts]).toEqual([
      'true\nfalse\nnull\n-12.5e+3\n0\n1E-7\n123456789\n{"t":true,"n":[null,-0.0]}\n',
    ]);
  });

  it('handles nesting near the limit across chunks', () => {
    const depth = MAX_DEPTH - 1;
    const text = `[${'[{"a":'.repeat(depth / 2 - 1)}"]"${'}]'.repeat(depth / 2 - 1)},1]`;
    const input = Buffer.from(text);

    const result = scanSplit(input, [7, 4096, 4097, input.length - 3]);

    expect(result.elements).toBe(2);
    expect(result.text).toBe(`${text.slice(1, -3)}\n1\n`);
  });

  it('rejects every truncation of a valid body', () => {
    const text = String.raw`[{"a":"x\"]","b":[1,-2.5e3,true,null,{}],"c":"\u00e9"},"s",7]`;
    const input = Buffer.from(text);

    for (let length = 0; length < input.length; length++) {
      for (const ndjson of [true, false]) {
        expect(
          () => scanSplit(input.subarray(0, length), [Math.floor(length / 2)], ndjson),
          `${length} bytes`,
        ).toThrow(PceProtocolError);
      }
    }
    expect(scanSplit(input, []).elements).toBe(3);
  });

  const malformedAcrossCuts: Array<[string, string]> = [
    ['a bad escape', '["ab\\x"]'],
    ['a bad unicode escape', '["\\u00g9"]'],
    ['a control character in a string', '["ab\u0001cd"]'],
    ['a tab in a string', '["ab\tcd"]'],
    ['a newline in a string', '["ab\ncd"]'],
    ['a literal with a letter too many', '[truex]'],
    ['a literal cut short', '[nul]'],
    ['a number with two points', '[1.2.3]'],
    ['a number with a leading zero', '[012]'],
    ['a number without digits after the point', '[1.]'],
    ['a number without exponent digits', '[1e+]'],
    ['a lone minus', '[-]'],
    ['an unterminated string before the closer', '["abc]'],
  ];
  for (const [what, text] of malformedAcrossCuts) {
    it(`rejects ${what} wherever the chunks are cut`, () => {
      const { counts, errors } = everyCut(text);

      expect(counts.size).toBe(0);
      expect(errors).toBe(2 * (Buffer.byteLength(text) + 2));
    });
  }

  it('rejects a number or literal longer than the limit, in one chunk or cut', () => {
    const long = `[${'1'.repeat(600)}]`;

    expect(() => scan(long, false)).toThrow(/too long/);
    expect(() => scanSplit(Buffer.from(long), [300], false)).toThrow(/too long/);
    expect(scan(`[${'1'.repeat(500)}]`, false).elements).toBe(1);
  });

  it('allows whitespace between tokens but not inside them', () => {
    expect(scan('[ {\t"a" :\r\n1 } ,\n"b" ]').text).toBe('{"a":1}\n"b"\n');
    expect(() => scan('[tr ue]')).toThrow(PceProtocolError);
    expect(() => scan('[1 2]')).toThrow(PceProtocolError);
  });
});
