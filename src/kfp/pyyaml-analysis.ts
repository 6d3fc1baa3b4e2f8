/**
 * What PyYAML's emitter learns of a scalar before it picks a style (`analyze_scalar`): which
 * indicators and spaces it holds, and so which of plain, single-quoted and block styles it allows.
 */

export interface Analysis {
  scalar: string;
  empty: boolean;
  multiline: boolean;
  allowFlowPlain: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
  allowBlock: boolean;
}

export const BREAKS = '\n\x85\u2028\u2029';
const SPACE_OR_BREAK = '\0 \t\r\n\x85\u2028\u2029';

export function analyze(scalar: string): Analysis {
  if (!scalar) return { scalar, empty: true, multiline: false, allowFlowPlain: false, allowBlockPlain: true, allowSingleQuoted: true, allowBlock: false };
  const chars = Array.from(scalar);
  const { blockIndicators, flowIndicators } = indicators(scalar, chars);
  const s = spacing(chars);
  let allowFlowPlain = true;
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  let allowBlock = true;
  if (s.leadingSpace || s.leadingBreak || s.trailingSpace || s.trailingBreak) allowFlowPlain = allowBlockPlain = false;
  if (s.trailingSpace) allowBlock = false;
  if (s.breakSpace) allowFlowPlain = allowBlockPlain = allowSingleQuoted = false;
  if (s.spaceBreak || s.special) allowFlowPlain = allowBlockPlain = allowSingleQuoted = allowBlock = false;
  if (s.lineBreaks) allowFlowPlain = allowBlockPlain = false;
  if (flowIndicators) allowFlowPlain = false;
  if (blockIndicators) allowBlockPlain = false;
  return { scalar, empty: false, multiline: s.lineBreaks, allowFlowPlain, allowBlockPlain, allowSingleQuoted, allowBlock };
}

/** The indicators that keep a scalar from being plain, in flow or block context. */
function indicators(scalar: string, chars: string[]): { blockIndicators: boolean; flowIndicators: boolean } {
  let blockIndicators = false;
  let flowIndicators = false;
  if (scalar.startsWith('---') || scalar.startsWith('...')) blockIndicators = flowIndicators = true;
  let precededByWhitespace = true;
  let followedByWhitespace = chars.length === 1 || SPACE_OR_BREAK.includes(chars[1]!);
  for (let index = 0; index < chars.length; index++) {
    const ch = chars[index]!;
    if (index === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) flowIndicators = blockIndicators = true;
      if ('?:'.includes(ch)) {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (ch === '-' && followedByWhitespace) flowIndicators = blockIndicators = true;
    } else {
      if (',?[]{}'.includes(ch)) flowIndicators = true;
      if (ch === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (ch === '#' && precededByWhitespace) flowIndicators = blockIndicators = true;
    }
    precededByWhitespace = SPACE_OR_BREAK.includes(ch);
    followedByWhitespace = index + 2 >= chars.length || SPACE_OR_BREAK.includes(chars[index + 2]!);
  }
  return { blockIndicators, flowIndicators };
}

/** Line breaks, special characters, and spaces and breaks at the ends or next to each other. */
function spacing(chars: string[]) {
  const s = {
    lineBreaks: false,
    special: false,
    leadingSpace: false,
    leadingBreak: false,
    trailingSpace: false,
    trailingBreak: false,
    breakSpace: false,
    spaceBreak: false,
  };
  let previousSpace = false;
  let previousBreak = false;
  for (let index = 0; index < chars.length; index++) {
    const ch = chars[index]!;
    if (BREAKS.includes(ch)) s.lineBreaks = true;
    const cp = ch.codePointAt(0)!;
    // Without allow_unicode every character outside printable ASCII is special (double-quoted, escaped).
    if (!(ch === '\n' || (cp >= 0x20 && cp <= 0x7e))) s.special = true;
    if (ch === ' ') {
      if (index === 0) s.leadingSpace = true;
      if (index === chars.length - 1) s.trailingSpace = true;
      if (previousBreak) s.breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (index === 0) s.leadingBreak = true;
      if (index === chars.length - 1) s.trailingBreak = true;
      if (previousSpace) s.spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
  }
  return s;
}
