/**
 * The failover state (src/runbooks/failover/state.ts) on its own, in a state table in moto's
 * DynamoDB: what `/dr failover` keeps of the records it switched and `/dr failback` reads to put them
 * back. A lost field is a record the failback cannot restore, so the round trip is asserted whole,
 * record sets of every shape included, and the read is a consistent one (asserted on the input sent:
 * moto has no eventual consistency to show).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { FAILOVER_STATE_KEY, type FailoverState, getFailoverState, putFailoverState } from '../../src/runbooks/failover/state';
import { StateStore } from '../../src/store/state';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { noFailoverRecorded } from '../helpers/failover-state';
import { useMoto } from '../helpers/moto';

const moto = useMoto();
afterEach(undoFaults);
let store: StateStore;

beforeAll(async () => {
  const ddb = moto().clients.dynamodb('us-east-1');
  await StateStore.createTable(ddb, 'drbot-failover-state');
  store = new StateStore(ddb, 'drbot-failover-state');
});
beforeEach(() => noFailoverRecorded(store));

const alias: ResourceRecordSet = { Name: 'api.example.com.', Type: 'A', AliasTarget: { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: 'lb-1.us-east-1.elb.amazonaws.com.', EvaluateTargetHealth: false } };
const weighted: ResourceRecordSet = { Name: 'w.example.com.', Type: 'CNAME', SetIdentifier: 'east', Weight: 0, TTL: 60, ResourceRecords: [{ Value: 'east.example.com' }] };

function state(over: Partial<FailoverState> = {}): FailoverState {
  return {
    runId: 'r-0123456789ab',
    target: 'us-west-2',
    primary: 'us-east-1',
    zoneId: 'Z1',
    at: '2026-12-01T10:15:00.000Z',
    before: [
      { record: { name: 'api.example.com', type: 'A', target: 'private-ip', ttl: 60 }, set: alias },
      { record: { name: 'new.example.com', type: 'A', target: 'private-ip', ttl: 60 } },
      { record: { name: 'w.example.com', type: 'CNAME', target: 'private-ip', ttl: 60 }, set: weighted },
    ],
    after: [{ Name: 'api.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.9.9.9' }] }],
    instances: ['i-0abc', 'i-0def'],
    status: 'switching',
    ...over,
  };
}

describe('the failover state', () => {
  it('none recorded: undefined', async () => {
    // act / assess
    expect(await getFailoverState(store)).toBeUndefined();
  });

  it('read back exactly as written: an alias, a weighted set and a record that was not there keep their shape, no field added', async () => {
    // prepare
    const s = state();

    // act
    await putFailoverState(store, s);
    const back = await getFailoverState(store);

    // assess
    expect(back).toStrictEqual(s);
    expect(back?.before[1]).not.toHaveProperty('set');
    expect(back?.before[0]?.set).not.toHaveProperty('TTL');
  });

  it('one item, FAILOVER/CURRENT: a second write replaces the first, with the run and status beside the document', async () => {
    // prepare
    await putFailoverState(store, state());
    const later = state({ runId: 'r-ba9876543210', status: 'failed-back', failback: { runId: 'r-feedfacecafe', at: '2026-12-02T08:00:00.000Z' }, zoneId: undefined });
    delete later.zoneId;

    // act
    await putFailoverState(store, later);

    // assess
    expect(FAILOVER_STATE_KEY).toEqual({ pk: 'FAILOVER', sk: 'CURRENT' });
    const item = (await store.doc.send(new GetCommand({ TableName: store.tableName, Key: { pk: 'FAILOVER', sk: 'CURRENT' } }))).Item;
    expect(item).toEqual({ pk: 'FAILOVER', sk: 'CURRENT', data: JSON.stringify(later), runId: 'r-ba9876543210', status: 'failed-back' });
    expect(await getFailoverState(store)).toStrictEqual(later);
  });

  it('read consistently: the GetItem asks for a strongly consistent read of that one key', async () => {
    // prepare
    await putFailoverState(store, state());
    const asked: Record<string, unknown>[] = [];
    rewrite(store.doc, 'GetItemCommand', (o: object, input) => (asked.push(input), o));

    // act
    await getFailoverState(store);

    // assess
    expect(asked).toEqual([{ TableName: store.tableName, Key: { pk: 'FAILOVER', sk: 'CURRENT' }, ConsistentRead: true }]);
  });

  it('an item without a document (written by hand, or half a write): no state, not a crash', async () => {
    // prepare
    await store.doc.send(new PutCommand({ TableName: store.tableName, Item: { pk: 'FAILOVER', sk: 'CURRENT', runId: 'r-0123456789ab', data: 5 } }));

    // act / assess
    expect(await getFailoverState(store)).toBeUndefined();
  });

  it("the table refusing a read or a write: DynamoDB's error reaches the runbook", async () => {
    // prepare
    fail(store.doc, 'GetItemCommand', ACCESS_DENIED, { times: 1 });
    fail(store.doc, 'PutItemCommand', ACCESS_DENIED, { times: 1 });

    // act / assess
    await expect(getFailoverState(store)).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(putFailoverState(store, state())).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(await getFailoverState(store)).toBeUndefined();
  });
});
