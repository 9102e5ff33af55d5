import { BatchWriteItemCommand, CreateTableCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { startMoto } from './src/local/moto';
import { motoClients } from './test/helpers/moto';
import { diffTables } from './src/runbooks/cutover-dynamodb/diff';
import { mapLimit } from './src/util/limit';
import { allDone, deleteChunk, startCursors, writeChunk } from './src/runbooks/cutover-dynamodb/apply';
const N = Number(process.env.N ?? 20000); const BUDGET = Number(process.env.BUDGET ?? 2000);
(async () => {
  const m = await startMoto();
  const ddb = motoClients(m.endpoint).dynamodb('us-east-1');
  const calls = new Map<string, { n: number; ms: number }>();
  ddb.middlewareStack.add((next, c) => async (a) => { const t = Date.now(); try { return await next(a); } finally { const e = calls.get(c.commandName) ?? { n: 0, ms: 0 }; e.n++; e.ms += Date.now() - t; calls.set(c.commandName, e); } }, { step: 'initialize' });
  const rec = (i: number, v = 'good') => ({ pk: { S: `i-${String(i).padStart(6, '0')}` }, state: { S: 'running' }, cpu: { N: '2' }, version: { S: v } });
  for (const t of ['live', 'restored']) await ddb.send(new CreateTableCommand({ TableName: t, BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }] }));
  const seed = async (table: string, items: any[]) => { const b: WriteRequest[][] = []; for (let i = 0; i < items.length; i += 25) b.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }))); await mapLimit(b, 16, (x) => ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: x } }))); };
  let t = Date.now();
  const good = Array.from({ length: N }, (_, i) => rec(i));
  await Promise.all([seed('restored', good), seed('live', [...good.slice(0, N * 0.05).map((g, i) => rec(i, 'bad')), ...good.slice(N * 0.08), ...Array.from({ length: N * 0.02 }, (_, i) => rec(N + i))])]);
  console.log('seed', Date.now() - t); calls.clear(); t = Date.now();
  const key = [{ name: 'pk', role: 'HASH' as const, type: 'S' }];
  const d = await diffTables(ddb, 'live', 'restored', key, { segments: 4 });
  console.log('diff', Date.now() - t, d.missing, d.different, d.extra, JSON.stringify([...calls])); calls.clear(); t = Date.now();
  const ctx = { ddb, live: 'live', restored: 'restored', key, budget: BUDGET, writeConcurrency: 4 };
  for (const f of [writeChunk, deleteChunk]) {
    let c = startCursors(4); let i = 0; let w = 0;
    while (!allDone(c)) { const r = await f(ctx, c); c = r.cursors; i++; w += r.written + r.deleted; }
    console.log(f.name, i, w, Date.now() - t, JSON.stringify([...calls])); calls.clear(); t = Date.now();
  }
  await m.stop();
})();
