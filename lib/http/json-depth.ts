/**
 * How deeply a JSON request body may nest its arrays and objects. The deepest body any route accepts is
 * three levels (`{ items: [ { … } ] }`); 32 leaves room for schemas to grow, and keeps every recursive walk
 * of a parsed body (the NUL check, validation, JSON.stringify in logs and SQL) a few dozen frames deep,
 * where a 10,000-level body overflowed the stack and answered 500.
 */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether JSON text nests deeper than `max`, read off the raw text (brackets outside strings) in one pass
 * that neither recurses nor allocates, so that it can run before anything parses or walks the body. Text
 * that is not JSON gets an answer too; parsing it refuses it afterwards.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i++;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) inString = true;
    else if (ch === OPEN_ARRAY || ch === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (ch === CLOSE_ARRAY || ch === CLOSE_OBJECT) depth--;
  }
  return false;
}
