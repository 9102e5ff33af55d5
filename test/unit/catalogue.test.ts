import { UsageError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { flag, positional } from '../../src/runbooks/args';
import { CATALOGUE, createCatalogue, type RunInput, VERBS } from '../../src/runbooks/catalogue';
import { loadRunbook } from '../../src/runbooks/handler';
import { defineVerb, isVerb, type AnyRunInput } from '../../src/runbooks/verb';
import { parseCommand } from '../../src/slack/parse';

const NOW = new Date('2026-01-27T12:00:00.000Z');

describe('the catalogue', () => {
  it('finds each verb by id and by its words, the longest words first', () => {
    // act
    const restore = CATALOGUE.find(['restore', 's3', 'x']);
    const status = CATALOGUE.find(['STATUS']);
    const none = CATALOGUE.find(['restore']);

    // assess
    expect(restore?.id).toBe('restore-s3');
    expect(status?.id).toBe('status');
    expect(none).toBeUndefined();
    for (const v of VERBS) expect(CATALOGUE.verb(v.id)).toBe(v);
    expect(CATALOGUE.verb('help')).toBeUndefined();
  });

  it.each(VERBS.map((v) => [v.id, v] as const))('loads the runbook of %s from its folder, and its approval need matches the spec', async (id, verb) => {
    // prepare: the verb's own example, parsed, as its run input
    const { args } = parseCommand(verb.example.replace(/^\/dr\s*/, ''), SANDBOX_CONFIG, NOW);
    const input: AnyRunInput = { ...verb.input(args), runId: 'r-1', requester: 'U1', channel: 'C1', commandText: verb.example, requestedAt: NOW.toISOString(), kind: id };

    // act
    const exp = await loadRunbook(CATALOGUE, id);
    const rb = typeof exp === 'function' ? exp(input) : exp;

    // assess
    expect(typeof rb.plan).toBe('function');
    expect(typeof rb.execute).toBe('function');
    expect(rb.destructive).toBe(verb.destructive);
  });

  it('turns parsed arguments into the run input the runbook reads', () => {
    // act
    const undelete = parseCommand('restore s3 spawn-binaries-us-east-1 --prefix bin/ --since 2h', SANDBOX_CONFIG, NOW);
    const replica = parseCommand('restore s3 spawn-binaries-us-east-1 --from-replica --dry-run', SANDBOX_CONFIG, NOW);
    const backup = parseCommand('backup dynamodb spawn-queues', SANDBOX_CONFIG, NOW);

    // assess
    const input = (p: typeof undelete) => (isVerb(p.spec) ? p.spec.input(p.args) : undefined);
    expect(input(undelete)).toEqual({ bucket: 'spawn-binaries-us-east-1', prefix: 'bin/', since: '2026-01-27T10:00:00.000Z', fromReplica: false, dryRun: false });
    expect(input(replica)).toEqual({ bucket: 'spawn-binaries-us-east-1', fromReplica: true, dryRun: true });
    expect(input(backup)).toEqual({ tables: ['spawn-queues'], dryRun: false, prune: false });
  });

  it('infers RunInput from the verbs: each kind carries its own fields', () => {
    // prepare: a value of each kind, checked by the compiler against the inferred union
    const base = { runId: 'r-1', requester: 'U1', channel: 'C1', commandText: '/dr …', requestedAt: NOW.toISOString() };
    const inputs: RunInput[] = [
      { ...base, kind: 'status' },
      { ...base, kind: 'check-replication', bucket: 'b' },
      { ...base, kind: 'backup-dynamodb', tables: [], dryRun: false, prune: false },
      { ...base, kind: 'restore-s3', bucket: 'b', fromReplica: false, dryRun: true },
    ];
    // @ts-expect-error a restore without its bucket is not a RunInput
    const wrong: RunInput = { ...base, kind: 'restore-s3', fromReplica: false, dryRun: true };

    // assess
    expect(VERBS.map((v) => v.id)).toEqual(expect.arrayContaining(inputs.map((i) => i.kind)));
    expect(wrong.kind).toBe('restore-s3');
  });

  it('refuses a catalogue with two commands of the same words or id, a conflict that names no argument, or an approvalWith that names no flag', () => {
    // prepare
    const make = (id: string, words: string[], conflicts?: [string, string][]) =>
      defineVerb({
        id,
        words,
        group: 'Admin',
        summary: 's',
        example: `/dr ${words.join(' ')}`,
        role: 'viewer',
        destructive: false,
        args: { a: flag('boolean', 'a', 'a'), b: positional('word', 'B', 'b') },
        ...(conflicts ? { conflicts } : {}),
        input: () => ({}),
      });

    // act / assess
    expect(() => createCatalogue([...VERBS, make('status-2', ['status'])])).toThrow(/two commands/);
    expect(() => createCatalogue([...VERBS, make('status', ['state'])])).toThrow(/two commands/);
    expect(() => createCatalogue([make('x', ['x'], [['a', 'nope']])])).toThrow(/conflicts name no argument nope/);
    expect(() => createCatalogue([make('Bad Id', ['x'])])).toThrow(/not a valid verb id/);
    expect(() => createCatalogue([make('x', ['x'], [['a', 'b']])])).not.toThrow();
    // the flag that makes a run need approval must be one of its flags
    expect(() => createCatalogue([{ ...make('x', ['x']), approvalWith: 'b' }])).toThrow(/approvalWith names no flag b/);
    expect(() => createCatalogue([{ ...make('x', ['x']), approvalWith: 'nope' }])).toThrow(/approvalWith names no flag nope/);
    expect(() => createCatalogue([{ ...make('x', ['x']), approvalWith: 'a' }])).not.toThrow();
  });

  it('runs a verb’s cross-argument check when binding, typed by its own schema', () => {
    // prepare: a verb that needs exactly one of two flags
    const oneOf = defineVerb({
      id: 'pick',
      words: ['pick'],
      group: 'Admin',
      summary: 's',
      example: '/dr pick --left',
      role: 'viewer',
      destructive: false,
      args: { left: flag('boolean', 'left', 'l'), right: flag('boolean', 'right', 'r') },
      check: (a) => {
        if (a.left === a.right) throw new UsageError('give exactly one of --left and --right.');
      },
      input: (a) => ({ side: a.left ? 'left' : 'right' }),
    });
    const cat = createCatalogue([oneOf]);

    // act
    const ok = parseCommand('pick --right', SANDBOX_CONFIG, NOW, cat);

    // assess
    expect(isVerb(ok.spec) && ok.spec.input(ok.args)).toEqual({ side: 'right' });
    expect(() => parseCommand('pick', SANDBOX_CONFIG, NOW, cat)).toThrow('give exactly one of --left and --right');
    expect(() => parseCommand('pick --left --right', SANDBOX_CONFIG, NOW, cat)).toThrow('give exactly one');
  });

  it('refuses to load a runbook for an id the catalogue does not have, whatever the run input says', async () => {
    // act / assess
    await expect(loadRunbook(CATALOGUE, '../../handlers/slack')).rejects.toThrow('no verb "../../handlers/slack" in the catalogue');
    await expect(loadRunbook(CATALOGUE, 'help')).rejects.toThrow('no verb "help"');
  });

  it('derives each usage from the schema, naming every flag', () => {
    // assess
    for (const c of CATALOGUE.commands) {
      for (const d of Object.values(c.args)) {
        if (d.at === 'flag') expect(c.usage).toContain(`--${d.name}`);
        else expect(c.usage).toContain(d.choices ? d.choices.join('|') : d.name);
      }
    }
    expect(CATALOGUE.verb('backup-dynamodb')?.usage).toBe('/dr backup dynamodb [TABLE…] [--prune] [--dry-run]');
    expect(CATALOGUE.find(['audit'])?.usage).toBe('/dr audit [N]');
    expect(CATALOGUE.find(['simulate', 'alarm'])?.usage).toBe('/dr simulate alarm replication-lag|backup-failure|ok|garbage');
  });
});
