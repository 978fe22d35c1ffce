/**
 * Stand-in for src/dicom/charset.ts (another branch): the same signature, decoding only
 * ISO_IR 192 (UTF-8) and the default/ISO 8859-1 repertoire. Removed when charset.ts lands.
 */
export function textDecoder(
  specificCharacterSet: string | readonly string[] | undefined,
): (bytes: Uint8Array, vr: string) => string {
  const terms =
    typeof specificCharacterSet === 'string'
      ? specificCharacterSet.split('\\')
      : [...(specificCharacterSet ?? [])];
  const utf8 = terms.some((term) => term.trim() === 'ISO_IR 192');
  const decoder = new TextDecoder(utf8 ? 'utf-8' : 'latin1');
  return (bytes) => decoder.decode(bytes);
}
