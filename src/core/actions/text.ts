/** Small text measures shared by the coercers: lengths as JSON Schema and the wire count them. */

/** Length in Unicode code points, as JSON Schema's maxLength counts. */
export function codePointLength(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}

/** Bytes once encoded as UTF-8 (a lone surrogate counts as the 3-byte replacement character). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** C0 controls and DEL other than tab, line feed and carriage return: never part of spoken input. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/** Why a string is unacceptable as an input value, or undefined when it is fine. */
export function textProblem(text: string): string | undefined {
  if (!text.isWellFormed()) return 'contains an unpaired surrogate (invalid Unicode)';
  if (hasControlCharacter(text)) return 'contains control characters';
  return undefined;
}

/** A key an agent sent, shown back safely: short, and quoted when it is anything but a plain name. */
export function displayKey(key: string): string {
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return key;
  const short = key.length > 40 ? `${key.slice(0, 40)}...` : key;
  return JSON.stringify(short).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
