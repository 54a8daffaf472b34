import { describe, expect, it } from 'vitest';
import { parsePrompt, promptVocabulary } from './prompt';

const MAGTILE = ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free'];
const CLASS_LIST = 'Blowhole, Break, Crack, Fray, Uneven, Free';

describe('parsePrompt', () => {
  it('understands the documented example prompts', () => {
    expect(parsePrompt('long thin crack near the left edge', MAGTILE)).toEqual({
      className: 'Crack',
      count: 1,
      size: 'large',
      shape: 'thin',
      orientation: 'any',
      placement: { x: 0.12, y: 0.5 },
      unknownWords: [],
      messages: [],
    });
    expect(parsePrompt('two small blowholes at the top', MAGTILE)).toMatchObject({
      className: 'Blowhole',
      count: 2,
      size: 'small',
      shape: 'any',
      placement: { x: 0.5, y: 0.25 },
      unknownWords: [],
      messages: [],
    });
    expect(parsePrompt('large fray in the centre', MAGTILE)).toMatchObject({
      className: 'Fray',
      count: 1,
      size: 'large',
      placement: { x: 0.5, y: 0.5 },
      messages: [],
    });
    expect(parsePrompt('a break in the bottom right corner', MAGTILE)).toMatchObject({
      className: 'Break',
      count: 1,
      size: 'medium',
      placement: { x: 0.88, y: 0.88 },
      messages: [],
    });
  });

  it('reads counts, sizes, shapes, orientations and placements', () => {
    const p = (t: string) => parsePrompt(t, MAGTILE);
    expect(p('3 horizontal hairline fractures')).toMatchObject({ className: 'Crack', count: 3, shape: 'thin', orientation: 'horizontal' });
    expect(p('several tiny round pores')).toMatchObject({ className: 'Blowhole', count: 3, size: 'small', shape: 'round' });
    expect(p('a few pits top-left')).toMatchObject({ className: 'Blowhole', count: 3, placement: { x: 0.25, y: 0.25 } });
    expect(p('one big vertical crack on the right side')).toMatchObject({ count: 1, size: 'large', orientation: 'vertical', placement: { x: 0.88, y: 0.5 } });
    expect(p('diagonal crack in the lower left')).toMatchObject({ orientation: 'diagonal', placement: { x: 0.25, y: 0.75 } });
    expect(p('crack in the middle')).toMatchObject({ placement: { x: 0.5, y: 0.5 } });
    expect(p('crack at the center')).toMatchObject({ placement: { x: 0.5, y: 0.5 } });
    expect(p('crack')).toMatchObject({ count: 1, size: 'medium', shape: 'any', orientation: 'any', placement: null });
    expect(p('a couple of chips')).toMatchObject({ className: 'Break', count: 2 });
    expect(p('broken edge at the bottom')).toMatchObject({ className: 'Break', placement: { x: 0.5, y: 0.75 } });
    expect(p('frayed border')).toMatchObject({ className: 'Fray' });
    expect(p('bumpy surface')).toMatchObject({ className: 'Uneven', messages: [] });
    expect(p('a clean defect-free tile')).toMatchObject({ className: 'Free', messages: [] });
    expect(p('no defects')).toMatchObject({ className: 'Free' });
  });

  it('matches case-insensitively and singular/plural; a plural class word without a count means two', () => {
    expect(parsePrompt('CRACK', MAGTILE).className).toBe('Crack');
    expect(parsePrompt('Blowholes!', MAGTILE)).toMatchObject({ className: 'Blowhole', count: 2 });
    expect(parsePrompt('holes', MAGTILE)).toMatchObject({ className: 'Blowhole', count: 2 });
    expect(parsePrompt('four Cracks', MAGTILE)).toMatchObject({ className: 'Crack', count: 4 });
    expect(parsePrompt('a Fray', MAGTILE)).toMatchObject({ className: 'Fray', count: 1 });
  });

  it('clamps counts to 1..5 with a note', () => {
    const r = parsePrompt('9 holes', MAGTILE);
    expect(r.count).toBe(5);
    expect(r.messages).toEqual(['count 9 is outside 1..5: using 5']);
    expect(parsePrompt('0 cracks', MAGTILE).count).toBe(1);
  });

  it('reports unknown words, naming the classes for noun-like ones', () => {
    const r = parsePrompt('rust on the left', MAGTILE, { currentClass: 'Crack' });
    expect(r.className).toBeNull();
    expect(r.unknownWords).toEqual(['rust']);
    expect(r.placement).toEqual({ x: 0.25, y: 0.5 });
    expect(r.messages).toEqual([`'rust' is not a class of this model; classes are ${CLASS_LIST}`, 'no defect class named: using Crack']);
    const s = parsePrompt('shiny crack', MAGTILE);
    expect(s.className).toBe('Crack');
    expect(s.unknownWords).toEqual(['shiny']);
    expect(s.messages).toEqual(["not understood, ignored: 'shiny'"]);
    expect(parsePrompt('dent', MAGTILE).messages[0]).toContain("'dent' is not a class");
  });

  it('notes when no class or several classes are named', () => {
    expect(parsePrompt('small one at the top', MAGTILE).messages).toEqual(['no defect class named: using the current class']);
    const r = parsePrompt('crack and blowhole', MAGTILE);
    expect(r.className).toBe('Crack');
    expect(r.messages).toEqual(['several classes named (Crack, Blowhole): using Crack']);
  });

  it('an empty prompt gives the defaults and no notes', () => {
    for (const t of ['', '   ', '!?']) {
      expect(parsePrompt(t, MAGTILE)).toEqual({
        className: null,
        count: 1,
        size: 'medium',
        shape: 'any',
        orientation: 'any',
        placement: null,
        unknownWords: [],
        messages: [],
      });
    }
  });

  it("a user's model gets prompts for its own class names, and no MagneticTile synonyms", () => {
    const user = ['Scratch', 'Dent'];
    expect(parsePrompt('two long scratches on the right', user)).toMatchObject({
      className: 'Scratch',
      count: 2,
      size: 'large',
      placement: { x: 0.75, y: 0.5 },
      unknownWords: [],
      messages: [],
    });
    expect(parsePrompt('small dent in the top left corner', user)).toMatchObject({ className: 'Dent', size: 'small', placement: { x: 0.12, y: 0.12 } });
    const r = parsePrompt('crack', user);
    expect(r.className).toBeNull();
    expect(r.unknownWords).toEqual(['crack']);
    expect(r.messages[0]).toBe("'crack' is not a class of this model; classes are Scratch, Dent");
    // multi-word and camelCase class names
    expect(parsePrompt('broken edges', ['BrokenEdge', 'Line'])).toMatchObject({ className: 'BrokenEdge', count: 2 });
    expect(parsePrompt('a line', ['Crack', 'Line']).className).toBe('Line'); // a class name wins over a synonym
  });
});

