// Helpers of the UI tests for the view's rows and the browser login (beside vscode-ui.ts).
import type { Page } from 'playwright-core';
import { type VsCodeUi, waitFor } from './vscode-ui';

/** One row of the side bar's tree as drawn: its texts and whether they are shown whole. */
export interface RowWidth {
  readonly label: string;
  readonly description: string;
  readonly ariaLabel: string;
  /** The label container's content fits its box: nothing is cut with "…". */
  readonly fits: boolean;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  /**
   * The width (px, in the description's font) of the description's part from `tailFrom` on
   * (e.g. " · as deploy"), 0 without one: a cut no wider than this leaves the rest whole.
   */
  readonly tailWidth: number;
}

/**
 * Every row of the side bar's tree in one reading of the page (a refresh between two
 * locator calls cannot mix two renderings): texts and widths.
 */
export async function sidebarRowWidths(page: Page, tailFrom = ' · as '): Promise<RowWidth[]> {
  return await page.evaluate((tailFrom) => {
    // (DOM types are not in this project's lib: the page's own objects, typed by hand.)
    type El = {
      textContent: string | null;
      scrollWidth: number;
      clientWidth: number;
      getAttribute(n: string): string | null;
      querySelector(s: string): El | null;
    };
    type Canvas = { getContext(k: '2d'): { font: string; measureText(t: string): { width: number } } };
    const g = globalThis as unknown as {
      document: { querySelectorAll(s: string): Iterable<El>; createElement(t: 'canvas'): Canvas };
      getComputedStyle(e: El): { font: string };
    };
    const doc = g.document;
    const ctx = doc.createElement('canvas').getContext('2d');
    const tailWidth = (el: El | null): number => {
      const text = el?.textContent ?? '';
      const at = text.lastIndexOf(tailFrom);
      if (!el || at < 0) return 0;
      ctx.font = g.getComputedStyle(el).font;
      return ctx.measureText(text.slice(at)).width;
    };
    const out = [];
    for (const row of doc.querySelectorAll('.part.sidebar .monaco-list-row')) {
      const box = row.querySelector('.monaco-icon-label-container');
      const label = row.querySelector('.label-name');
      if (!box || !label) continue;
      const description = row.querySelector('.label-description');
      out.push({
        label: (label.textContent ?? '').trim(),
        description: (description?.textContent ?? '').trim(),
        tailWidth: Math.ceil(tailWidth(description)),
        ariaLabel: row.getAttribute('aria-label') ?? '',
        fits: box.scrollWidth <= box.clientWidth + 1,
        scrollWidth: box.scrollWidth,
        clientWidth: box.clientWidth,
      });
    }
    return out;
  }, tailFrom);
}

/** Accepts the workbench's "open the website?" question; the login tab it opened. */
export async function acceptLoginTab(ui: VsCodeUi, popup: Promise<Page>): Promise<Page> {
  let page: Page | undefined;
  void popup.then((p) => (page = p));
  await waitFor(
    'the login tab',
    async () => {
      if (page) return true;
      if (await ui.dialogMessage().catch(() => undefined)) {
        const buttons = await ui.dialogButtons();
        const choice = ['Open', 'Allow', 'Continue'].find((b) => buttons.includes(b));
        if (choice) await ui.clickDialogButton(choice);
      }
      return false;
    },
    60_000,
  );
  return page!;
}
