/**
 * A small, predictable prompt language: a short free-text prompt ("long thin crack near the left edge",
 * "two small blowholes at the top", "large fray in the centre", "a break in the bottom right corner")
 * becomes the conditions the model understands (class, and for the mask: count, size, shape, orientation,
 * placement). No language model: a fixed vocabulary, matched word by word (longest phrase first), so a
 * prompt always means the same thing and unknown words are reported, never guessed.
 *
 * Tokens: the prompt is lower-cased and split on anything that is not a letter or digit ("top-left" is
 * "top left", "defect-free" is "defect free"). Words match case-insensitively and singular/plural
 * ("cracks" = "crack", "scratches" = "scratch", "cavities" = "cavity").
 *
 * Vocabulary (promptVocabulary(classes) returns the same tables, for the UI's help):
 *   class        each class name of the model (so a user's own model gets prompts too: classes
 *                ["Scratch", "Dent"] understand "scratch", "scratches", "dent", "dents"; a name like
 *                "BrokenEdge" or "broken_edge" also matches "broken edge"), plus synonyms for the
 *                MagneticTile classes, used only when the class exists in the model:
 *                  Blowhole: blow hole, hole, pit, pore, pinhole, void, bubble
 *                  Break:    broken edge, broken, chip, chipped, chipping, breakage
 *                  Crack:    fracture, fissure, line, cracked
 *                  Fray:     frayed, fraying
 *                  Uneven:   bumpy, rough, unevenness, bump
 *                  Free:     clean, good, flawless, intact, defect free, no defect, without defect
 *                A class name always wins over a synonym (a model with a class "Line" gets "line" = Line).
 *                A plural class word without a count means two ("blowholes at the top" -> count 2).
 *   count        1..5: a, an, one, single (1); two, pair, couple (2); three, few, several, multiple (3);
 *                four, many (4); five (5); digits (clamped to 1..5 with a note). Default 1.
 *   size         small: small, tiny, little, minor, short, mini
 *                medium: medium, moderate, average, mid, normal-sized ("medium" is the default)
 *                large: large, big, huge, long, giant, major, massive, wide, extensive
 *   shape        thin: thin, narrow, hairline, hair line, fine, slim, slender
 *                round: round, circular, rounded, roundish, oval
 *   orientation  horizontal: horizontal, horizontally; vertical: vertical, vertically, upright;
 *                diagonal: diagonal, diagonally, slanted, oblique, angled
 *   placement    left, right, top, upper, bottom, lower, centre, center, middle, central, centred, centered;
 *                with edge, border, margin, side or corner the point moves closer to that edge
 *                ("near the left edge" -> x 0.12, y 0.5; "bottom right corner" -> 0.88, 0.88; "top" ->
 *                0.5, 0.25). The point is the shape's centre, relative to the window, in [0, 1].
 *   stop words   articles, prepositions and filler ("near", "the", "in", "at", "with", "please",
 *                "defect", "image", ...): accepted and ignored.
 * Anything else is an unknown word: it is listed in unknownWords, and a message tells the user why it was
 * ignored ("'rust' is not a class of this model; classes are ..." for words that look like nouns).
 */

export type PromptSize = 'small' | 'medium' | 'large';
export type PromptShape = 'thin' | 'round' | 'any';
export type PromptOrientation = 'horizontal' | 'vertical' | 'diagonal' | 'any';

export interface PromptConditions {
  /** One of the given classes, or null when the prompt names none (the caller keeps its current class). */
  className: string | null;
  /** Number of defect shapes, 1..5. */
  count: number;
  size: PromptSize;
  shape: PromptShape;
  orientation: PromptOrientation;
  /** Window-relative centre of the defect in [0, 1] (x right, y down), or null for anywhere. */
  placement: { x: number; y: number } | null;
  /** Words neither in the vocabulary nor stop words, lower-case, in prompt order, without repeats. */
  unknownWords: string[];
  /** User-facing notes (unknown words, no class named, several classes named, count clamped). */
  messages: string[];
}

export interface ParsePromptOptions {
  /** Named in the "no defect class named" message; the caller's currently selected class. */
  currentClass?: string;
}

export const MAX_PROMPT_COUNT = 5;

const NEAR = 0.25;
const FAR = 0.75;
const NEAR_EDGE = 0.12;
const FAR_EDGE = 0.88;

