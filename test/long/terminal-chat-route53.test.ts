import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { AwsClients } from '../../src/aws/clients';
import { SANDBOX_ZONE_NAME } from '../../src/local/estate';
import { SANDBOX_CREDENTIALS } from '../../src/local/moto';
import { applyChanges, zoneRecords } from '../helpers/route53';
import { liveChat, sandboxReady } from '../helpers/terminal';

/**
 * `npm start` as a newcomer restores DNS: the terminal chat on the sandbox, `/dr backup route53`,
 * then records changed behind drbot's back (through the moto endpoint the ready line names, as the
 * AWS CLI would), then `/dr restore route53 --latest`, approved by someone else. Lines are typed
 * one at a time, each after the chat has answered the one before.
 */

const TIMEOUT_MS = 150_000;

describe('npm start: back up the zone, change records, restore them', () => {
  it('restores the changed and deleted records from the latest export, approved by bob, verified with 0 differences', async () => {
    // prepare: the chat, with stdin kept open
    const chat = liveChat(TIMEOUT_MS);
    const { child, exited, type, waitFor } = chat;

    try {
      const { endpoint, zoneId } = await sandboxReady(chat);
      const r53 = new AwsClients('us-east-1', { endpoint, credentials: SANDBOX_CREDENTIALS }).route53('us-east-1');

      // act 1: the export
      type('/as alice');
      type('/dr backup route53');
      await waitFor(/Exported \d+ record sets/, () => chat.out);
      const before = await zoneRecords(r53, zoneId);

      // act 2: records changed and deleted behind drbot's back, and one added
      const a = [...before.values()].filter((r) => r.Type === 'A' && /^a-\d+\./.test(r.Name ?? '')).slice(0, 5);
      const changes: Change[] = [
        ...a.slice(0, 3).map((r): Change => ({ Action: 'UPSERT', ResourceRecordSet: { ...r, ResourceRecords: [{ Value: '10.66.6.6' }] } })),
        ...a.slice(3, 5).map((r): Change => ({ Action: 'DELETE', ResourceRecordSet: r })),
        { Action: 'UPSERT', ResourceRecordSet: { Name: `rogue.${SANDBOX_ZONE_NAME}.`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"not ours"' }] } },
      ];
      await applyChanges(r53, zoneId, changes);

      // act 3: the restore, its plan, alice's refused approval, bob's
      const mark = chat.out.length;
      type('/dr restore route53 --latest');
      type('/press Approve');
      type('/as bob');
      type('/press Approve');
      await waitFor(/✅ Done: Restore the Route53 zone from an export/, () => chat.out, mark);
      const after = await zoneRecords(r53, zoneId);
      child.stdin.end();
      const code = await exited;

      // assess: the chat
      expect(code).toBe(0);
      const shown = chat.out.slice(mark);
      const order = [
        'alice: /dr restore route53 --latest',
        '2 to create, 3 to change, 0 to delete',
        'Kept: 1 record set not in the export (--delete-extra deletes it)',
        'someone else must approve it (four eyes)',
        'Approved by @bob',
        'Applied 5 of 5 changes',
        'Verified by listing: the zone equals the export (SOA and apex NS aside): 0 differences.',
      ];
      let at = 0;
      for (const s of order) {
        const i = shown.indexOf(s, at);
        expect({ s, found: i >= 0 }).toEqual({ s, found: true });
        at = i + s.length;
      }
      // assess: the zone, record by record: as exported, plus the kept extra
      for (const r of a) expect(after.get(`${r.Name}|A|`)).toEqual(before.get(`${r.Name}|A|`));
      const rogue = changes[5]?.ResourceRecordSet as ResourceRecordSet;
      expect(after.size).toBe(before.size + 1);
      expect(after.get(`${rogue.Name}|TXT|`)).toBeDefined();
      for (const [k, r] of before) expect({ k, r: after.get(k) }).toEqual({ k, r });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, TIMEOUT_MS + 10_000);
});
