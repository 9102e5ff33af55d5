import { BUCKET, chat, expectInOrder, explain, run } from '../helpers/terminal';

/**
 * A long proof (npm run test:long): `npm start` as a newcomer uses it, the terminal chat reading a
 * script from stdin against the sandbox (its own moto), through whole flows: undelete and copy-back
 * with four eyes, an unapproved backup, and /press with two matching buttons.
 */

describe('npm start (terminal chat on the sandbox): whole flows', () => {
  it('undelete: plan with 250, alice’s own approval refused, bob approves, Done with 250 restored and verified, audit lines', async () => {
    // act
    const r = await chat([
      '/as alice',
      `/dr restore s3 ${BUCKET} --dry-run`,
      `/dr restore s3 ${BUCKET}`,
      '/press Approve',
      '/as bob',
      '/press Approve',
      '/dr audit',
    ]);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    expectInOrder(r.stdout, [
      `alice: /dr restore s3 ${BUCKET} --dry-run`,
      '250 deleted objects would be restored',
      'Dry run — nothing changed',
      `alice: /dr restore s3 ${BUCKET}`,
      '250 deleted objects will be restored',
      /\[\d+\] Approve {2}\[\d+\] Reject/,
      'alice: pressed',
      '[drbot → only @alice]',
      'someone else must approve it (four eyes)',
      'bob: pressed',
      'Approved by @bob',
      '✅ Done: Undelete objects in spawn-binaries-us-east-1',
      'Restored 250 objects',
      'Verified by listing: no restorable delete markers remain.',
      /waited \d+ s for approval, then worked \d+ s/,
      'bob: /dr audit',
    ]);
    const audit = r.stdout.slice(r.stdout.lastIndexOf('bob: /dr audit'));
    expect(audit).toMatch(/system result \/dr restore s3 spawn-binaries-us-east-1 → succeeded/);
    expect(audit).toMatch(/@bob approve Undelete objects in spawn-binaries-us-east-1 → approved/);
    expect(audit).toMatch(/@alice click approve ap-[0-9a-f]{12} → refused — own_request/);
    expect(audit).toMatch(/@alice plan \/dr restore s3 spawn-binaries-us-east-1 → ok/);
    expect(audit).toMatch(/→ ok .*dry run: nothing changed/);
  }, 120_000);

  it('copy back from the replica: plan with 250 missing and 5 different, four eyes, Done with 255 copied and verified, audit lines', async () => {
    // act
    const r = await chat([
      '/as alice',
      `/dr restore s3 ${BUCKET} --from-replica --dry-run`,
      `/dr restore s3 ${BUCKET} --from-replica`,
      '/press Approve',
      '/as bob',
      '/press Approve',
      '/dr audit',
    ]);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    expectInOrder(r.stdout, [
      '250 missing and 5 different objects would be copied',
      'Dry run — nothing changed',
      `alice: /dr restore s3 ${BUCKET} --from-replica`,
      '250 missing and 5 different objects will be copied',
      'alice: pressed',
      'someone else must approve it (four eyes)',
      'bob: pressed',
      '✅ Done: Copy back spawn-binaries-us-east-1 from its replica',
      'Copied 255 objects',
      'Verified by listing both buckets: every replica object is present and identical in the primary.',
      'bob: /dr audit',
    ]);
    const audit = r.stdout.slice(r.stdout.lastIndexOf('bob: /dr audit'));
    expect(audit).toMatch(/system result \/dr restore s3 spawn-binaries-us-east-1 --from-replica → succeeded/);
    expect(audit).toMatch(/@bob approve Copy back spawn-binaries-us-east-1 from its replica → approved/);
    expect(audit).toMatch(/@alice click approve ap-[0-9a-f]{12} → refused — own_request/);
  }, 120_000);

  it('backup dynamodb: no approval, every table backed up with its ARN, audit lines', async () => {
    // act
    const r = await chat(['/as alice', '/dr backup dynamodb', '/dr audit']);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    const run = r.stdout.slice(0, r.stdout.indexOf('alice: /dr audit'));
    expect(run).not.toMatch(/\] Approve/);
    expect(run).toContain('3 of 3 backups AVAILABLE');
    for (const table of ['spawn-instances', 'spawn-queues', 'spawn-alerts']) {
      expect(run).toMatch(new RegExp(`${table} AVAILABLE .*\\n +arn:aws:dynamodb:us-east-1:\\d{12}:table/${table}/backup/\\S+`));
    }
    const audit = r.stdout.slice(r.stdout.indexOf('alice: /dr audit'));
    expect(audit).toMatch(/system result \/dr backup dynamodb → succeeded/);
    expect(audit).toMatch(/@alice plan \/dr backup dynamodb → ok/);
  }, 120_000);

  it('/press LABEL with two matching buttons refuses and lists them by number; with one it acts; bare /press and /as print their usage', async () => {
    // act: two runs wait for approval, so "Approve" is ambiguous until one is decided
    const r = await chat([
      '/as alice',
      `/dr restore s3 ${BUCKET}`,
      `/dr restore s3 ${BUCKET} --from-replica`,
      '/as bob',
      '/press Approve',
      '/press 3',
      '/press approve',
      '/press',
      '/as',
    ]);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    expectInOrder(r.stdout, [
      '(you are now bob)',
      '2 buttons are labelled "Approve"; press one by its number:',
      /\/press 1 +Approve — Waiting for approval: Undelete objects in spawn-binaries-us-east-1/,
      /\/press 3 +Approve — Waiting for approval: Copy back spawn-binaries-us-east-1 from its replica/,
      'bob: pressed [3] Approve',
      '✅ Done: Copy back spawn-binaries-us-east-1 from its replica',
      'bob: pressed [1] Approve',
      '✅ Done: Undelete objects in spawn-binaries-us-east-1',
      'Usage: /press N or /press LABEL',
      'Usage: /as NAME',
    ]);
    expect(r.stdout).not.toContain('No button ""');
    expect(r.stdout).not.toContain('No such user ""');
  }, 120_000);

});