type Effect =
  | { kind: 'class'; className: string }
  | { kind: 'count'; value: number; weak?: boolean }
  | { kind: 'size'; value: PromptSize }
  | { kind: 'shape'; value: Exclude<PromptShape, 'any'> }
  | { kind: 'orientation'; value: Exclude<PromptOrientation, 'any'> }
  | { kind: 'place'; side: 'left' | 'right' | 'top' | 'bottom' | 'centre' }
  | { kind: 'edge' }
  | { kind: 'stop' };

interface Phrase {
  words: string[];
  effect: Effect;
}

/** Synonyms of the MagneticTile classes, keyed by lower-case class name; used only if the class exists. */
const CLASS_SYNONYMS: Record<string, string[]> = {
  blowhole: ['blow hole', 'hole', 'pit', 'pore', 'pinhole', 'void', 'bubble'],
  break: ['broken edge', 'broken', 'chip', 'chipped', 'chipping', 'breakage'],
  crack: ['fracture', 'fissure', 'line', 'cracked'],
  fray: ['frayed', 'fraying'],
  uneven: ['bumpy', 'rough', 'unevenness', 'bump'],
  free: ['clean', 'good', 'flawless', 'intact', 'defect free', 'no defect', 'without defect'],
};

const COUNT_WORDS: [string, number][] = [
  ['one', 1],
  ['single', 1],
  ['two', 2],
  ['pair', 2],
  ['couple', 2],
  ['three', 3],
  ['few', 3],
  ['several', 3],
  ['multiple', 3],
  ['four', 4],
  ['many', 4],
  ['five', 5],
];
const ARTICLES = ['a', 'an'];

const SIZE_WORDS: Record<PromptSize, string[]> = {
  small: ['small', 'tiny', 'little', 'minor', 'short', 'mini'],
  medium: ['medium', 'moderate', 'average', 'mid', 'normal sized', 'medium sized'],
  large: ['large', 'big', 'huge', 'long', 'giant', 'major', 'massive', 'wide', 'extensive'],
};
const SHAPE_WORDS: Record<'thin' | 'round', string[]> = {
  thin: ['thin', 'narrow', 'hairline', 'hair line', 'fine', 'slim', 'slender'],
  round: ['round', 'circular', 'rounded', 'roundish', 'oval'],
};
const ORIENTATION_WORDS: Record<'horizontal' | 'vertical' | 'diagonal', string[]> = {
  horizontal: ['horizontal', 'horizontally'],
  vertical: ['vertical', 'vertically', 'upright'],
  diagonal: ['diagonal', 'diagonally', 'slanted', 'oblique', 'angled'],
};
const PLACE_WORDS: Record<'left' | 'right' | 'top' | 'bottom' | 'centre', string[]> = {
  left: ['left'],
  right: ['right'],
  top: ['top', 'upper'],
  bottom: ['bottom', 'lower'],
  centre: ['centre', 'center', 'middle', 'central', 'centred', 'centered'],
};
const EDGE_WORDS = ['edge', 'border', 'margin', 'side', 'corner'];

const STOP_WORDS = [
  'the', 'at', 'in', 'on', 'of', 'to', 'near', 'nearby', 'close', 'by', 'with', 'and', 'or', 'its', 'it',
  'is', 'are', 'be', 'there', 'some', 'any', 'please', 'image', 'picture', 'photo', 'tile', 'surface',
  'sample', 'defect', 'flaw', 'area', 'region', 'part', 'towards', 'toward', 'along', 'across', 'from',
  'into', 'onto', 'around', 'about', 'somewhere', 'located', 'positioned', 'placed', 'place', 'put', 'add',
  'make', 'generate', 'create', 'draw', 'show', 'give', 'me', 'i', 'want', 'like', 'very', 'quite',
  'rather', 'slightly', 'bit', 'more', 'than', 'this', 'that', 'which', 'has', 'have', 'having', 'kind',
  'type', 'sort', 'shaped', 'shape', 'looking', 'running', 'going', 'spot', 'no', 'not', 'without',
  'over', 'under', 'through', 'for', 'just', 'only', 'also', 'each', 'other', 'another', 'sized', 'size',
];

