#!/usr/bin/env node
// Lists the functions of TypeScript files longer than a limit, from the line of their header to
// the line of their closing brace (nested functions count in their parent too, as ESLint's
// max-lines-per-function counts them). Issue 10 holds src/train and src/cli to 60 lines a
// function; test/scripts/function-lengths.test.ts runs this.
//
//   node scripts/function-lengths.mjs [--max 60] DIR_OR_FILE...   (exit 1 when any is longer)
//
// It reads text, not a syntax tree: strings, template literals and comments are blanked first,
// then each `{` whose header reads as a function (function …(…), method(…) {, … => {) is matched
// with its closing brace. Control statements (if/for/while/switch/catch) and object or class
// bodies are not functions.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The source with the contents of strings, template literals, regexes-free comments replaced by spaces (newlines kept). */
function blank(source) {
  let out = '';
  let i = 0;
  const keep = (c) => (c === '\n' ? '\n' : ' ');
  while (i < source.length) {
    const c = source[i], next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') out += ' ', i++;
    } else if (c === '/' && next === '*') {
      out += '  ', i += 2;
      while (i < source.length && !(source[i] === '*' && source[i + 1] === '/')) out += keep(source[i++]);
      out += '  ', i += 2;
    } else if (c === '"' || c === "'" || c === '`') {
      out += c, i++;
      // Template literals: ${…} parts are code, but blanking them whole is enough to find function bodies.
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\') out += ' ', i++;
        if (i < source.length) out += keep(source[i++]);
      }
      out += c, i++;
    } else {
      out += c, i++;
    }
  }
  return out;
}

const CONTROL = /\b(if|for|while|switch|catch|with|else|do|try|finally)\s*(\(|$)/;

/** Whether the text before a `{` (since the previous ; { or }) is a function's header. */
function isFunctionHeader(header) {
  const h = header.replace(/\s+/g, ' ').trim();
  if (h === '' || /^(export )?(default )?(abstract )?(class|interface|enum|namespace|type)\b/.test(h)) return false;
  if (/=>$/.test(h)) return true;
  if (/\bfunction\b[^(]*\(/.test(h)) return true;
  if (CONTROL.test(h.replace(/^.*[=(,:?]\s*/, '')) && !/\)\s*(:[^=]*)?$/.test(h.replace(CONTROL, ''))) return false;
  // A method or constructor: name(params) or name(params): ReturnType, not a call inside an expression.
  return /^(public |private |protected |static |async |get |set |override |readonly )*(\*\s*)?[\w$#]+\s*(<[^()]*>)?\s*\(.*\)\s*(:\s*[^=]+)?$/.test(h)
    && !CONTROL.test(h);
}

/** [{ name, line, lines }] for every function of `source` longer than `max` lines. */
export function longFunctions(source, max) {
  const code = blank(source);
  const lineAt = [];
  let line = 1;
  for (let i = 0; i < code.length; i++) {
    lineAt.push(line);
    if (code[i] === '\n') line++;
  }
  const found = [];
  // Open braces: the function header they close over (or null), its first line, and for a brace
  // inside a header's parentheses (an object default) the header to go on with after it.
  const stack = [];
  let headerStart = 0, headerDepth = 0, parens = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '(') parens++;
    else if (c === ')') headerDepth = Math.min(headerDepth, --parens);
    else if (c === '{') {
      const header = code.slice(headerStart, i);
      const arrow = /=>\s*$/.test(header);
      if (!arrow && parens > headerDepth) {
        stack.push({ fn: null, resume: [headerStart, headerDepth] });
        continue;
      }
      const fn = arrow || isFunctionHeader(header) ? header.replace(/\s+/g, ' ').trim() : null;
      // The function starts on its header's first non-blank line.
      const offset = headerStart + (header.length - header.trimStart().length);
      stack.push({ fn, start: lineAt[Math.min(offset, i)] });
      headerStart = i + 1, headerDepth = parens;
    } else if (c === '}') {
      const open = stack.pop();
      if (open?.resume) {
        [headerStart, headerDepth] = open.resume;
        continue;
      }
      if (open?.fn) {
        const lines = lineAt[i] - open.start + 1;
        if (lines > max) found.push({ name: open.fn.slice(0, 80), line: open.start, lines });
      }
      headerStart = i + 1, headerDepth = parens;
    } else if (c === ';' && parens === headerDepth) {
      headerStart = i + 1;
    }
  }
  return found;
}

function* files(path) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) yield* files(join(path, entry));
  } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
    yield path;
  }
}

/** Every function over `max` lines in the .ts files under `paths`, as "file:line name (N lines)". */
export function report(paths, max = 60) {
  return paths.flatMap((p) => [...files(p)]).flatMap((file) =>
    longFunctions(readFileSync(file, 'utf8'), max).map((f) => `${file}:${f.line} ${f.name} (${f.lines} lines)`));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--max');
  const max = at >= 0 ? Number(args.splice(at, 2)[1]) : 60;
  const lines = report(args, max);
  for (const l of lines) console.log(l);
  process.exitCode = lines.length ? 1 : 0;
}