describe('promptVocabulary', () => {
  it('derives the class words from the class list', () => {
    const v = promptVocabulary(['Scratch', 'Dent']);
    expect(v[0]).toEqual({ category: 'class Scratch', words: ['scratch', 'scratches'] });
    expect(v[1]).toEqual({ category: 'class Dent', words: ['dent', 'dents'] });
    const cats = v.map((e) => e.category);
    expect(cats).toEqual(expect.arrayContaining(['count', 'size small', 'size large', 'shape thin', 'orientation horizontal', 'placement']));
    const m = promptVocabulary(MAGTILE);
    expect(m.find((e) => e.category === 'class Blowhole')?.words).toEqual(expect.arrayContaining(['blowhole', 'hole', 'pit', 'pore']));
    expect(m.find((e) => e.category === 'class Free')?.words).toEqual(expect.arrayContaining(['clean', 'good', 'defect free']));
  });

  it('every documented word parses to its category', () => {
    for (const { category, words } of promptVocabulary(MAGTILE)) {
      for (const w of words) {
        if (w.startsWith('digits')) continue;
        const r = parsePrompt(w, MAGTILE);
        expect(r.unknownWords, `${category}: ${w}`).toEqual([]);
        const [kind, value] = category.split(' ');
        if (kind === 'class') expect(r.className, w).toBe(value);
        if (kind === 'size') expect(r.size, w).toBe(value);
        if (kind === 'shape') expect(r.shape, w).toBe(value);
        if (kind === 'orientation') expect(r.orientation, w).toBe(value);
      }
    }
  });
});
