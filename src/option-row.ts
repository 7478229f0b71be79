// An option as data: one row says its config key, its flag, how its text parses, its default,
// what values it accepts and its help. Commands build their commander options from rows, the
// library fills defaults and checks values from the same rows, and config types are derived
// from them, so an option is written once.
import { ConfigError } from './errors.js';

export interface OptionRow<K extends string = string, T = unknown> {
  /** The camelCase config key. */
  key: K;
  /** '--batch-size <n>'; an on/off switch has no argument. */
  flag: string;
  /** Option text → value (syntax only); absent for switches. */
  parse?: (raw: string) => T;
  default?: T;
  /** --help's default where it depends on something else ("the dataset's classes"). */
  defaultText?: string;
  /** Why a value is refused ("a positive integer"); undefined when it is fine. */
  check?: (value: T) => string | undefined;
  help: string;
  /** Heading the option is listed under in --help and the README. */
  group: string;
  /** The command cannot run without it (commander's requiredOption). */
  required?: boolean;
}

/** Any row, whatever its value type (what tables of rows hold). */
export interface AnyOptionRow extends Omit<OptionRow<string, never>, 'parse' | 'default'> {
  parse?: (raw: string) => unknown;
  default?: unknown;
}

/** Rows with a default (or required ones) give required config fields, the others optional fields. */
type ValueOf<R> = R extends OptionRow<string, infer T> ? T : never;
type Always = { default: unknown } | { required: true };
export type ConfigFrom<Rows extends readonly AnyOptionRow[]> =
  { [R in Rows[number] as R extends Always ? R['key'] : never]: ValueOf<R> }
  & { [R in Rows[number] as R extends Always ? never : R['key']]?: ValueOf<R> };

type WithDefault<D, T> = [D] extends [undefined] ? unknown : { default: T };

/** The flag's name as typed: '--batch-size'. */
export function flagName(row: Pick<AnyOptionRow, 'flag'>): string {
  return row.flag.split(' ')[0];
}

function parseNumberText(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`Expected a number for ${flag} but received '${raw}'`, flag);
  return n;
}

interface Common<D> {
  help: string;
  group: string;
  default?: D;
  defaultText?: string;
}

/** The row's help with its default, and who reads it when only some do: "decay factor (step, multistep; default: 0.1)". */
export function describeRow(row: AnyOptionRow, users: readonly string[] = []): string {
  const value = row.default;
  const shown = row.required ? 'required' : row.defaultText ?? (value === false ? 'off' : Array.isArray(value) ? (value.length ? value.join(',') : 'none') : String(value));
  return `${row.help} (${users.length ? `${users.join(', ')}; ` : ''}${row.required ? shown : `default: ${shown}`})`;
}

/** A number in [min, max] (bounds inclusive unless named in `open`), optionally an integer. */
export function numberRow<K extends string, D extends number | undefined = undefined>(key: K, flag: string,
  o: Common<D> & { min?: number; max?: number; integer?: boolean; open?: 'min' | 'max' | 'both'; expected?: string }): OptionRow<K, number> & WithDefault<D, number> {
  const name = flag.split(' ')[0];
  const min = o.min ?? -Infinity, max = o.max ?? Infinity;
  const openMin = o.open === 'min' || o.open === 'both', openMax = o.open === 'max' || o.open === 'both';
  const range = `${openMin ? '(' : '['}${min}, ${max}${openMax ? ')' : ']'}`;
  const expected = o.expected ?? (o.integer
    ? (max === Infinity ? (min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`) : `an integer between ${min} and ${max}`)
    : (max === Infinity && min === 0 ? (openMin ? 'a positive number' : 'a non-negative number') : `a number in ${range}`));
  return {
    key, flag, help: o.help, group: o.group, defaultText: o.defaultText,
    ...(o.default === undefined ? {} : { default: o.default }),
    parse: (raw) => parseNumberText(name, raw),
    check: (v) => {
      const inRange = typeof v === 'number' && (openMin ? v > min : v >= min) && (openMax ? v < max : v <= max);
      return inRange && (!o.integer || Number.isInteger(v)) && Number.isFinite(v) ? undefined : expected;
    },
  } as OptionRow<K, number> & WithDefault<D, number>;
}

/** Comma-separated numbers, each in [min, max], optionally exactly `length` of them. */
export function listRow<K extends string, T extends number[], D extends T | undefined = undefined>(key: K, flag: string,
  o: Common<D> & { length?: number; integer?: boolean; min?: number; max?: number; ok?: (v: T) => boolean; expected: string }): OptionRow<K, T> & WithDefault<D, T> {
  const name = flag.split(' ')[0];
  const min = o.min ?? -Infinity, max = o.max ?? Infinity;
  return {
    key, flag, help: o.help, group: o.group, defaultText: o.defaultText,
    ...(o.default === undefined ? {} : { default: o.default }),
    parse: (raw) => raw.split(',').map((v) => parseNumberText(name, v)) as T,
    check: (v) => (Array.isArray(v) && (o.length === undefined || v.length === o.length)
      && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max && (!o.integer || Number.isInteger(x)))
      && (o.ok?.(v) ?? true) ? undefined : o.expected),
  } as OptionRow<K, T> & WithDefault<D, T>;
}

/** One of a set of names; `names` is called late so registries can fill it. */
export function choiceRow<K extends string, T extends string, D extends T | undefined = undefined>(key: K, flag: string,
  names: () => readonly T[], o: Common<D>): OptionRow<K, T> & WithDefault<D, T> {
  return {
    key, flag, help: o.help, group: o.group, defaultText: o.defaultText,
    ...(o.default === undefined ? {} : { default: o.default }),
    parse: (raw) => raw as T,
    check: (v) => (names().includes(v) ? undefined : `one of ${names().join(', ')}`),
  } as OptionRow<K, T> & WithDefault<D, T>;
}

/** An on/off switch, off by default. */
export function switchRow<K extends string>(key: K, flag: string, o: { help: string; group: string }): OptionRow<K, boolean> & { default: boolean } {
  return { key, flag, help: o.help, group: o.group, default: false, check: (v) => (typeof v === 'boolean' ? undefined : 'true or false') };
}

/** Free text (a path). */
export function textRow<K extends string, Q extends boolean = false>(key: K, flag: string,
  o: { help: string; group: string; defaultText?: string; required?: Q }): OptionRow<K, string> & ([Q] extends [true] ? { required: true } : unknown) {
  return {
    key, flag, help: o.help, group: o.group, defaultText: o.defaultText, required: o.required,
    parse: (raw: string) => raw, check: (v: string) => (typeof v === 'string' && v !== '' ? undefined : 'a non-empty text'),
  } as OptionRow<K, string> & ([Q] extends [true] ? { required: true } : unknown);
}

/** The row's check as a thrown ConfigError naming the flag: "Expected a positive integer for --epochs but received 0". */
export function checkRow(row: AnyOptionRow, value: unknown): void {
  const expected = (row.check as ((v: unknown) => string | undefined) | undefined)?.(value);
  if (expected !== undefined) {
    const text = Array.isArray(value) ? value.join(',') : String(value);
    const shown = typeof value === 'string' || (Array.isArray(value) && value.some((v) => typeof v === 'string')) ? `'${text}'` : text;
    throw new ConfigError(`Expected ${expected} for ${flagName(row)} but received ${shown}`, flagName(row));
  }
}
