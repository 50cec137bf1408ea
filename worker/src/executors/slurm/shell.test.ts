import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { PreparedRun } from '../types.js';
import { SlurmError } from './errors.js';
import { checkRunForScript, renderJobScript, shellQuote } from './shell.js';

/** What bash makes of `printf '%s\0' <words>`: the words, one array element each. */
const throughBash = (words: string[]): string[] =>
  execFileSync('bash', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);

describe('shellQuote', () => {
  it('single-quotes, writing each quote as a closed quote, an escaped one and a reopened one', () => {
    expect(shellQuote('plain')).toBe(`'plain'`);
    expect(shellQuote('')).toBe(`''`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$(id)')).toBe(`'$(id)'`);
  });

  const cases: Record<string, string> = {
    spaces: 'two  words ',
    'single quotes': "'a' ''b'' '",
    'double quotes': '"quoted"',
    'command substitution': '$(touch /tmp/tileflow-pwned)',
    backticks: '`touch /tmp/tileflow-pwned`',
    variables: '$HOME ${PATH} $1 $@',
    newlines: 'line one\nline two\n',
    empty: '',
    globs: '* ? [a-z]',
    'history and escapes': '!! \\n \\',
    'leading dash': '-n',
    'control and unicode': 'tab\there\r é ✓',
    'shell syntax': '; | & > < ( ) { }',
  };
  for (const [name, value] of Object.entries(cases)) {
    it(`reaches bash unchanged: ${name}`, () => {
      expect(throughBash([value, 'next'])).toEqual([value, 'next']);
    });
  }

  it('refuses a NUL byte, which no argv element can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(SlurmError);
  });
});

describe('renderJobScript', () => {
  const run: PreparedRun = {
    executionId: 'e1',
    argv: ['/scripts/my script.sh', "it's", '$(x)'],
    env: { PROJECT_NAME: "a 'b'", EMPTY: '' },
    cwd: '/data/out dir',
    stdoutPath: '/logs/e1.out',
    stderrPath: '/logs/e1.err',
    timeoutSeconds: null,
    clusterOptions: {},
    workUnits: 1,
  };

  it('cds, exports and execs with every value quoted', () => {
    const text = renderJobScript(run);
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    expect(text).toContain(`cd -- '/data/out dir' ||`);
    expect(text).toContain(`export PROJECT_NAME='a '\\''b'\\'''`);
    expect(text).toContain(`export EMPTY=''`);
    expect(text).toContain(`exec '/scripts/my script.sh' 'it'\\''s' '$(x)'\n`);
    expect(text).not.toContain('exec >>');
  });

  it('redirects output itself when asked (array tasks)', () => {
    expect(renderJobScript(run, { redirectOutput: true })).toContain(`exec >>'/logs/e1.out' 2>>'/logs/e1.err'`);
  });

  it('is valid bash', () => {
    expect(() => execFileSync('bash', ['-n'], { input: renderJobScript(run) })).not.toThrow();
  });

  it('refuses what a shell cannot export or run', () => {
    expect(checkRunForScript({ ...run, env: { 'NOT-A-NAME': 'x' } })).toMatch(/NOT-A-NAME/);
    expect(checkRunForScript({ ...run, argv: [] })).toMatch(/no script/);
    expect(checkRunForScript({ ...run, argv: ['/a', 'b\0c'] })).toMatch(/NUL/);
    expect(checkRunForScript(run)).toBeNull();
    expect(() => renderJobScript({ ...run, env: { '1X': 'y' } })).toThrow(SlurmError);
  });
});
