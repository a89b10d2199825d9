// UTF-8 for C strings, without depending on TextEncoder/TextDecoder (not in every runtime's type library).

/**
 * Encodes a string as UTF-8 bytes (lone surrogates become U+FFFD, as TextEncoder does). Works in every
 * runtime, without TextEncoder.
 */
export function utf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/**
 * Decodes the UTF-8 bytes of `bytes[start, end)`; each byte that starts no valid sequence becomes one U+FFFD,
 * and no sequence borrows a byte at or past `end`.
 */
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = "";
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i++;
      continue;
    }
    const need = b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 ? (b <= 0xef ? 2 : 0) : b >= 0xc2 ? 1 : 0;
    let cp = need === 3 ? b & 7 : need === 2 ? b & 15 : b & 31;
    // The whole sequence must lie before `end`: a C string field never borrows bytes of the next member.
    let ok = need > 0 && i + need < end;
    for (let k = 1; ok && k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 63);
    }
    // Overlong forms, surrogates and values past U+10FFFF are malformed.
    if (
      ok &&
      ((need === 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need === 3 && (cp < 0x10000 || cp > 0x10ffff)))
    ) {
      ok = false;
    }
    if (!ok) {
      s += "\ufffd";
      i++;
      continue;
    }
    s += String.fromCodePoint(cp);
    i += need + 1;
  }
  return s;
}
