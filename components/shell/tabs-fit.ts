/** px between two tabs of the header (gap-1) */
export const TAB_GAP = 4;

/**
 * How many tabs, in order, the header shows in `width` px: all of them when they fit, else as many as leave
 * room for the More button (`moreWidth`) that holds the rest.
 */
export function tabsThatFit(widths: readonly number[], width: number, moreWidth: number): number {
  const total = widths.reduce((a, w) => a + w + TAB_GAP, -TAB_GAP);
  if (total <= width) return widths.length;
  let used = 0, n = 0;
  for (const w of widths) {
    if (used + w + TAB_GAP + moreWidth > width) break;
    used += w + TAB_GAP;
    n++;
  }
  return n;
}
