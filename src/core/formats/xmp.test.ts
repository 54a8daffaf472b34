import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeToGray, encodeGeneratedPng, encodeGrayPng } from './image';
import { GENERATED_XMP, pngChunks, pngXmp, readITXt, TRAINED_ALGORITHMIC_MEDIA, withXmp, XMP_KEYWORD } from './xmp';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

/**
 * A small XML well-formedness check (enough for an XMP packet): processing instructions, elements with quoted,
 * unique attributes, matched end tags, one root, entities limited to the five predefined ones and character
 * references, and every prefix declared by an xmlns attribute in scope. Throws with the byte offset on a fault.
 */
function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`XML not well-formed at ${i}: ${why}`);
  };
  const NAME = /[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/y;
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) fail('expected a name');
    i += (m as RegExpExecArray)[0].length;
    return (m as RegExpExecArray)[0];
  };
  const ws = () => {
    while (/\s/.test(src[i] ?? '')) i++;
  };
  const checkText = (t: string) => {
    if (/[<]/.test(t)) fail('"<" in text or attribute');
    for (const m of t.matchAll(/&([^;]*);?/g)) if (!/^&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(m[0])) fail(`bad entity ${m[0]}`);
  };
  const stack: { el: XmlElement; ns: Set<string> }[] = [];
  let root: XmlElement | null = null;
  while (i < src.length) {
    if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
    } else if (src.startsWith('</', i)) {
      i += 2;
      const n = name();
      ws();
      if (src[i] !== '>') fail('expected > after end tag');
      i++;
      const open = stack.pop();
      if (!open || open.el.name !== n) fail(`end tag </${n}> does not match <${open?.el.name}>`);
    } else if (src[i] === '<') {
      i++;
      const el: XmlElement = { name: name(), attrs: {}, children: [] };
      const ns = new Set(stack.at(-1)?.ns ?? ['xml']);
      for (;;) {
        ws();
        if (src[i] === '>' || src.startsWith('/>', i)) break;
        const a = name();
        ws();
        if (src[i] !== '=') fail(`attribute ${a} has no value`);
        i++;
        ws();
        const q = src[i];
        if (q !== '"' && q !== "'") fail(`attribute ${a} is not quoted`);
        const end = src.indexOf(q as string, i + 1);
        if (end < 0) fail('unterminated attribute value');
        const v = src.slice(i + 1, end);
        checkText(v);
        if (a in el.attrs) fail(`attribute ${a} twice`);
        el.attrs[a] = v;
        i = end + 1;
        if (a.startsWith('xmlns:')) ns.add(a.slice(6));
      }
      for (const n of [el.name, ...Object.keys(el.attrs)]) {
        const prefix = n.includes(':') ? n.split(':')[0] : null;
        if (prefix && prefix !== 'xmlns' && !ns.has(prefix)) fail(`prefix ${prefix} of ${n} is not declared`);
      }
      const parent = stack.at(-1);
      if (parent) parent.el.children.push(el);
      else if (root) fail('a second root element');
      else root = el;
      if (src.startsWith('/>', i)) i += 2;
      else {
        i++;
        stack.push({ el, ns });
      }
    } else {
      const end = src.indexOf('<', i);
      const text = src.slice(i, end < 0 ? src.length : end);
      if (!stack.length && text.replace(/^\uFEFF/, '').trim()) fail('text outside the root element');
      checkText(text);
      i = end < 0 ? src.length : end;
    }
  }
  if (stack.length) fail(`<${stack.at(-1)?.el.name}> is not closed`);
  if (!root) fail('no root element');
  return root as XmlElement;
}

const px = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 256);
const text = { Software: 'Defect Diffusion Studio', 'dds:params': JSON.stringify({ seed: 3 }) };

describe('XMP marking of generated PNGs', () => {
  const png = encodeGeneratedPng(px, 7, 5, text);

  it('carries an uncompressed iTXt XML:com.adobe.xmp chunk before IDAT, CRC right, beside the tEXt parameters', () => {
    const chunks = pngChunks(png);
    const types = chunks.map((c) => c.type);
    const xmp = types.indexOf('iTXt');
    expect(xmp).toBeGreaterThan(0);
    expect(xmp).toBeLessThan(types.indexOf('IDAT'));
    expect(types.filter((t) => t === 'tEXt')).toHaveLength(2);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    // the CRC checked against an independent implementation (zlib's) too
    const c = chunks[xmp] as (typeof chunks)[number];
    const view = new DataView(png.buffer, png.byteOffset);
    const typeAndData = png.subarray(c.offset + 4, c.offset + 8 + c.data.length);
    expect(view.getUint32(c.offset + 8 + c.data.length)).toBe(zlibCrc32(typeAndData));
    // keyword, NUL, compression flag 0 (uncompressed), method 0, empty language tag and translated keyword
    expect(Array.from(c.data.subarray(0, XMP_KEYWORD.length + 5))).toEqual([...Array.from(XMP_KEYWORD, (ch) => ch.charCodeAt(0)), 0, 0, 0, 0, 0]);
    expect(readITXt(c.data)).toEqual({ keyword: XMP_KEYWORD, text: GENERATED_XMP });
  });

  it('the XMP is well-formed XML whose rdf:Description says DigitalSourceType trainedAlgorithmicMedia', () => {
    const xml = pngXmp(png) as string;
    const root = parseXml(xml);
    expect(root.name).toBe('x:xmpmeta');
    const desc = root.children[0]?.children[0] as XmlElement;
    expect(desc.name).toBe('rdf:Description');
    expect(root.children[0]?.attrs['xmlns:rdf']).toBe('http://www.w3.org/1999/02/22-rdf-syntax-ns#');
    expect(desc.attrs['xmlns:Iptc4xmpExt']).toBe('http://iptc.org/std/Iptc4xmpExt/2008-02-29/');
    expect(desc.attrs['Iptc4xmpExt:DigitalSourceType']).toBe(TRAINED_ALGORITHMIC_MEDIA);
    expect(TRAINED_ALGORITHMIC_MEDIA).toBe('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
    // the checker is not a rubber stamp
    expect(() => parseXml('<a><b></a>')).toThrow(/does not match/);
    expect(() => parseXml('<a x=1/>')).toThrow(/not quoted/);
    expect(() => parseXml('<p:a/>')).toThrow(/not declared/);
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(/bad entity/);
  });

  it('decodes to the same pixels and parameters; the same input gives the same bytes', () => {
    const g = decodeToGray(png);
    expect([g.width, g.height]).toEqual([7, 5]);
    expect(Array.from(g.pixels)).toEqual(Array.from(px));
    expect(g.text).toMatchObject(text);
    expect(Buffer.from(encodeGeneratedPng(px, 7, 5, text)).equals(Buffer.from(png))).toBe(true);
    // exactly the plain PNG plus one chunk
    const plain = encodeGrayPng(px, 7, 5, text);
    expect(png.length - plain.length).toBe(12 + XMP_KEYWORD.length + 5 + new TextEncoder().encode(GENERATED_XMP).length);
    expect(pngXmp(plain)).toBeNull();
  });

  it('refuses a second XMP packet and a file that is not a PNG', () => {
    expect(() => withXmp(png)).toThrow(/already carries an XMP packet/);
    expect(() => withXmp(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG file.*accepted: PNG images/);
  });
});
