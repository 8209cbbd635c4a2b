import { describe, expect, it } from 'vitest';
import { MetadataTable } from './metadata-table.js';

function encode(list: unknown[]): { shapes: string[][]; uses: number[]; values: unknown[]; header: number[] } {
  const table = new MetadataTable();
  const header: number[] = [];
  for (const metadata of list) table.add(metadata, header);
  return { shapes: table.shapes, uses: table.uses, values: table.values, header };
}

describe('MetadataTable', () => {
  it('sends each list of keys once and a value repeated by the same key once', () => {
    const { shapes, uses, values, header } = encode([
      { topic: 'a', integration: 'mqtt' },
      { topic: 'b', integration: 'mqtt' },
      { other: 'mqtt' },
      { topic: 'b', integration: 'mqtt' },
    ]);
    expect(shapes).toEqual([['topic', 'integration'], ['other']]);
    expect(uses).toEqual([3, 1]);
    expect(values).toEqual(['a', 'mqtt', 'b', 'mqtt', 'b', 'mqtt']);
    expect(header).toEqual([0, 0, 1, 0, 2, 1, 1, 3, 0, 4, 5]);
  });

  it('sends metadata that is not a plain map of strings whole, for JSON to make of it what it did before', () => {
    class Custom {
      a = 'x';
    }
    const odd = [{ n: 1 }, { a: 'x', u: undefined }, new Custom(), 'text', [1]];
    const { uses, values, header } = encode(odd);
    expect(uses.every((n) => n === 0)).toBe(true);
    expect(header.filter((_, i) => i % 2 === 0)).toEqual([-1, -1, -1, -1, -1]);
    // Each entry points at the very object (a string value read before the `undefined` stays
    // in the table unused).
    expect(header.filter((_, i) => i % 2 === 1).map((i) => values[i])).toEqual(odd);
    header
      .filter((_, i) => i % 2 === 1)
      .forEach((index, k) => {
        expect(values[index]).toBe(odd[k]);
      });
  });

  it('keeps key order and odd keys as they are', () => {
    const metadata = JSON.parse('{"__proto__":"p","2":"two","":"empty","\\u2028":"ls"}') as Record<string, string>;
    const { shapes, values } = encode([metadata, Object.assign(Object.create(null) as object, { k: 'v' })]);
    expect(shapes).toEqual([Object.keys(metadata), ['k']]);
    expect(values).toEqual(['two', 'p', 'empty', 'ls', 'v']);
  });
});
