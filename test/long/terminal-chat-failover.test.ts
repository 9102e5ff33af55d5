import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { AwsClients } from '../../src/aws/clients';
import { SANDBOX_CREDENTIALS } from '../../src/local/moto';
import { zoneRecords } from '../helpers/route53';
import { liveChat, sandboxReady } from '../helpers/terminal';

/**
 * `npm start` as a newcomer fails over (issue 11's done-when): the terminal chat on the sandbox,
 * `/dr failover us-west-2 --dry-run` (readiness), `/dr simulate outage us-east-1`, `/dr failover
 * us-west-2` approved by bob → instances running in us-west-2, DNS switched, the clock and the
 * achieved RTO shown; then the outage ended and `/dr failback` approved → DNS as before. The AWS
 * end state is read through the moto endpoint the ready line names.
 */

const TIMEOUT_MS = 180_000;

describe('npm start: simulate an outage, fail over, fail back', () => {
  it('launches in us-west-2, switches DNS with the clock and achieved RTO shown, and the failback restores DNS', async () => {
    // prepare: the chat, with stdin kept open
    const chat = liveChat(TIMEOUT_MS);
    const { child, exited, type, waitFor } = chat;

    try {
      const { endpoint, zoneId } = await sandboxReady(chat);
      const aws = new AwsClients('us-east-1', { endpoint, credentials: SANDBOX_CREDENTIALS });
      const switched = (m: Map<string, { AliasTarget?: unknown; ResourceRecords?: { Value?: string }[] }>) => [m.get('www.spawn.example.com.|A|'), m.get('api.spawn.example.com.|A|primary')];
      const before = await zoneRecords(aws.route53('us-east-1'), zoneId);

      // act 1: readiness
      type('/as alice');
      let mark = chat.out.length;
      type('/dr failover us-west-2 --dry-run');
      await waitFor(/Dry run — nothing changed: Failover to us-west-2/, () => chat.out, mark);
      const dry = chat.out.slice(mark);

      // act 2: the outage, the failover, alice's refused approval, bob's
      type('/dr simulate outage us-east-1');
      await waitFor(/us-east-1 is down/, () => chat.out, mark);
      mark = chat.out.length;
      type('/dr failover us-west-2');
      type('/press Approve');
      type('/as bob');
      type('/press Approve');
      await waitFor(/(✅ Done|❌ Failed): Failover to us-west-2/, () => chat.out, mark);
      const failover = chat.out.slice(mark);
      const instances = ((await aws.ec2('us-west-2').send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: ['drbot-failover'] }] }))).Reservations ?? []).flatMap((r) => r.Instances ?? []);
      const during = await zoneRecords(aws.route53('us-east-1'), zoneId);

      // act 3: the primary back, the failback
      type('/dr simulate outage us-east-1 --end');
      await waitFor(/us-east-1 answers again/, () => chat.out, mark);
      mark = chat.out.length;
      type('/as alice');
      type('/dr failback');
      type('/as bob');
      type('/press Approve');
      await waitFor(/(✅ Done|❌ Failed): Failback/, () => chat.out, mark);
      const failback = chat.out.slice(mark);
      const after = await zoneRecords(aws.route53('us-east-1'), zoneId);
      child.stdin.end();
      const code = await exited;

      // assess: the readiness
      expect(code).toBe(0);
      expect(dry).toContain('Readiness of a failover to us-west-2');
      expect(dry).toMatch(/🔴 AMI spawn-worker \(ami-[0-9a-f]+\) — no available backup copy in us-west-2/);
      expect(dry).toContain('Estimated RPO:');
      // the failover: plan without the primary, four eyes, the clock, the RTO
      const order = ['alice: /dr failover us-west-2', 'us-east-1 unreachable', 'someone else must approve it (four eyes)', 'Approved by @bob', 'Launched 2 instances in us-west-2', 'Switched 2 records', 'Achieved RTO: T+'];
      let at = 0;
      for (const s of order) {
        const i = failover.indexOf(s, at);
        expect({ s, found: i >= 0 }).toEqual({ s, found: true });
        at = i + s.length;
      }
      expect(failover).toMatch(/Achieved RTO: T\+\d+:\d\d of 1 h ✅ within the objective/);
      expect(failover).toMatch(/✅ Done: Failover to us-west-2/);
      // the clock, updated in place while it ran
      expect(failover).toMatch(/T\+\d+:\d\d of 1 h — (launching|waiting|switching|\d+ of 2 running)/);
      // AWS: two instances running in us-west-2, DNS on their private IPs
      expect(instances.map((i) => i.State?.Name)).toEqual(['running', 'running']);
      const ips = instances.map((i) => i.PrivateIpAddress ?? '').sort();
      for (const r of switched(during)) expect((r?.ResourceRecords ?? []).map((v) => v.Value).sort()).toEqual(ips);
      // the failback: DNS as before
      expect(failback).toMatch(/✅ Done: Failback/);
      expect(failback).toContain('every record holds what it held before the failover');
      expect(failback).toMatch(/\[\d+\] Terminate failover instances/);
      expect(switched(after)).toEqual(switched(before));
      expect((switched(after)[0] as { AliasTarget?: unknown }).AliasTarget).toBeDefined();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, TIMEOUT_MS + 10_000);
});
