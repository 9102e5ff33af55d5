import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { CATALOGUE, createCatalogue, VERBS } from '../../src/runbooks/catalogue';
import { positional } from '../../src/runbooks/args';
import { defineVerb, GROUPS } from '../../src/runbooks/verb';
import { renderAudit } from '../../src/slack/views/audit';
import { renderHelp } from '../../src/slack/views/help';
import { ACTION_APPROVE, ACTION_REJECT, durationLine, plural, renderRun, type RunPhase, type RunView, withDecision } from '../../src/slack/views/run';
import type { AuditEvent } from '../../src/store/state';

const PHASES: RunPhase[] = ['planning', 'planned', 'awaiting_approval', 'running', 'succeeded', 'failed', 'rejected', 'expired', 'dry_run', 'nothing_to_do'];

function view(over: Partial<RunView> = {}): RunView {
  return { runId: 'r-0123456789ab', title: 'Undelete spawn-binaries-us-east-1', requester: 'UALICE', phase: 'planned', ...over };
}

const APPROVAL = { id: 'ap-feedc0ffee01', required: 2, approvers: [] as string[], expiresAt: '2026-01-27T12:30:00.000Z' };

function sections(blocks: KnownBlock[] = []): SectionBlock[] {
  return blocks.filter((b): b is SectionBlock => b.type === 'section');
}

function contexts(blocks: KnownBlock[] = []): ContextBlock[] {
  return blocks.filter((b): b is ContextBlock => b.type === 'context');
}

function actions(blocks: KnownBlock[] = []): ActionsBlock[] {
  return blocks.filter((b): b is ActionsBlock => b.type === 'actions');
}

/** Every mrkdwn or plain text in the blocks, in order. */
function texts(blocks: KnownBlock[] = []): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(blocks);
  return out;
}

function allText(blocks: KnownBlock[] = []): string {
  return texts(blocks).join('\n');
}

function buttons(blocks: KnownBlock[] = []): Button[] {
  return actions(blocks).flatMap((a) => a.elements.filter((e): e is Button => e.type === 'button'));
}

