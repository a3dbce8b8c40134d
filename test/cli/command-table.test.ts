// The lazy command table (src/cli/command-table.ts): each entry's module registers exactly that command with
// the description the root help shows without loading it; the command named on the command line is the only
// one loaded; --version prints the package's version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { buildProgram, COMMANDS, commandOf } from '../../src/cli/command-table.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

test("every command's module registers that one command, with the table's description", async () => {
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const program = new Command('normsoftmax');
    (await entry.load()).register(program);
    assert.deepEqual(
      program.commands.map((c) => c.name()),
      [name],
    );
    assert.equal(program.commands[0]?.description(), entry.description, name);
  }
});

test('the command named on the command line is the only one registered; none named: every one, for help', async () => {
  assert.equal(commandOf(['search', '--index', 'x']), 'search');
  assert.equal(commandOf(['--help']), undefined);
  assert.equal(commandOf(['nope', 'search']), undefined);
  assert.equal(commandOf(['toString']), undefined);
  const one = await buildProgram(['index', 'info', 'x']);
  assert.deepEqual(
    one.commands.map((c) => c.name()),
    ['index'],
  );
  const all = await buildProgram(['--help']);
  assert.deepEqual(
    all.commands.map((c) => c.name()),
    Object.keys(COMMANDS),
  );
});

test('--version prints the package version; --help lists every command; an unknown one is a usage error', () => {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const v = runCli(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout, `${version}\n`);
  const h = runCli(['--help']);
  assert.equal(h.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(h.stdout, new RegExp(`^  ${name} `, 'm'));
  const bad = runCli(['nosuchcommand']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^normsoftmax: unknown command 'nosuchcommand' \(add --help for usage\)\n$/);
});