/** Lower-case words of a text: letters and digits; everything else separates. camelCase is split too. */
function tokenize(text: string, splitCamel = false): string[] {
  const t = splitCamel ? text.replace(/([a-z0-9])([A-Z])/g, '$1 $2') : text;
  return t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The word and its possible singular forms ("holes" -> hole, "scratches" -> scratch, "cavities" -> cavity). */
function forms(word: string): string[] {
  const out = [word];
  const add = (f: string) => {
    if (f.length >= 3 && !out.includes(f)) out.push(f);
  };
  if (/^\p{L}+$/u.test(word)) {
    if (word.endsWith('ies')) add(word.slice(0, -3) + 'y');
    if (/(s|x|z|ch|sh)es$/.test(word)) add(word.slice(0, -2));
    if (word.endsWith('s') && !word.endsWith('ss')) add(word.slice(0, -1));
  }
  return out;
}

const formCache = new Map<string, string[]>();
/** forms() of a vocabulary word, cached (the vocabulary is small and fixed apart from class names). */
function formsOf(word: string): string[] {
  let f = formCache.get(word);
  if (!f) {
    if (formCache.size > 4096) formCache.clear();
    f = forms(word);
    formCache.set(word, f);
  }
  return f;
}

function sameWord(token: string, word: string): boolean {
  const a = forms(token);
  return forms(word).some((f) => a.includes(f));
}

function phrase(text: string, effect: Effect): Phrase {
  return { words: tokenize(text), effect };
}

/** Class phrases in priority order: class names first, then synonyms of existing classes. */
function classPhrases(classes: readonly string[]): { phrases: Phrase[]; synonyms: Map<string, string[]> } {
  const phrases: Phrase[] = [];
  const synonyms = new Map<string, string[]>();
  for (const c of classes) {
    const words = tokenize(c, true);
    if (words.length > 0) phrases.push({ words, effect: { kind: 'class', className: c } });
    const joined = words.join('');
    if (words.length > 1) phrases.push({ words: [joined], effect: { kind: 'class', className: c } });
  }
  const taken = (words: string[]) =>
    phrases.some((p) => p.words.length === words.length && p.words.every((w, i) => sameWord(words[i] as string, w)));
  for (const c of classes) {
    const list = CLASS_SYNONYMS[c.toLowerCase()];
    if (!list) continue;
    const used: string[] = [];
    for (const s of list) {
      const p = phrase(s, { kind: 'class', className: c });
      if (taken(p.words)) continue; // a class name wins over a synonym
      phrases.push(p);
      used.push(s);
    }
    synonyms.set(c, used);
  }
  return { phrases, synonyms };
}

function vocabularyPhrases(classes: readonly string[]): Phrase[] {
  const out = [...classPhrases(classes).phrases];
  for (const [w, n] of COUNT_WORDS) out.push(phrase(w, { kind: 'count', value: n }));
  for (const w of ARTICLES) out.push(phrase(w, { kind: 'count', value: 1, weak: true }));
  for (const [size, ws] of Object.entries(SIZE_WORDS) as [PromptSize, string[]][])
    for (const w of ws) out.push(phrase(w, { kind: 'size', value: size }));
  for (const [shape, ws] of Object.entries(SHAPE_WORDS) as ['thin' | 'round', string[]][])
    for (const w of ws) out.push(phrase(w, { kind: 'shape', value: shape }));
  for (const [o, ws] of Object.entries(ORIENTATION_WORDS) as ['horizontal' | 'vertical' | 'diagonal', string[]][])
    for (const w of ws) out.push(phrase(w, { kind: 'orientation', value: o }));
  for (const [side, ws] of Object.entries(PLACE_WORDS) as ['left' | 'right' | 'top' | 'bottom' | 'centre', string[]][])
    for (const w of ws) out.push(phrase(w, { kind: 'place', side }));
  for (const w of EDGE_WORDS) out.push(phrase(w, { kind: 'edge' }));
  for (const w of STOP_WORDS) out.push(phrase(w, { kind: 'stop' }));
  return out;
}

/** Adjective/adverb-like endings: such unknown words get a plain "not understood" note, not the class note. */
function looksLikeNoun(word: string): boolean {
  if (!/^\p{L}{3,}$/u.test(word)) return false;
  if (/(ly|ed|ing|ous|ful|ish|ive|less|able|ible|ic|al|ary)$/.test(word)) return false;
  if (/[^aeiou]y$/.test(word)) return false;
  return true;
}

export function parsePrompt(text: string, classes: readonly string[], opts: ParsePromptOptions = {}): PromptConditions {
  const tokens = tokenize(text);
  const tokenForms = tokens.map(forms);
  const phrases = vocabularyPhrases(classes);
  const named: string[] = [];
  let plural = false;
  let strongCount: number | null = null;
  let weakCount: number | null = null;
  let size: PromptSize = 'medium';
  let shape: PromptShape = 'any';
  let orientation: PromptOrientation = 'any';
  let x: 'left' | 'right' | null = null;
  let y: 'top' | 'bottom' | null = null;
  let centre = false;
  let edge = false;
  const unknown: string[] = [];
  const messages: string[] = [];

  for (let i = 0; i < tokens.length; ) {
    const tok = tokens[i] as string;
    if (/^\d+$/.test(tok)) {
      const n = Number(tok);
      const c = Math.min(MAX_PROMPT_COUNT, Math.max(1, n));
      if (c !== n) messages.push(`count ${n} is outside 1..${MAX_PROMPT_COUNT}: using ${c}`);
      strongCount ??= c;
      i++;
      continue;
    }
    let best: Phrase | null = null;
    const here = tokenForms.slice(i);
    for (const p of phrases) {
      if (best && p.words.length <= best.words.length) continue;
      if (p.words.length > here.length) continue;
      if (p.words.every((w, k) => formsOf(w).some((f) => (here[k] as string[]).includes(f)))) best = p;
    }
    if (!best) {
      if (!unknown.includes(tok)) unknown.push(tok);
      i++;
      continue;
    }
    const e = best.effect;
    switch (e.kind) {
      case 'class': {
        if (!named.includes(e.className)) named.push(e.className);
        const last = tokens[i + best.words.length - 1] as string;
        const word = best.words[best.words.length - 1] as string;
        if (last !== word && last.endsWith('s') && !word.endsWith('s')) plural = true;
        break;
      }
      case 'count':
        if (e.weak) weakCount ??= e.value;
        else strongCount ??= e.value;
        break;
      case 'size':
        size = e.value;
        break;
      case 'shape':
        shape = e.value;
        break;
      case 'orientation':
        orientation = e.value;
        break;
      case 'place':
        if (e.side === 'left' || e.side === 'right') x = e.side;
        else if (e.side === 'top' || e.side === 'bottom') y = e.side;
        else centre = true;
        break;
      case 'edge':
        edge = true;
        break;
      case 'stop':
        break;
    }
    i += best.words.length;
  }

  const className = named[0] ?? null;
  if (named.length > 1) messages.push(`several classes named (${named.join(', ')}): using ${className}`);
  const classList = classes.join(', ');
  const notUnderstood: string[] = [];
  for (const w of unknown) {
    if (looksLikeNoun(w)) messages.push(`'${w}' is not a class of this model; classes are ${classList}`);
    else notUnderstood.push(w);
  }
  if (notUnderstood.length > 0) messages.push(`not understood, ignored: ${notUnderstood.map((w) => `'${w}'`).join(', ')}`);
  if (className === null && tokens.length > 0)
    messages.push(`no defect class named: using ${opts.currentClass ?? 'the current class'}`);

  let placement: { x: number; y: number } | null = null;
  if (x !== null || y !== null || centre) {
    const near = edge ? NEAR_EDGE : NEAR;
    const far = edge ? FAR_EDGE : FAR;
    placement = { x: x === 'left' ? near : x === 'right' ? far : 0.5, y: y === 'top' ? near : y === 'bottom' ? far : 0.5 };
  }

  return {
    className,
    count: strongCount ?? weakCount ?? (plural ? 2 : 1),
    size,
    shape,
    orientation,
    placement,
    unknownWords: unknown,
    messages,
  };
}

/**
 * The documented vocabulary for `classes`, for a help panel: one entry per class ("class Crack": its name,
 * plural and the synonyms that apply), then count, size, shape, orientation, placement and stop words.
 */
export function promptVocabulary(classes: readonly string[]): { category: string; words: string[] }[] {
  const { synonyms } = classPhrases(classes);
  const out: { category: string; words: string[] }[] = [];
  for (const c of classes) {
    const name = tokenize(c, true).join(' ');
    const plural = /(s|x|z|ch|sh)$/.test(name) ? `${name}es` : /[^aeiou]y$/.test(name) ? `${name.slice(0, -1)}ies` : `${name}s`;
    out.push({ category: `class ${c}`, words: [name, plural, ...(synonyms.get(c) ?? [])] });
  }
  out.push({ category: 'count', words: [...ARTICLES, ...COUNT_WORDS.map(([w]) => w), `digits 1-${MAX_PROMPT_COUNT}`] });
  for (const [size, ws] of Object.entries(SIZE_WORDS)) out.push({ category: `size ${size}`, words: [...ws] });
  for (const [shape, ws] of Object.entries(SHAPE_WORDS)) out.push({ category: `shape ${shape}`, words: [...ws] });
  for (const [o, ws] of Object.entries(ORIENTATION_WORDS)) out.push({ category: `orientation ${o}`, words: [...ws] });
  out.push({ category: 'placement', words: [...Object.values(PLACE_WORDS).flat(), ...EDGE_WORDS] });
  out.push({ category: 'stop words', words: [...STOP_WORDS] });
  return out;
}
