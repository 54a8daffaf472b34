/**
 * Marks a generated PNG as made by a trained model: an XMP packet (ISO 16684-1) in an uncompressed iTXt chunk with
 * the keyword "XML:com.adobe.xmp" (where the XMP specification, part 3, puts XMP in PNG), carrying the IPTC
 * Digital Source Type "trainedAlgorithmicMedia" (IPTC Photo Metadata Standard, Iptc4xmpExt:DigitalSourceType;
 * https://cv.iptc.org/newscodes/digitalsourcetype/). The chunk goes before the first IDAT, as readers that stop at
 * the image data expect; the generation parameters stay in the tEXt chunks the encoder writes. The packet holds
 * no date or id, so the same image gives the same bytes.
 */
import { strFromU8, strToU8 } from 'fflate';
import { StudioError } from '../errors';

export const XMP_KEYWORD = 'XML:com.adobe.xmp';
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** The XMP packet written into every generated PNG. */
export const GENERATED_XMP = [
  '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
  '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
  ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
  '  <rdf:Description rdf:about=""',
  '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
  '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
  `    Iptc4xmpExt:DigitalSourceType="${TRAINED_ALGORITHMIC_MEDIA}"`,
  '    xmp:CreatorTool="Defect Diffusion Studio"/>',
  ' </rdf:RDF>',
  '</x:xmpmeta>',
  '<?xpacket end="r"?>',
].join('\n');

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as PNG computes it (ISO 3309, over chunk type and data). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface PngChunk {
  type: string;
  /** offset of the chunk's length field in the file */
  offset: number;
  data: Uint8Array;
  crcOk: boolean;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The chunks of a PNG file in order, each with whether its CRC is right. */
export function pngChunks(png: Uint8Array): PngChunk[] {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new StudioError('badRequest', 'not a PNG file (no PNG signature); accepted: PNG images');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at + 12 <= png.length) {
    const len = view.getUint32(at);
    if (at + 12 + len > png.length) throw new StudioError('badRequest', `PNG chunk at byte ${at} runs past the end of the file`);
    const typeAndData = png.subarray(at + 4, at + 8 + len);
    const type = String.fromCharCode(...typeAndData.subarray(0, 4));
    chunks.push({ type, offset: at, data: typeAndData.subarray(4), crcOk: crc32(typeAndData) === view.getUint32(at + 8 + len) });
    at += 12 + len;
    if (type === 'IEND') break;
  }
  return chunks;
}

/** An uncompressed iTXt chunk's data: keyword, NUL, flag 0, method 0, empty language tag and translated keyword, UTF-8 text. */
function iTXtData(keyword: string, text: string): Uint8Array {
  const head = new Uint8Array(keyword.length + 5);
  for (let i = 0; i < keyword.length; i++) head[i] = keyword.charCodeAt(i);
  // head[keyword.length] = 0 (end of keyword), then compression flag 0, compression method 0, '' NUL, '' NUL
  const body = strToU8(text);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The PNG with an iTXt XMP chunk (the packet given, by default GENERATED_XMP) inserted before its first IDAT. */
export function withXmp(png: Uint8Array, xmp: string = GENERATED_XMP): Uint8Array {
  const chunks = pngChunks(png);
  if (chunks.some((c) => c.type === 'iTXt' && readITXt(c.data)?.keyword === XMP_KEYWORD)) throw new StudioError('badRequest', 'the PNG already carries an XMP packet');
  const idat = chunks.find((c) => c.type === 'IDAT');
  if (!idat) throw new StudioError('badRequest', 'the PNG has no IDAT chunk');
  const add = chunk('iTXt', iTXtData(XMP_KEYWORD, xmp));
  const out = new Uint8Array(png.length + add.length);
  out.set(png.subarray(0, idat.offset));
  out.set(add, idat.offset);
  out.set(png.subarray(idat.offset), idat.offset + add.length);
  return out;
}

/** An iTXt chunk's keyword and text (null if it is compressed or malformed). */
export function readITXt(data: Uint8Array): { keyword: string; text: string } | null {
  const k = data.indexOf(0);
  if (k < 1 || data.length < k + 5 || data[k + 1] !== 0) return null;
  const lang = data.indexOf(0, k + 3);
  const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
  if (translated < 0) return null;
  return { keyword: String.fromCharCode(...data.subarray(0, k)), text: strFromU8(data.subarray(translated + 1)) };
}

/** The XMP packet of a PNG, or null when it has none. */
export function pngXmp(png: Uint8Array): string | null {
  for (const c of pngChunks(png)) {
    if (c.type !== 'iTXt') continue;
    const t = readITXt(c.data);
    if (t?.keyword === XMP_KEYWORD) return t.text;
  }
  return null;
}