describe('renderRun', () => {
  it.each(PHASES)('shows the phase, the escaped title, the requester and the run id (%s)', (phase) => {
    // act
    const msg = renderRun(view({ phase, title: 'Restore <b> & co' }));

    // assess
    const head = sections(msg.blocks)[0]?.text?.text ?? '';
    expect(head).toContain('*Restore &lt;b&gt; &amp; co*');
    expect(head).toContain('requested by <@UALICE>');
    expect(head).toContain('run `r-0123456789ab`');
    expect(msg.text).toContain('(run r-0123456789ab)');
  });

  it('names each phase in words', () => {
    // act
    const heads = PHASES.map((phase) => renderRun(view({ phase })).text.split(':')[0]);

    // assess
    expect(heads).toEqual([
      'Planning',
      'Plan',
      'Waiting for approval',
      'Running',
      'Done',
      'Failed',
      'Rejected',
      'Approval expired',
      'Dry run — nothing changed',
      'Nothing to do',
    ]);
  });

  it('offers Approve and Reject buttons while awaiting approval, carrying only the approval id', () => {
    // act
    const msg = renderRun(view({ phase: 'awaiting_approval', approval: APPROVAL, plan: ['250 objects'] }));

    // assess
    const [block] = actions(msg.blocks);
    expect(block?.block_id).toBe('approval:ap-feedc0ffee01');
    const [approve, reject] = buttons(msg.blocks);
    expect(approve).toMatchObject({ action_id: ACTION_APPROVE, value: 'ap-feedc0ffee01', style: 'primary', text: { text: 'Approve' } });
    expect(reject).toMatchObject({ action_id: ACTION_REJECT, value: 'ap-feedc0ffee01', style: 'danger', text: { text: 'Reject' } });
    expect(ACTION_APPROVE).toBe('run_approve');
    expect(ACTION_REJECT).toBe('run_reject');
    expect(reject).not.toHaveProperty('confirm');
  });

  it('asks for confirmation before approving, naming the escaped title', () => {
    // act
    const msg = renderRun(view({ phase: 'awaiting_approval', approval: APPROVAL, title: 'Undelete <!here>' }));

    // assess
    const confirm = buttons(msg.blocks)[0]?.confirm;
    expect(confirm?.title?.text).toBe('Approve this run?');
    expect(confirm?.text.text).toBe('This will run *Undelete &lt;!here&gt;* now.');
    expect(confirm?.confirm?.text).toBe('Approve');
    expect(confirm?.deny?.text).toBe('Cancel');
  });

  it('says how many approvers are needed, who voted, and when it expires', () => {
    // act
    const none = renderRun(view({ phase: 'awaiting_approval', approval: APPROVAL }));
    const one = renderRun(view({ phase: 'awaiting_approval', approval: { ...APPROVAL, approvers: ['UBOB'] } }));
    const single = renderRun(view({ phase: 'awaiting_approval', approval: { ...APPROVAL, required: 1 } }));

    // assess
    const needs = (m: ReturnType<typeof renderRun>) => texts(contexts(m.blocks)).find((t) => t.startsWith('Needs ')) ?? '';
    expect(needs(none)).toBe(
      'Needs 2 approvers other than the requester. Expires <!date^1769517000^{date_short_pretty} {time_secs}|2026-01-27 12:30:00Z>.',
    );
    expect(needs(one)).toContain('Needs 2 approvers other than the requester (1 of 2: <@UBOB>).');
    expect(needs(single)).toMatch(/^Needs 1 approver other than the requester\./);
  });

  it.each(PHASES.filter((p) => p !== 'awaiting_approval'))('shows no buttons when the phase is %s, even with an approval', (phase) => {
    // act
    const msg = renderRun(view({ phase, approval: APPROVAL }));

    // assess
    expect(actions(msg.blocks)).toHaveLength(0);
    expect(allText(msg.blocks)).not.toContain('Needs ');
  });

  it('writes a line for each kind of decision', () => {
    // prepare
    const at = '2026-01-27T12:05:00.000Z';

    // act
    const approved = renderRun(view({ phase: 'running', decision: { by: ['UBOB', 'UDAVE'], at, kind: 'approved' } }));
    const rejected = renderRun(view({ phase: 'rejected', decision: { by: ['UBOB'], at, kind: 'rejected', reason: 'not <now> & not here' } }));
    const expired = renderRun(view({ phase: 'expired', decision: { by: [], at, kind: 'expired' } }));

    // assess
    const line = (m: ReturnType<typeof renderRun>) => texts(contexts(m.blocks)).join('\n');
    expect(line(approved)).toMatch(/^:white_check_mark: Approved by <@UBOB>, <@UDAVE> at <!date\^1769515500\^/);
    expect(line(rejected)).toMatch(/^:no_entry: Rejected by <@UBOB> at <!date.*>: not &lt;now&gt; &amp; not here$/);
    expect(line(expired)).toMatch(/^:alarm_clock: No decision before <!date.*>; nothing was changed\.$/);
  });

  it('draws a progress bar with the counts while running', () => {
    // act
    const quarter = renderRun(view({ phase: 'running', progress: { done: 3_086, total: 12_345, label: 'objects restored' } }));
    const empty = renderRun(view({ phase: 'running', progress: { done: 0, total: 0, label: 'objects restored' } }));
    const over = renderRun(view({ phase: 'running', progress: { done: 30, total: 20, label: 'tables' } }));

    // assess
    const bar = (m: ReturnType<typeof renderRun>) => sections(m.blocks).map((s) => s.text?.text ?? '').find((t) => t.startsWith('`')) ?? '';
    expect(bar(quarter)).toBe('`' + '█'.repeat(5) + '░'.repeat(15) + '` objects restored 3,086 / 12,345');
    expect(bar(empty)).toBe('`' + '░'.repeat(20) + '` objects restored 0 / 0');
    expect(bar(over)).toBe('`' + '█'.repeat(20) + '` tables 30 / 20');
  });

  it('shows the count alone while planning, when the total is not known yet', () => {
    // act
    const listing = renderRun(view({ phase: 'planning', progress: { done: 40_000, total: 0, label: 'Versions listed so far:' } }));

    // assess
    const texts = sections(listing.blocks).map((s) => s.text?.text ?? '');
    expect(texts).toContain('Versions listed so far: 40,000…');
    expect(texts.join('\n')).not.toContain('/ 0');
  });

  it('shows no progress once the run has ended', () => {
    // act
    const done = renderRun(view({ phase: 'succeeded', progress: { done: 5, total: 5, label: 'tables' } }));

    // assess
    expect(allText(done.blocks)).not.toContain('5 / 5');
  });

  it('lists at most 20 failures, escaped, then "…and N more"', () => {
    // prepare
    const failures = Array.from({ length: 25 }, (_, i) => `key-${i}<x>: AccessDenied`);

    // act
    const msg = renderRun(view({ phase: 'failed', failures }));

    // assess
    const text = sections(msg.blocks).map((s) => s.text?.text ?? '').find((t) => t.startsWith('*25 failed:*')) ?? '';
    expect(text.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(20);
    expect(text).toContain('• key-19&lt;x&gt;: AccessDenied');
    expect(text).not.toContain('key-20');
    expect(text).toContain('\n…and 5 more (see the audit log)');
  });

  it('shows the result lines, the error and the duration', () => {
    // act
    const msg = renderRun(view({ phase: 'failed', result: ['restored 10', 'skipped 2'], error: 'AccessDenied on `spawn-x`', durationMs: 125_000 }));

    // assess
    const all = allText(msg.blocks);
    expect(all).toContain('restored 10\nskipped 2');
    expect(all).toContain('AccessDenied on `spawn-x`');
    expect(all).toContain('took 2 min 5 s');
  });

  it('keeps every section within 3,000 characters and the message within 50 blocks, whatever the size', () => {
    // prepare
    const huge = view({
      phase: 'awaiting_approval',
      title: '<!channel>&'.repeat(2_000),
      plan: Array.from({ length: 2_000 }, (_, i) => `plan line ${i} `.repeat(10)),
      approval: { ...APPROVAL, approvers: ['UBOB'] },
      decision: { by: ['UBOB'], at: '2026-01-27T12:05:00.000Z', kind: 'approved' },
      progress: { done: 1, total: 2, label: 'x'.repeat(5_000) },
      result: Array.from({ length: 2_000 }, () => 'r'.repeat(100)),
      failures: Array.from({ length: 10_000 }, (_, i) => `${'k'.repeat(500)}-${i} <failed> & more`),
      error: 'e'.repeat(10_000),
      durationMs: 3_600_000 * 5,
    });

    // act
    const msgs = PHASES.map((phase) => renderRun({ ...huge, phase }));

    // assess
    for (const msg of msgs) {
      expect(msg.blocks?.length ?? 0).toBeLessThanOrEqual(50);
      for (const s of sections(msg.blocks)) expect(s.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
      for (const b of buttons(msg.blocks)) {
        expect(b.value?.length ?? 0).toBeLessThanOrEqual(2000);
        expect(b.confirm?.text.text.length ?? 0).toBeLessThanOrEqual(300);
      }
    }
    const failed = msgs[PHASES.indexOf('failed')];
    expect(allText(failed?.blocks)).toContain('*10,000 failed:*');
  });

  it('never turns a title into a live mention in the blocks', () => {
    // act
    const msg = renderRun(view({ phase: 'awaiting_approval', approval: APPROVAL, title: 'Restore <!channel> <@U999> <#C1|x> <https://evil.example|ok>' }));

    // assess
    const all = allText(msg.blocks);
    for (const live of ['<!channel>', '<@U999>', '<#C1', '<https://']) expect(all).not.toContain(live);
    expect(all).toContain('&lt;!channel&gt;');
  });

  // Regression: renderRun once put the raw title into `text`, the notification fallback, which
  // Slack also parses for mentions (src/slack/views/run.ts, last lines of renderRun).
  it('never turns a title into a live mention in the notification text', () => {
    // act
    const msg = renderRun(view({ title: 'Restore <!channel> now' }));

    // assess
    expect(msg.text).not.toContain('<!channel>');
    expect(msg.text).toContain('Restore');
  });
});

describe('plural', () => {
  it('one in the singular; none, many and thousands in the plural, with an s or as given', () => {
    expect([0, 1, 2, 1000].map((n) => plural(n, 'role'))).toEqual(['0 roles', '1 role', '2 roles', '1,000 roles']);
    expect([1, 3].map((n) => plural(n, 'inline policy', 'inline policies'))).toEqual(['1 inline policy', '3 inline policies']);
  });
});

describe('withDecision', () => {
  it('removes the buttons and the "Needs…" line and appends the decision, keeping the rest', () => {
    // prepare
    const msg = renderRun(view({ phase: 'awaiting_approval', approval: APPROVAL, plan: ['250 objects under bin/'] }));
    const blocks = msg.blocks ?? [];

    // act
    const decided = withDecision(blocks, ':white_check_mark: Approved by <@UBOB>');

    // assess
    expect(actions(decided)).toHaveLength(0);
    expect(allText(decided)).not.toContain('Needs ');
    expect(decided.slice(0, -1)).toEqual(blocks.filter((b) => b.type === 'section'));
    expect(decided.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: ':white_check_mark: Approved by <@UBOB>' }] });
  });

  it('leaves other actions blocks alone', () => {
    // prepare
    const other: KnownBlock = { type: 'actions', block_id: 'alarm:1', elements: [{ type: 'button', action_id: 'x', text: { type: 'plain_text', text: 'Ack' } }] };

    // act
    const decided = withDecision([other], 'done');

    // assess
    expect(decided[0]).toBe(other);
    expect(decided).toHaveLength(2);
  });
});

