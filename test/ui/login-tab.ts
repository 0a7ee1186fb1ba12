// The browser login of the UI tests: the login tab the workbench opens (beside vscode-ui.ts).
import type { Page } from 'playwright-core';
import { type VsCodeUi, waitFor } from './vscode-ui';

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
