// What a user does in the workbench, as playwright steps: the command palette, input
// boxes, the activity bar, tree views, context menus, notifications, the Accounts menu
// and the terminal. Selectors are VS Code's own DOM classes (stable for years; checked
// against code-server 4.139 / VS Code 1.139).
import { copyFileSync, mkdirSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

export interface TreeRow {
  label: string;
  description: string;
  ariaLabel: string;
}

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

export interface Notification {
  message: string;
  source: string;
  buttons: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value that is not undefined/false, or throws with `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export class VsCodeUi {
  constructor(
    readonly page: Page,
    private readonly shotDirs: string[] = [],
  ) {}

  /** Waits until the workbench is drawn and the extension host is connected. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    await this.page.locator('.part.activitybar, .part.sidebar .composite-bar').first().waitFor({ timeout: timeoutMs });
    await this.page.locator('.part.statusbar').waitFor({ timeout: timeoutMs });
  }

  /** Saves a screenshot under every shot directory as <name>.png. */
  async shot(name: string): Promise<void> {
    for (const dir of this.shotDirs) {
      mkdirSync(dir, { recursive: true });
      await this.page.screenshot({ path: join(dir, `${name}.png`) });
    }
  }

  // ---- command palette and quick input -------------------------------------------

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  private get quickInputBox(): Locator {
    return this.quickInput.locator('.quick-input-box input');
  }

  /** Runs a command by its palette title, e.g. "Access: Add Host...". */
  async runCommand(title: string, timeoutMs = 60_000): Promise<void> {
    // Contributed commands appear once the extension host has read the manifests:
    // on a slow start the palette may not list them yet, so reopen it until it does.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.closeQuickInput();
      await this.page.keyboard.press('F1');
      await this.quickInputBox.waitFor({ state: 'visible', timeout: 10_000 });
      await this.quickInputBox.fill(`>${title}`);
      try {
        const row = await this.quickPickRow(title, 5_000);
        await row.click();
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`command "${title}" not in the palette within ${timeoutMs / 1000} s: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** The visible quick pick row whose label is exactly `label` (highlights ignored). */
  async quickPickRow(label: string, timeoutMs = 15_000): Promise<Locator> {
    return waitFor(
      `quick pick item "${label}"`,
      async () => {
        const rows = this.quickInput.locator('.monaco-list-row');
        const n = await rows.count();
        for (let i = 0; i < n; i++) {
          const row = rows.nth(i);
          const text = (
            await row
              .locator('.label-name')
              .first()
              .textContent()
              .catch(() => '')
          )?.trim();
          if (text === label) return row;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Labels of the quick pick rows shown now. */
  async quickPickLabels(): Promise<string[]> {
    await this.quickInput.waitFor({ state: 'visible', timeout: 10_000 });
    return (await this.quickInput.locator('.monaco-list-row .label-name').allTextContents()).map((t) => t.trim());
  }

  /** The prompt / title of the quick input shown now. */
  async quickInputPrompt(): Promise<string> {
    await this.quickInput.waitFor({ state: 'visible', timeout: 10_000 });
    const parts = await this.quickInput.locator('.quick-input-title, .quick-input-message, .quick-input-description').allTextContents();
    const placeholder = (await this.quickInputBox.getAttribute('placeholder')) ?? '';
    return [...parts, placeholder]
      .map((t) => t.trim())
      .filter(Boolean)
      .join(' | ');
  }

  /** Types into the open input box and presses Enter. */
  async submitInput(text: string): Promise<void> {
    await this.quickInputBox.waitFor({ state: 'visible', timeout: 15_000 });
    await this.quickInputBox.fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** Types into the open input box without submitting it. */
  async typeInput(text: string): Promise<void> {
    await this.quickInputBox.waitFor({ state: 'visible', timeout: 15_000 });
    await this.quickInputBox.fill(text);
  }

  /** The validation message under the input box, if any. */
  async inputValidation(): Promise<string> {
    const msg = this.quickInput.locator('.quick-input-message, .monaco-inputbox-message');
    return (await msg.allTextContents()).join(' ').trim();
  }

  async closeQuickInput(): Promise<void> {
    if (await this.quickInput.isVisible().catch(() => false)) {
      await this.page.keyboard.press('Escape');
      await this.quickInput.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
    }
  }

  // ---- activity bar and views -----------------------------------------------------

  /** The activity bar entry whose label starts with `title`. */
  activityItem(title: string): Locator {
    return this.page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${title}"]`).first();
  }

  /** Opens a view container from the activity bar (does not toggle it closed). */
  async openViewContainer(title: string, timeoutMs = 30_000): Promise<void> {
    const item = this.activityItem(title);
    await item.waitFor({ state: 'visible', timeout: timeoutMs });
    const checked = await item.getAttribute('aria-checked').catch(() => null);
    const expanded = await item.getAttribute('aria-expanded').catch(() => null);
    const sidebar = this.page.locator('.part.sidebar');
    // The active container's icon stays checked while the side bar is hidden (e.g. after the
    // last terminal is killed): a click then shows it; on a visible side bar it would hide it.
    if ((checked !== 'true' && expanded !== 'true') || !(await sidebar.isVisible())) await item.click();
    const shown = await sidebar.waitFor({ state: 'visible', timeout: 5_000 }).then(
      () => true,
      () => false,
    );
    if (!shown) {
      // Seen after the last terminal was killed: the side bar laid out with no width while
      // its container stays checked. Showing the container by its command lays it out again.
      const state = await sidebar.evaluate((el: { className: string; getBoundingClientRect(): { width: number; height: number } }) => {
        const r = el.getBoundingClientRect();
        return `${el.className} ${r.width}x${r.height}`;
      });
      console.log(`# side bar not visible after a click: ${state}`);
      await this.runCommand(`${title}: Focus on Hosts View`).catch(() => this.runCommand('View: Toggle Primary Side Bar Visibility'));
    }
    await sidebar.waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Drags the sidebar's edge to make it `width` pixels wide (room for descriptions). */
  async setSidebarWidth(width: number): Promise<void> {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    if (!box) return;
    const x = box.x + box.width + 1;
    const y = box.y + box.height / 2;
    await this.page.mouse.move(x, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 8 });
    await this.page.mouse.up();
    // Off the sash, or it stays highlighted in screenshots.
    await this.page.mouse.move(box.x + width + 300, y + 100);
  }

  /** The sidebar pane of the view titled `title` (the view's `name`). */
  pane(title: string): Locator {
    return this.page.locator('.part.sidebar .pane').filter({ has: this.page.locator(`.pane-header[aria-label^="${title}"]`) });
  }

  /** The text of the sidebar's welcome content (viewsWelcome), '' when none is shown. */
  async welcomeText(): Promise<string> {
    const w = this.page.locator('.part.sidebar .welcome-view-content');
    if ((await w.count()) === 0) return '';
    return (await w.first().innerText()).trim();
  }

  /** The rows of the sidebar's tree (our container has one view), read at once. */
  async treeRows(): Promise<TreeRow[]> {
    return (await this.rowWidths()).map(({ label, description, ariaLabel }) => ({ label, description, ariaLabel }));
  }

  /**
   * Every row of the side bar's tree in one reading of the page (a refresh between two
   * locator calls cannot mix two renderings): texts and widths.
   */
  async rowWidths(tailFrom = ' · as '): Promise<RowWidth[]> {
    return await this.page.evaluate((tailFrom) => {
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

  /**
   * Whether a row's label and description are shown whole (not cut with "…") at the
   * sidebar's current width: the label container's content fits its box.
   */
  async rowFits(label: string): Promise<{ fits: boolean; scrollWidth: number; clientWidth: number }> {
    const container = this.treeRow(label).locator('.monaco-icon-label-container').first();
    return await container.evaluate((el: { scrollWidth: number; clientWidth: number }) => ({
      fits: el.scrollWidth <= el.clientWidth + 1,
      scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth,
    }));
  }

  /**
   * The text of a tree row's hover (its tooltip). Shown from the keyboard (select the row,
   * Ctrl+K Ctrl+I, as a keyboard user does): a resting mouse shows no hover in headless
   * Chromium. The hover stays open (for a screenshot) until `closeHover`.
   */
  async rowTooltip(label: string, timeoutMs = 30_000): Promise<string> {
    await this.closeHover();
    // Read in the page in one go: the hover may be re-rendered (or closed) between two locator calls.
    const shown = (): Promise<string | undefined> =>
      this.page.evaluate(() => {
        // (DOM types are not in this project's lib: the page's own objects, typed by hand.)
        type El = { offsetParent: unknown; innerText: string };
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El> } }).document;
        const h = [...doc.querySelectorAll('.workbench-hover')].find((e) => e.offsetParent !== null);
        return h?.innerText || undefined;
      });
    let asked = 0;
    const text = await waitFor(
      `the hover of ${label}`,
      async () => {
        const t = await shown();
        if (t) return t;
        // (Again every 3 s: under load the chord can reach the row before it has the focus.)
        if (Date.now() - asked > 3_000) {
          asked = Date.now();
          await this.treeRow(label).click();
          await this.page.keyboard.press('ControlOrMeta+K');
          await this.page.keyboard.press('ControlOrMeta+I');
        }
        return undefined;
      },
      timeoutMs,
    );
    return text.replace(/\u00a0/g, ' ').trim();
  }

  async closeHover(): Promise<void> {
    if ((await this.page.locator('.workbench-hover:visible').count()) > 0) await this.page.keyboard.press('Escape');
  }

  /** The title and description of the sidebar's (single) view header, e.g. "ACCESS SSH: HOSTS". */
  async sidebarTitle(): Promise<string> {
    const t = this.page.locator('.part.sidebar .composite.title .title-label, .part.sidebar .title .title-label').first();
    return ((await t.innerText().catch(() => '')) ?? '').trim();
  }

  /** The buttons of the modal dialog shown now. */
  async dialogButtons(): Promise<string[]> {
    return (await this.page.locator('.monaco-dialog-box:visible .dialog-buttons .monaco-button').allTextContents()).map((b) => b.trim());
  }

  /** The tree row whose label is `label`. */
  treeRow(label: string): Locator {
    return this.page
      .locator('.part.sidebar .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) })
      .first();
  }

  /** Right-clicks a tree row and picks `item` from its context menu. */
  async contextMenu(row: Locator, item: string): Promise<void> {
    await row.click({ button: 'right' });
    const entry = this.page.locator('.monaco-menu .action-item a.action-menu-item').filter({
      has: this.page.locator('.action-label', { hasText: new RegExp(`^\\s*${escapeRegExp(item)}\\s*$`) }),
    });
    await entry.first().waitFor({ state: 'visible', timeout: 10_000 });
    await entry.first().hover();
    await entry.first().click();
    // A click that lands while the menu is still settling only focuses the entry.
    const menu = this.page.locator('.monaco-menu').first();
    if (await menu.isVisible().catch(() => false)) {
      await sleep(300);
      if (await menu.isVisible().catch(() => false)) await this.page.keyboard.press('Enter');
    }
    await menu.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  }

  /** Labels of the context menu of a row (then closes it). */
  async contextMenuItems(row: Locator): Promise<string[]> {
    await row.click({ button: 'right' });
    const labels = this.page.locator('.monaco-menu .action-item a.action-menu-item .action-label');
    await labels.first().waitFor({ state: 'visible', timeout: 10_000 });
    const out = (await labels.allTextContents()).map((t) => t.trim()).filter(Boolean);
    await this.page.keyboard.press('Escape');
    await this.page
      .locator('.monaco-menu')
      .first()
      .waitFor({ state: 'hidden', timeout: 5_000 })
      .catch(() => undefined);
    return out;
  }

  /** Clicks an inline action (by its title) on a tree row. */
  async inlineAction(row: Locator, title: string): Promise<void> {
    await row.hover();
    const action = row.locator(`.actions .action-label[aria-label^="${title}"]`).first();
    await action.waitFor({ state: 'visible', timeout: 10_000 });
    await action.click();
  }

  /** Clicks a button/link of the welcome content. */
  async clickWelcome(label: string): Promise<void> {
    await this.page.locator('.part.sidebar .welcome-view-content').getByRole('button', { name: label }).first().click();
  }

  // ---- notifications --------------------------------------------------------------

  async notifications(): Promise<Notification[]> {
    const items = this.page.locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item');
    const n = await items.count();
    const out: Notification[] = [];
    for (let i = 0; i < n; i++) {
      const it = items.nth(i);
      out.push({
        message: (
          (await it
            .locator('.notification-list-item-message')
            .first()
            .textContent()
            .catch(() => '')) ?? ''
        ).trim(),
        source: (
          (await it
            .locator('.notification-list-item-source')
            .first()
            .textContent()
            .catch(() => '')) ?? ''
        ).trim(),
        buttons: (await it.locator('.notification-list-item-buttons-container .monaco-button').allTextContents()).map((t) => t.trim()),
      });
    }
    return out;
  }

  /**
   * Waits for a notification whose message matches `re`. A toast that came and went
   * before it was looked at (see clickNotificationButton) is in the notification center:
   * that is looked at once the wait is over, as a user who missed it would.
   */
  async waitNotification(re: RegExp, timeoutMs = 30_000): Promise<Notification> {
    try {
      return await waitFor(
        `a notification matching ${re}`,
        async () => (await this.notifications()).find((n) => re.test(n.message)),
        timeoutMs,
      );
    } catch (err) {
      const put = await this.inNotificationCenter(re);
      if (!put) throw err;
      console.log(`# the toast for ${re} had gone: found in the notification center`);
      return put;
    }
  }

  /** The notification matching `re` in the notification center, undefined when it is not there. */
  private async inNotificationCenter(re: RegExp): Promise<Notification | undefined> {
    return await this.inCenter(async () => (await this.notifications()).find((n) => re.test(n.message))).catch(() => undefined);
  }

  /** Runs `fn` with the notification center open (a toast put away is listed there), then closes it. */
  private async inCenter<T>(fn: () => Promise<T>): Promise<T> {
    try {
      await this.runCommand('Notifications: Show Notifications', 10_000);
      return await fn();
    } finally {
      await this.runCommand('Notifications: Hide Notifications', 10_000).catch(() => undefined);
    }
  }

  /**
   * Clicks a button of the notification whose message matches `re`: on its toast, or,
   * once the workbench has put the toast away, in the notification center. VS Code
   * hides a toast that is not an error after 10–15 s while the window has focus and
   * the pointer is elsewhere; on a busy machine that can come before the click, and a
   * user would then open the center, as this does.
   */
  async clickNotificationButton(re: RegExp, button: string): Promise<void> {
    const buttonIn = (list: string): Locator =>
      this.page
        .locator(`${list} .notification-list-item`)
        .filter({ has: this.page.locator('.notification-list-item-message', { hasText: re }) })
        .first()
        .locator('.notification-list-item-buttons-container .monaco-button', { hasText: button })
        .first();
    const toast = buttonIn('.notifications-toasts');
    try {
      await toast.click({ timeout: 5_000 });
      return;
    } catch {
      console.log(`# the toast for ${re} is gone: clicking "${button}" in the notification center`);
    }
    await this.inCenter(() => buttonIn('.notifications-center').click());
  }

  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications').catch(() => undefined);
  }

  // ---- dialogs --------------------------------------------------------------------

  /** The message of the modal dialog shown now, or undefined. */
  async dialogMessage(): Promise<string | undefined> {
    const d = this.page.locator('.monaco-dialog-box:visible').first();
    if (!(await d.isVisible().catch(() => false))) return undefined;
    return (await d.locator('.dialog-message-text, .dialog-message').first().innerText()).trim();
  }

  async clickDialogButton(label: string): Promise<void> {
    await this.page.locator('.monaco-dialog-box:visible .dialog-buttons .monaco-button', { hasText: label }).first().click();
  }

  // ---- accounts -------------------------------------------------------------------

  /** Opens the Accounts menu of the activity bar and returns its entries (menu left open). */
  async openAccountsMenu(): Promise<string[]> {
    await this.page.keyboard.press('Escape');
    const item = this.page.locator('.part.activitybar .action-item a.action-label[aria-label^="Accounts"]').first();
    // A "sign in requested" badge sits over the icon and takes the click itself.
    await item.click({ force: true });
    const labels = this.page.locator('.monaco-menu .action-item .action-label');
    await labels.first().waitFor({ state: 'visible', timeout: 10_000 });
    return (await labels.allTextContents()).map((t) => t.trim()).filter(Boolean);
  }

  /** The number on the Accounts icon ('' when there is no badge): pending sign-in requests. */
  async accountsBadge(): Promise<string> {
    const item = this.page
      .locator('.part.activitybar .action-item')
      .filter({ has: this.page.locator('a.action-label[aria-label^="Accounts"]') })
      .first();
    const badge = item.locator('.badge .badge-content');
    if ((await badge.count()) === 0 || !(await badge.first().isVisible())) return '';
    return ((await badge.first().textContent()) ?? '').trim();
  }

  /** Hovers a submenu entry of an open menu and returns the submenu's entries. */
  async openSubmenu(label: string): Promise<string[]> {
    const entry = this.page.locator('.monaco-menu .action-item a.action-menu-item', { hasText: label }).first();
    await entry.hover();
    await entry.click().catch(() => undefined);
    const sub = this.page.locator('.monaco-submenu .action-item .action-label');
    await sub.first().waitFor({ state: 'visible', timeout: 10_000 });
    return (await sub.allTextContents()).map((t) => t.trim()).filter(Boolean);
  }

  async clickMenuItem(label: string | RegExp): Promise<void> {
    const re = typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label;
    const entry = this.page
      .locator('.monaco-menu .action-item a.action-menu-item')
      .filter({ has: this.page.locator('.action-label', { hasText: re }) })
      .last();
    await entry.click();
  }

  async closeMenus(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Escape');
  }

  // ---- settings editor ------------------------------------------------------------

  /**
   * Opens the Settings editor (UI) filtered by `query` and returns each setting as the
   * editor shows it: "Category: Label" and the setting's key.
   */
  async settingsEditor(
    query: string,
    accept: (entries: { title: string; key: string }[]) => boolean = (e) => e.length > 0,
    timeoutMs = 30_000,
  ): Promise<{ title: string; key: string }[]> {
    await this.runCommand('Preferences: Open Settings (UI)');
    return await this.settingsSearch(query, accept, timeoutMs);
  }

  /** In the open Settings editor: shows the `tab` settings (User, Remote, Workspace) and lists them as settingsEditor does. */
  async settingsTab(
    tab: RegExp,
    query: string,
    accept: (entries: { title: string; key: string }[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<{ title: string; key: string }[]> {
    await this.page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: tab }).first().click();
    return await this.settingsSearch(query, accept, timeoutMs);
  }

  private async settingsSearch(
    query: string,
    accept: (entries: { title: string; key: string }[]) => boolean,
    timeoutMs: number,
  ): Promise<{ title: string; key: string }[]> {
    const header = this.page.locator('.settings-editor .settings-header .suggest-input-container').first();
    const box = header.locator('.monaco-editor').first();
    await box.waitFor({ timeout: timeoutMs });
    // The search box is a small editor. Since VS Code 1.101 it takes keys through an EditContext
    // element (`.native-edit-context`), not its hidden textarea: focusing the textarea sends the
    // first keys nowhere. Click it as a user does, and type once it holds the focus.
    await waitFor(
      `the Settings search box to hold ${query}`,
      async () => {
        await box.click();
        const focused = await box.evaluate((el: { contains(other: unknown): boolean }) =>
          el.contains((globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement),
        );
        if (!focused) return false;
        await this.page.keyboard.press('ControlOrMeta+A');
        await this.page.keyboard.press('Backspace');
        await this.page.keyboard.type(query, { delay: 20 });
        const text = ((await header.locator('.view-lines').first().innerText()) ?? '').replace(/\u00a0/g, ' ').trim();
        return text === query;
      },
      timeoutMs,
      500,
    );
    // The box's suggestion list covers the tabs: a click off the box (on its "N Settings Found")
    // closes it and keeps the query. Not Escape: that closes the Settings editor, a modal since 1.139.
    const suggestions = header.locator('.suggest-widget.visible');
    await waitFor(
      'the search suggestions to close',
      async () => {
        if ((await suggestions.count()) === 0) return true;
        await this.page.locator('.settings-editor .settings-count-widget').first().click();
        return false;
      },
      10_000,
      300,
    );
    return await waitFor(
      `the Settings editor to list ${query}`,
      async () => {
        const items = this.page.locator('.settings-editor .settings-tree-container [data-key]').filter({
          has: this.page.locator('.setting-item-label'),
        });
        const n = await items.count();
        const out: { title: string; key: string }[] = [];
        for (let i = 0; i < n; i++) {
          const it = items.nth(i);
          const category = ((await it.locator('.setting-item-category').first().textContent()) ?? '').trim();
          const label = ((await it.locator('.setting-item-label').first().textContent()) ?? '').trim();
          const key = (await it.getAttribute('data-key')) ?? '';
          out.push({ title: `${category} ${label}`.trim(), key });
        }
        return accept(out) ? out : undefined;
      },
      timeoutMs,
    );
  }

  // ---- terminal -------------------------------------------------------------------

  /** The visible text of the active terminal (DOM renderer: gpuAcceleration off). */
  async terminalText(): Promise<string> {
    const rows = this.page.locator('.terminal-wrapper.active .xterm-rows, .terminal-group .xterm-rows').last();
    if ((await rows.count()) === 0) return '';
    return (await rows.innerText()).replace(/\u00a0/g, ' ');
  }

  /** Waits until the active terminal shows text matching `re`; returns the whole text. */
  async waitTerminal(re: RegExp, timeoutMs = 60_000): Promise<string> {
    let last = '';
    try {
      return await waitFor(
        `terminal text matching ${re}`,
        async () => {
          last = await this.terminalText();
          return re.test(last) ? last : undefined;
        },
        timeoutMs,
      );
    } catch (err) {
      // The text it saw says why it did not match (another terminal, wrapped lines).
      throw new Error(`${(err as Error).message}; the terminal showed: ${JSON.stringify(last.slice(-800))}`, { cause: err });
    }
  }

  /**
   * Waits for the server's shell prompt, a row that is only `$ ` (the local prompt carries
   * user@host:dir). Typing before it shows goes ahead of the prompt, and the command's output
   * then lands on the prompt's row.
   */
  async waitRemotePrompt(timeoutMs = 90_000): Promise<string> {
    return this.waitTerminal(/^\$ *$/m, timeoutMs);
  }

  /** Types into the focused terminal. */
  async typeInTerminal(text: string, enter = true): Promise<void> {
    await this.page.locator('.terminal-wrapper.active .xterm, .terminal-group .xterm').last().click();
    await this.page.keyboard.type(text);
    if (enter) await this.page.keyboard.press('Enter');
  }

  /** Names of the terminal tabs (or the single terminal's title). */
  async terminalTitles(): Promise<string[]> {
    const tabs = this.page.locator('.terminal-tabs-entry .monaco-icon-label, .single-terminal-tab, .terminal-tab .monaco-icon-label');
    return (await tabs.allTextContents()).map((t) => t.trim()).filter(Boolean);
  }

  // ---- status bar -----------------------------------------------------------------

  async statusBarTexts(): Promise<string[]> {
    return (await this.page.locator('.part.statusbar .statusbar-item').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  }
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The steps of one scenario in one workbench: each a test; once one fails, the later
 * ones are skipped (they would only fail for the same reason), and the failure carries
 * what `diagnose` adds (a screenshot, notifications, logs).
 */
export function scenarioSteps(
  diagnose: (name: string, err: unknown) => Promise<Error>,
  timeoutMs = 5 * 60_000,
): { step: (name: string, fn: (t: TestContext) => Promise<void>) => void; failed: () => string | undefined } {
  let broken: string | undefined;
  const step = (name: string, fn: (t: TestContext) => Promise<void>): void => {
    test(name, { timeout: timeoutMs }, async (t) => {
      if (broken) {
        t.skip(`an earlier step failed: ${broken}`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        broken = name;
        throw await diagnose(name, err);
      }
    });
  };
  return { step, failed: () => broken };
}

/** Where a failed step's screenshot goes: `FAILED-<prefix><step name as a slug>.png` in `dir`. */
export function failedShotPath(dir: string, prefix: string, step: string): string {
  return join(dir, `FAILED-${prefix}${step.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
}

/**
 * scenarioSteps' diagnosis for a failed step: the error's stack, a screenshot of the
 * workbench named after the step, then what `details` adds (notifications, the tree, logs).
 */
export function screenshotDiagnosis(
  dir: string,
  prefix: string,
  ui: () => VsCodeUi | undefined,
  details: (step: string) => Promise<string[]>,
): (name: string, err: unknown) => Promise<Error> {
  return async (name, err) => {
    const shot = failedShotPath(dir, prefix, name);
    await ui()
      ?.page.screenshot({ path: shot })
      .catch(() => undefined);
    const more = await details(name).catch((e: unknown) => [`(no details: ${String(e)})`]);
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return new Error([text, `screenshot: ${shot}`, ...more].join('\n'), { cause: err });
  };
}

/** The workbench at `url` in `page`, drawn and connected; screenshots go to `shotDirs`. */
export async function openWorkbenchPage(page: Page, url: string, shotDirs: string[]): Promise<VsCodeUi> {
  const ui = new VsCodeUi(page, shotDirs);
  await page.goto(url, { timeout: 180_000 });
  await ui.waitReady(180_000);
  return ui;
}

/**
 * With UPDATE_SCREENSHOTS=1, after a run where every step passed: copies the named
 * pictures of `fromDir` to media/screenshots (the README's). Never otherwise, so that
 * `npm test` leaves the tree clean.
 */
export function publishScreenshots(root: string, fromDir: string, names: readonly string[], everyStepPassed: boolean): void {
  const to = join(root, 'media', 'screenshots');
  if (process.env.UPDATE_SCREENSHOTS !== '1') {
    if (everyStepPassed) console.log(`# screenshots in ${fromDir} (UPDATE_SCREENSHOTS=1 copies them to ${to})`);
    return;
  }
  if (!everyStepPassed) {
    console.log(`# README screenshots NOT refreshed: a step failed`);
    return;
  }
  mkdirSync(to, { recursive: true });
  for (const name of names) copyFileSync(join(fromDir, `${name}.png`), join(to, `${name}.png`));
  console.log(`# README screenshots refreshed in ${to}: ${names.join(', ')}`);
}