describe('renderHelp', () => {
  const COMMANDS = CATALOGUE.commands;
  const help = (opts: { sandbox: boolean; topic?: string[] }) => renderHelp({ catalogue: CATALOGUE, ...opts });

  it('lists every command that is not sandbox-only, with its usage and example', () => {
    // act
    const msg = help({ sandbox: false });

    // assess
    const all = allText(msg.blocks);
    for (const c of COMMANDS.filter((c) => !c.sandboxOnly)) {
      expect(all).toContain(`*\`${c.usage}\`*`);
      expect(all).toContain(`e.g. \`${c.example}\``);
      expect(msg.text).toContain(`${c.usage} — ${c.summary}`);
    }
  });

  it('groups the commands under Look, Back up, Restore, Incidents and Admin, in that order', () => {
    // act
    const texts = sections(help({ sandbox: true }).blocks).map((s) => s.text?.text ?? '');

    // assess
    const headings = texts.slice(1).map((t) => t.split('\n')[0]);
    const used = GROUPS.filter((g) => COMMANDS.some((c) => c.group === g));
    expect(headings).toEqual(used.map((g) => `*${g}*`));
    const restore = texts.find((t) => t.startsWith('*Restore*')) ?? '';
    expect(restore).toContain('/dr restore s3 BUCKET');
    expect(restore).not.toContain('/dr status');
  });

  it('hides sandbox-only commands outside the sandbox and shows them, tagged, inside', () => {
    // prepare
    const sandboxOnly = COMMANDS.filter((c) => c.sandboxOnly);

    // act
    const aws = help({ sandbox: false });
    const sandbox = help({ sandbox: true });

    // assess
    expect(sandboxOnly.length).toBeGreaterThan(0);
    for (const c of sandboxOnly) {
      expect(allText(aws.blocks)).not.toContain(c.usage);
      expect(aws.text).not.toContain(c.usage);
      expect(allText(sandbox.blocks)).toContain(`*\`${c.usage}\`* _(${c.role}, sandbox only)_`);
      expect(allText(sandbox.blocks).match(/sandbox only/g)).toHaveLength(sandboxOnly.length);
    }
  });

  it('tags the role and the approval each command needs', () => {
    // act
    const all = allText(help({ sandbox: false }).blocks);

    // assess
    expect(all).toContain('*`/dr help [VERB…]`*\n');
    expect(all).toContain('*`/dr status`* _(viewer)_');
    expect(all).toMatch(/\*`\/dr restore s3 [^`]*`\* _\(operator, needs approval\)_/);
    // every backup verb with --prune says, in the list, that it deletes and needs approval
    for (const v of ['dynamodb', 'iam', 'amis', 'route53', 'lambda']) expect(all).toMatch(new RegExp(`\\*\`/dr backup ${v} [^\`]*\`\\* _\\(operator, --prune deletes, needs approval\\)_`));
    expect(all).toMatch(/\*`\/dr backup all [^`]*`\* _\(operator\)_/);
  });

  it('keeps every section within 3,000 characters and the message within 50 blocks and 12,000 characters, even with 30 verbs', () => {
    // prepare: the real verbs plus 26 made-up ones with long texts, all in one group
    const extra = Array.from({ length: 26 }, (_, i) =>
      defineVerb({
        id: `fake-${i}`,
        words: ['fake', `v${i}`],
        group: 'Incidents',
        summary: 'x'.repeat(150),
        example: `/dr fake v${i} ${'y'.repeat(60)}`,
        role: 'operator',
        destructive: true,
        args: { thing: positional('word', 'THING', 'a thing', { required: true }) },
        input: (a) => ({ thing: a.thing }),
      }),
    );
    const big = createCatalogue([...VERBS, ...extra]);

    // act
    const msg = renderHelp({ sandbox: true, catalogue: big });

    // assess
    for (const s of sections(msg.blocks)) expect(s.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    expect(msg.blocks?.length).toBeLessThanOrEqual(50);
    expect(allText(msg.blocks).length).toBeLessThanOrEqual(12_000);
    for (const v of extra) expect(allText(msg.blocks)).toContain(v.usage);
  });

  it('shows one verb in detail: usage, every argument with its help, an example, the role and the approval', () => {
    // act
    const msg = help({ sandbox: false, topic: ['restore', 's3'] });

    // assess
    const all = allText(msg.blocks);
    expect(all).toContain('*`/dr restore s3 BUCKET [--prefix P] [--since TIME|DURATION] [--from-replica] [--dry-run]`*');
    for (const flag of ['`BUCKET`', '`--prefix P` — only keys under this prefix', '`--since TIME|DURATION`', '`--from-replica`', '`--dry-run` — post the plan only']) expect(all).toContain(flag);
    expect(all).toContain('*Example*: `/dr restore s3 spawn-binaries-us-east-1 --prefix bin/ --since 2h`');
    expect(all).toContain('Needs the *operator* role.');
    expect(all).toContain('until another approver presses Approve');
  });

  it('says a backup verb needs no approval except with --prune, which deletes; names an unknown topic with the nearest ones', () => {
    // act
    const backup = allText(help({ sandbox: false, topic: ['backup', 'dynamodb'] }).blocks);
    const unknown = help({ sandbox: false, topic: ['restore', 'tape'] });
    const sandboxOnly = help({ sandbox: false, topic: ['simulate', 'alarm'] });

    // assess
    expect(backup).toContain('Needs no approval without `--prune`. With `--prune` it deletes:');
    expect(backup).toContain('deletes nothing until another approver presses Approve (four eyes)');
    expect(unknown.text).toContain('There is no command `restore tape`.');
    expect(unknown.text).toContain('`/dr help restore s3`');
    expect(sandboxOnly.text).toContain('There is no command `simulate alarm`.');
  });
});

describe('renderAudit', () => {
  function event(i: number, over: Partial<AuditEvent> = {}): AuditEvent {
    const at = new Date(Date.parse('2026-01-27T12:00:00.000Z') - i * 60_000).toISOString();
    return { id: `a-${i}`, at, actor: 'UALICE', action: 'command', target: `/dr status #${i}`, result: 'ok', ...over };
  }

  it('says so when there is nothing recorded', () => {
    // act
    const msg = renderAudit([], 10);

    // assess
    expect(msg.text).toBe('No audit events recorded yet.');
    expect(msg.blocks).toBeUndefined();
  });

  it('keeps the newest-first order it is given and says how many there are', () => {
    // prepare
    const events = [event(0), event(1, { result: 'refused', actor: 'UEVE', detail: 'forbidden' }), event(2, { actor: 'system', runId: 'r-1' })];

    // act
    const msg = renderAudit(events, 10);

    // assess
    const [header, body] = sections(msg.blocks).map((s) => s.text?.text ?? '');
    expect(header).toBe('*All 3 audit events* (newest first)');
    const lines = (body ?? '').split('\n');
    expect(lines).toHaveLength(3);
    const at = (iso: string) => `<!date^${Date.parse(iso) / 1000}^{date_short_pretty} {time_secs}|${iso.slice(0, 19).replace('T', ' ')}Z>`;
    expect(lines[0]).toBe(`:white_check_mark: ${at('2026-01-27T12:00:00Z')} <@UALICE> *command* \`/dr status #0\` → ok`);
    expect(lines[1]).toBe(`:no_entry_sign: ${at('2026-01-27T11:59:00Z')} <@UEVE> *command* \`/dr status #1\` → refused — forbidden`);
    expect(lines[2]).toBe(`:white_check_mark: ${at('2026-01-27T11:58:00Z')} system *command* \`/dr status #2\` → ok (run r-1)`);
  });

  it('says "most recent" when there may be more than were asked for', () => {
    // act
    const msg = renderAudit([event(0), event(1)], 2);

    // assess
    expect(sections(msg.blocks)[0]?.text?.text).toBe('*2 most recent audit events* (newest first)');
  });

  it('cuts long targets and details at a word with an ellipsis, on one line, with code spans balanced', () => {
    // prepare
    const plan = `Bucket \`spawn-binaries\`; 250 deleted objects will be restored; e.g. ${Array.from({ length: 20 }, (_, i) => `\`bin/spawn-tool-${i}\``).join(', ')}`;
    const events = [event(0, { actor: 'system', target: `/dr restore s3 ${'verylongbucketname '.repeat(10)}`, detail: `${plan}\nsecond line` })];

    // act
    const line = sections(renderAudit(events, 1).blocks)[1]?.text?.text ?? '';

    // assess
    expect(line).not.toContain('\n');
    expect((line.match(/`/g)?.length ?? 0) % 2).toBe(0);
    expect(line).toMatch(/`\/dr restore s3 (verylongbucketname ){4,}verylongbucketname…`/);
    expect(line).toMatch(/bin\/spawn-tool-\d+…`$|\d+`…$|, …$/);
  });

  it('names people as mentions and shows times as Slack dates inside details', () => {
    // prepare
    const events = [event(0, { actor: 'system', result: 'rejected', detail: 'rejected by UBOB' }), event(1, { result: 'pending', detail: '1 approver(s), expires 2026-01-27T12:30:00.103Z' })];

    // act
    const body = sections(renderAudit(events, 2).blocks)[1]?.text?.text ?? '';

    // assess
    expect(body).toContain('— rejected by <@UBOB>');
    expect(body).toContain(`expires <!date^${Math.floor(Date.parse('2026-01-27T12:30:00.103Z') / 1000)}^{date_short_pretty} {time_secs}|2026-01-27 12:30:00Z>`);
    expect(body).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('escapes targets and details so they cannot mention, link or format', () => {
    // prepare
    const events = [event(0, { target: '/dr restore s3 <!channel>', detail: 'see <https://evil.example|here> & <@U1>' })];

    // act
    const msg = renderAudit(events, 1);

    // assess
    const all = allText(msg.blocks);
    expect(all).not.toMatch(/<!channel>|<https:|<@U1>/);
    expect(all).toContain('`/dr restore s3 &lt;!channel&gt;`');
    expect(all).toContain('see &lt;https://evil.example|here&gt; &amp; &lt;@U1&gt;');
  });

  it('chunks 100 long events into sections of at most 3,000 characters, keeping all of them in order', () => {
    // prepare
    const events = Array.from({ length: 100 }, (_, i) =>
      event(i, { target: `/dr restore s3 ${'t'.repeat(150)}`, detail: `${i} ${'d'.repeat(200)}`, actor: i % 2 ? 'UBOB' : 'schedule' }),
    );

    // act
    const msg = renderAudit(events, 100);

    // assess
    const bodies = sections(msg.blocks).slice(1).map((s) => s.text?.text ?? '');
    expect(msg.blocks?.length ?? 0).toBeLessThanOrEqual(50);
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) {
      expect(b.length).toBeGreaterThan(0);
      expect(b.length).toBeLessThanOrEqual(3000);
    }
    const lines = bodies.join('\n').split('\n');
    expect(lines).toHaveLength(100);
    expect(lines.map((l) => /— (\d+) /.exec(l)?.[1])).toEqual(events.map((_, i) => String(i)));
    expect(msg.text.length).toBeLessThanOrEqual(11000);
  });

  // Regression: auditLine once cut target and detail before escaping them, so a line could grow
  // five-fold; with 100 such events renderAudit needed 51 blocks, and `blocks.slice(0, 50)` silently
  // dropped the oldest two while the header still said 100 (src/slack/views/audit.ts).
  it('shows as many events as its header claims, even when escaping makes every line long', () => {
    // prepare
    const events = Array.from({ length: 100 }, (_, i) => event(i, { target: `<${'t'.repeat(150)}>`, detail: `${i} ${'&'.repeat(200)}` }));

    // act
    const msg = renderAudit(events, 100);

    // assess
    const [header, ...bodies] = sections(msg.blocks).map((s) => s.text?.text ?? '');
    const claimed = Number(/^\*(\d+) most recent/.exec(header ?? '')?.[1]);
    const shownLines = bodies.join('\n').split('\n');
    expect(msg.blocks?.length ?? 0).toBeLessThanOrEqual(50);
    for (const b of bodies) expect(b.length).toBeLessThanOrEqual(3000);
    expect(shownLines).toHaveLength(claimed);
  });
});

describe('durationLine', () => {
  it('reports waiting for approval and working apart', () => {
    expect(durationLine(27_000, 25_000)).toBe('waited 25 s for approval, then worked 2 s');
    expect(durationLine(3_000)).toBe('took 3 s');
    expect(durationLine(31 * 60_000, 30 * 60_000)).toBe('waited 30 min 0 s for approval, then worked 1 min 0 s');
  });
});
