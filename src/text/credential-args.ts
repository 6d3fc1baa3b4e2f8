/**
 * Build args that look like credentials: a name that says so (TOKEN, PASSWORD, PASSWD, SECRET,
 * API_KEY, CREDENTIAL, in any case) or a value holding a URL with a password (`scheme://user:pass@…`).
 * Their values are shown and recorded only as `sha256:<hex>`: "what changed" still works, the value
 * never appears.
 */
import { createHash } from 'node:crypto';

const CREDENTIAL_NAME = /TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|CREDENTIAL/i;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i;

/** Why a build arg looks like a credential, or undefined when it does not. */
export function credentialLooking(name: string, value: string): 'name' | 'url-password' | undefined {
  if (value === '') return undefined;
  if (URL_WITH_PASSWORD.test(value)) return 'url-password';
  return CREDENTIAL_NAME.test(name) ? 'name' : undefined;
}

/** How a credential-looking value is shown and recorded. */
export function maskedValue(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/** Build args with every credential-looking value masked. */
export function maskCredentialArgs(args: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, credentialLooking(k, v) ? maskedValue(v) : v]));
}

/** The values to keep out of anything shown (longest first, so a value inside another is replaced whole). */
export function credentialValues(args: Record<string, string>): string[] {
  return Object.entries(args)
    .filter(([k, v]) => credentialLooking(k, v))
    .map(([, v]) => v)
    .sort((a, b) => b.length - a.length);
}

/** A function replacing each of `values` in a text by its masked form. */
export function redactor(values: string[]): (text: string) => string {
  const present = values.filter((v) => v.length > 0);
  if (!present.length) return (text) => text;
  return (text) => present.reduce((t, v) => (t.includes(v) ? t.split(v).join(maskedValue(v)) : t), text);
}
