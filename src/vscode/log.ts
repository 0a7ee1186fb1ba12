// One output channel ("Access SSH") for everything the extension and the Access
// layer log. Every message passes through redact() first: a log line must never
// carry a token, a cookie or a private key.

import { CancellationError, type LogOutputChannel, window } from 'vscode';
import { redact, redactingLogger } from '../access/redact.js';
import type { Logger } from '../access/types.js';
import { isAccessError } from '../access/errors.js';
import { isAppError } from '../base/app-error.js';
import { ACTION_LABELS, classifyFailure, extensionNextStep, firstLine, type Failure, type NextAction } from '../hosts/failure.js';

export interface ExtensionLog extends Logger {
  readonly channel: LogOutputChannel;
  show(): void;
}

export function createLog(): ExtensionLog {
  const channel = window.createOutputChannel('Access SSH', { log: true });
  // Secrets masked and every line made safe to show (logLines), as the helper's log.
  const safe = redactingLogger({
    trace: (m: string) => channel.trace(m),
    debug: (m: string) => channel.debug(m),
    info: (m: string) => channel.info(m),
    warn: (m: string) => channel.warn(m),
    error: (m: string) => channel.error(m),
  });
  return { channel, ...safe, show: () => channel.show(true) };
}

/** What happened, and what to do next (an AppError's next step in the extension's words, extensionNextStep). */
export function describe(err: unknown): { message: string; hint?: string } {
  if (err instanceof Error) {
    const hint = isAppError(err) ? extensionNextStep(err) : (err as { hint?: unknown }).hint;
    const message = redact(err.message);
    return typeof hint === 'string' && hint !== '' ? { message, hint: redact(hint) } : { message };
  }
  return { message: redact(String(err)) };
}

export function isCancellation(err: unknown): boolean {
  return (
    isAccessError(err, 'login-cancelled') ||
    err instanceof CancellationError ||
    (err instanceof Error && (err.name === 'AbortError' || err.name === 'Canceled'))
  );
}

/**
 * Log an error and show it with its hint and a "Show Log" button (plus the
 * caller's actions). Resolves to the action chosen, if any.
 */
export async function showError(log: ExtensionLog, what: string, err: unknown, ...actions: string[]): Promise<string | undefined> {
  if (isCancellation(err)) {
    log.info(`${what}: cancelled`);
    return undefined;
  }
  const { message, hint } = describe(err);
  log.error(`${what}: ${message}${hint ? ` (${hint})` : ''}`);
  if (err instanceof Error && err.stack) log.debug(err.stack);
  const choice = await window.showErrorMessage(`${what}: ${message}${hint ? ` ${hint}` : ''}`, ...actions, 'Show Log');
  if (choice === 'Show Log') log.show();
  return choice;
}

/** The failure model's view of any thrown value: its code, message, hint and the system code of its cause. */
export function failureOf(host: string, err: unknown): Failure {
  const { message, hint } = describe(err);
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return classifyFailure(host, {
    message,
    ...(hint !== undefined ? { hint } : {}),
    ...(isAppError(err) && err.action !== undefined ? { action: err.action } : {}),
    ...(typeof code === 'string' ? { code } : {}),
    ...(cause && typeof cause.code === 'string' ? { causeCode: cause.code } : {}),
  });
}

/**
 * A failure on a host: logged in full, shown as one short notification with
 * the one button that fits its cause. Resolves to that action when chosen
 * ("Show Log" is handled here), undefined for a cancellation.
 */
export async function showFailure(log: ExtensionLog, what: string, host: string, err: unknown): Promise<NextAction | undefined> {
  if (isCancellation(err)) {
    log.info(`${what}: cancelled`);
    return undefined;
  }
  const failure = failureOf(host, err);
  log.error(`${what}: ${failure.detail.replace(/\s*\n\s*/g, ' ')}`);
  if (err instanceof Error && err.stack) log.debug(err.stack);
  const label = ACTION_LABELS[failure.action];
  const choice = await window.showErrorMessage(`${what}: ${firstLine(failure.summary, 200)}`, label);
  if (choice !== label) return undefined;
  if (failure.action === 'showLog') log.show();
  return failure.action;
}
