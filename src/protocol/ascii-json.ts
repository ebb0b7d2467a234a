// JSON as Mesos streams it inside RecordIO: one line of pure ASCII. JSON.stringify already
// writes no whitespace and escapes control characters (so no raw newline can appear); this
// also escapes every code unit above 0x7e as \uXXXX, so the record's byte length equals its
// string length and a reader that splits on bytes never cuts a character in half.

const nonAscii = /[\u007f-\uffff]/g;
/** Not global: `test` keeps no position between calls. */
const anyNonAscii = /[\u007f-\uffff]/;

function escapeCodeUnit(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `value` must be a JSON object or array (a record is never a bare scalar). */
export function asciiJson(value: object): string {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') throw new TypeError('asciiJson: the value has no JSON form');
  return asciiText(text);
}

/** JSON text with every code unit above 0x7e escaped; the same string when there is none. */
export function asciiText(json: string): string {
  return anyNonAscii.test(json) ? json.replace(nonAscii, escapeCodeUnit) : json;
}
