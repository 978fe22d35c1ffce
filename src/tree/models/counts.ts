/**
 * Count attributes of a listed row (NumberOfStudyRelatedInstances …, PS3.18 §10.6.3.3):
 * how a row says them, and how a delete lowers them. No `vscode` import.
 */
import type { DicomJsonDataset } from '../../dicom/types';

/** "3 instances", "1 series"; empty when the server sent no count. */
export function counts(value: number | undefined, one: string, many: string): string {
  if (value === undefined) return '';
  return `${value} ${value === 1 ? one : many}`;
}

/**
 * Lowers a count attribute of a row's dataset by `by`, never below 0: after a delete the
 * row shows what is left without a new query. Absent counts stay absent (the server did
 * not send one).
 */
export function lowerCount(dataset: DicomJsonDataset, tag: string, by: number): void {
  const element = dataset[tag];
  const value = element?.Value?.[0];
  const current =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : undefined;
  if (!element || current === undefined || by <= 0) return;
  element.Value = [Math.max(0, current - by)];
}
