/** Text that goes into a row's Markdown tooltip as itself, never as markup. */
export function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
